"""Listeners of a whole orchestrator, and listeners added to its machines with psm's own API."""

from __future__ import annotations

import asyncio
import copy
import pickle
from typing import Any

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import (
    MachineBusyError,
    ObservationNotSupportedError,
    Orchestrator,
    _psm,
)
from statemachines_orchestrator.listeners import ListenerHandle, remove_listener

from .observed import AsyncOrder, AsyncPayment, AsyncShipping, AsyncShop, Shipping, shop


class Recorder:
    """Records what each kind of callback receives."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def after_transition(self, event: str, source: Any, target: Any, orc: Any, field: str) -> None:
        self.calls.append(("after", field, str(event), source.id, target.id, type(orc).__name__))

    def on_enter_state(self, state: Any, field: str) -> None:
        self.calls.append(("enter", field, state.id))

    def after_release(self, orc: Any, field: str, machine: Any) -> None:
        self.calls.append(("after_release", field, machine is orc.shipping))

    def on_enter_authorized(self, field: str, **kwargs: Any) -> None:
        self.calls.append(("on_enter_authorized", field, type(kwargs["orc"]).__name__))


def test_a_listener_hears_every_machine_with_the_orchestrator_and_the_field() -> None:
    s = shop()
    recorder = Recorder()
    handle = s.add_listener(recorder)
    assert isinstance(handle, ListenerHandle)
    s.order.place(amount=30)
    afters = [c for c in recorder.calls if c[0] == "after"]
    assert afters == [
        ("after", "shipping", "release", "waiting", "released", "Shop"),
        ("after", "payment", "authorize", "pending", "authorized", "Shop"),
        ("after", "order", "place", "cart", "placed", "Shop"),
        ("after", "order", "finish", "placed", "finished", "Shop"),
        ("after", "order", "archive", "finished", "archived", "Shop"),
    ]
    assert ("enter", "payment", "authorized") in recorder.calls
    assert ("after_release", "shipping", True) in recorder.calls
    assert ("on_enter_authorized", "payment", "Shop") in recorder.calls


def test_removing_a_listener_by_its_handle() -> None:
    s = shop()
    recorder = Recorder()
    handle = s.add_listener(recorder)
    handle.remove()
    handle.remove()  # twice: nothing
    s.order.place(amount=30)
    assert recorder.calls == []
    assert repr(handle) == f"<ListenerHandle Shop [{recorder!r}]>"


def test_a_handle_is_a_context_manager() -> None:
    s = shop()
    recorder = Recorder()
    with s.add_listener(recorder) as handle:
        s.payment.authorize(amount=0)
    s.payment.retry()
    assert handle.listeners == (recorder,)
    assert [c[2] for c in recorder.calls if c[0] == "after"] == ["authorize"]


def test_removing_one_listener_of_several() -> None:
    s = shop()
    first, second = Recorder(), Recorder()
    s.add_listener(first, second)
    remove_listener(s, first, Recorder())  # an unknown listener is ignored
    s.payment.authorize(amount=0)
    assert first.calls == []
    assert ("after", "payment", "authorize", "pending", "refused", "Shop") in second.calls


def test_removing_from_an_orchestrator_without_listeners_does_nothing() -> None:
    s = shop()
    remove_listener(s, Recorder())
    s.payment.authorize(amount=0)


def test_a_listener_added_twice_hears_once() -> None:
    s = shop()
    recorder = Recorder()
    s.add_listener(recorder, recorder)
    s.add_listener(recorder)
    s.payment.authorize(amount=0)
    assert len([c for c in recorder.calls if c[0] == "after"]) == 1


def test_machines_that_join_later_are_heard_and_those_that_leave_are_not() -> None:
    s = shop()
    recorder = Recorder()
    s.add_listener(recorder)
    old = s.shipping
    s.shipping = Shipping()
    with pytest.raises(RuntimeError):
        s.shipping.crash()
    with pytest.raises(RuntimeError):
        old.crash()
    assert [c for c in recorder.calls if c[0] == "enter"] == []  # crash rolled back
    machines = s.release()
    with pytest.raises(TypeError):  # its own callback asks for orc, which is gone
        machines["payment"].authorize(amount=1)
    assert recorder.calls == []


def test_a_machine_joining_later_hears_later_listeners_and_removal() -> None:
    s = shop()
    recorder = Recorder()
    handle = s.add_listener(recorder)
    s.shipping = Shipping()
    handle.remove()
    with pytest.raises(RuntimeError):
        s.shipping.crash()
    assert recorder.calls == []


def test_the_orchestrator_keyword_follows_orchestrator_name() -> None:
    class Lamp(StateMachine):
        off = State(initial=True)
        on = State()
        toggle = off.to(on) | on.to(off)

    class Room(Orchestrator, orchestrator_name="room"):
        lamp: Lamp

    seen: list[Any] = []

    class Listener:
        def after_toggle(self, room: Any, field: str, orc: Any = None) -> None:
            seen.append((room, field, orc))

    r = Room(Lamp())
    r.add_listener(Listener())
    r.lamp.toggle()
    assert seen == [(r, "lamp", None)]


def test_an_event_argument_named_like_the_injected_keywords_gives_way() -> None:
    s = shop()
    recorder = Recorder()
    s.add_listener(recorder)
    s.payment.authorize(amount=0, field="from the event")
    assert ("after", "payment", "authorize", "pending", "refused", "Shop") in recorder.calls


def test_adding_or_removing_from_a_callback_is_refused() -> None:
    s = shop()
    recorder = Recorder()
    s.add_listener(recorder)

    class Adder:
        def after_transition(self) -> None:
            s.add_listener(Recorder())

    t = shop()

    class Remover:
        def after_transition(self) -> None:
            remove_listener(t, recorder)

    s.payment.add_listener(Adder())
    with pytest.raises(MachineBusyError, match="cannot add a listener"):
        s.payment.authorize(amount=0)
    t.add_listener(recorder)
    t.payment.add_listener(Remover())
    with pytest.raises(MachineBusyError, match="cannot remove a listener"):
        t.payment.authorize(amount=0)


def test_listeners_need_the_internals_they_know(monkeypatch: pytest.MonkeyPatch) -> None:
    s = shop()
    monkeypatch.setattr(_psm, "FAST", False)
    with pytest.raises(ObservationNotSupportedError) as info:
        s.add_listener(Recorder())
    assert str(info.value) == (
        f"Shop: cannot attach listeners: statemachines-orchestrator does not recognise the "
        f"internals of the installed python-statemachine {_psm.VERSION} (None); install a "
        f"supported release (pip install 'python-statemachine>=2.5,<3.3'), or upgrade "
        f"statemachines-orchestrator"
    )


def test_copies_of_an_orchestrator_have_no_listeners() -> None:
    s = shop()
    recorder = Recorder()
    s.add_listener(recorder)
    for twin in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):  # noqa: S301
        twin.order.place(amount=30)
    assert recorder.calls == []


def test_the_machines_own_listeners_are_left_alone() -> None:
    s = shop()
    own, orchestrated = Plain(), Recorder()
    s.payment.add_listener(own)
    handle = s.add_listener(orchestrated)
    handle.remove()
    s.payment.authorize(amount=0)
    assert own.seen == [("authorize", s)]
    assert orchestrated.calls == []


def test_a_listener_with_an_attribute_that_is_no_method() -> None:
    class Flagged(Recorder):
        after_transition_flag = True
        on_exit_state = "not callable"

    s = shop()
    s.add_listener(Flagged())
    s.payment.authorize(amount=0)


def test_async_machines() -> None:
    class AsyncRecorder(Recorder):
        async def after_authorize(self, orc: Any, field: str) -> None:
            self.calls.append(("async after_authorize", field, type(orc).__name__))

    async def run() -> AsyncRecorder:
        s = AsyncShop(AsyncOrder(), AsyncPayment(), AsyncShipping())
        for machine in s.machines.values():
            await machine.activate_initial_state()
        recorder = AsyncRecorder()
        s.add_listener(recorder)
        await s.order.place()
        await asyncio.gather(*s.payment.tasks)
        return recorder

    recorder = asyncio.run(run())
    assert ("async after_authorize", "payment", "AsyncShop") in recorder.calls
    assert sorted(c[1:3] for c in recorder.calls if c[0] == "after") == [
        ("order", "finish"),
        ("order", "place"),
        ("payment", "authorize"),
        ("shipping", "release"),
    ]


# --------------------------------------------------------------------------- psm's add_listener


class Plain:
    """A python-statemachine listener that asks for the orchestrator."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def after_transition(self, event: str, orc: Any = None) -> None:
        self.seen.append((str(event), orc))


def test_a_listener_added_with_psms_own_add_listener_after_joining_receives_the_orchestrator() -> (
    None
):
    s = shop()
    late = Plain()
    s.payment.add_listener(late)
    s.payment.authorize(amount=0)
    assert late.seen == [("authorize", s)]


def test_also_when_the_machine_joined_by_assignment_or_was_built() -> None:
    from statemachines_orchestrator import built

    class Built(Orchestrator):
        shipping: Shipping = built(factory=Shipping)

    b = Built()
    late = Plain()
    b.shipping.add_listener(late)
    with pytest.raises(RuntimeError):
        b.shipping.crash()
    s = shop()
    s.shipping = Shipping()
    s.shipping.add_listener(late)
    with pytest.raises(RuntimeError):
        s.shipping.crash()
    b.shipping.add_listener(other := Plain())
    s.payment.add_listener(other)
    s.payment.authorize(amount=0)
    assert other.seen == [("authorize", s)]


def test_a_listener_added_after_release_does_not_receive_it() -> None:
    class Lamp(StateMachine):
        off = State(initial=True)
        on = State()
        toggle = off.to(on) | on.to(off)

    class Room(Orchestrator):
        lamp: Lamp

    lamp = Room(Lamp()).release()["lamp"]
    assert type(lamp._listeners) is not _psm.OWNED_LISTENERS  # noqa: SLF001
    late = Plain()
    lamp.add_listener(late)
    lamp.toggle()
    assert late.seen == [("toggle", None)]


def test_machines_with_late_listeners_pickle_and_copy() -> None:
    s = shop()
    s.payment.add_listener(Plain())
    for twin in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):  # noqa: S301
        assert type(twin.payment._listeners) is _psm.OWNED_LISTENERS  # noqa: SLF001
        twin.payment.authorize(amount=0)
        own = twin.payment._listeners  # noqa: SLF001 - {listener: None} on 2.x, {id: listener} on 3.x
        listener = next(x for x in [*own, *own.values()] if isinstance(x, Plain))
        assert listener.seen[-1] == ("authorize", twin)
    payment = copy.deepcopy(s.payment)
    assert type(payment._listeners) is not _psm.OWNED_LISTENERS  # noqa: SLF001


def test_a_machines_own_listener_given_to_the_orchestrator_too_gets_the_field() -> None:
    s = shop()
    recorder = Recorder()
    s.payment.add_listener(recorder)  # wired with the orchestrator only
    s.add_listener(recorder)  # now with the field too
    s.payment.authorize(amount=0)
    assert ("after", "payment", "authorize", "pending", "refused", "Shop") in recorder.calls


def test_psms_add_listener_with_nothing_or_once_the_orchestrator_is_gone() -> None:
    import gc

    class Lamp(StateMachine):
        off = State(initial=True)
        on = State()
        toggle = off.to(on) | on.to(off)

    class Room(Orchestrator):
        lamp: Lamp

    lamp = Lamp()
    room = Room(lamp)
    lamp.add_listener()
    del room
    gc.collect()
    late = Plain()
    lamp.add_listener(late)
    lamp.toggle()
    assert late.seen == [("toggle", None)]


def test_an_orchestrator_named_field_cannot_have_listeners() -> None:
    from statemachines_orchestrator import InvalidOrchestratorNameError

    class Lamp(StateMachine):
        off = State(initial=True)
        on = State()
        toggle = off.to(on) | on.to(off)

    class Odd(Orchestrator, orchestrator_name="field"):
        lamp: Lamp

    with pytest.raises(InvalidOrchestratorNameError) as info:
        Odd(Lamp()).add_listener(Recorder())
    assert str(info.value) == (
        "test_an_orchestrator_named_field_cannot_have_listeners.<locals>.Odd: cannot attach "
        "listeners: its orchestrator_name is 'field', the keyword under which listeners "
        "receive the machine's field name; choose another orchestrator_name, such as 'orc'"
    )


def _late_listener_sees(machine: Any, event: str) -> list[tuple[str, Any]]:
    late = Plain()
    machine.add_listener(late)
    machine.send(event)
    return late.seen


def test_members_and_restored_machines_wire_late_listeners_too() -> None:
    """Collection members (built, added, restored) and restored single fields."""
    from . import coordination_machines as cm

    crate = cm.Crate([cm.Item()])
    crate.items.append(cm.Item())
    assert _late_listener_sees(crate.items[0], "ship") == [("ship", crate)]
    assert _late_listener_sees(crate.items[1], "ship") == [("ship", crate)]
    restored = cm.Crate.restore(crate.snapshot())
    assert _late_listener_sees(restored.items[1], "deliver") == [("deliver", restored)]
    depot = cm.Depot({"a": cm.Item()})
    depot.items["b"] = cm.Item()
    assert _late_listener_sees(depot.items["b"], "ship") == [("ship", depot)]
    s = shop()
    saved = s.snapshot()
    for twin in (type(s).restore(saved), type(s).restore(saved, shipping=Shipping())):
        assert _late_listener_sees(twin.payment, "authorize") == [("authorize", twin)]

"""Wiring that waits for a machine's first use (``_psm._deferred``), on every line.

Building an orchestrator leaves the dictionary of executors of a machine's
callback registry pending when the machine's class has a plan (an earlier
machine of the class was wired right away) and, for a class whose callbacks do
not ask for the orchestrator, the machine takes its callbacks from its class
alone; the first use of the registry wires it. These tests pin what users see:
callbacks receive the orchestrator exactly as before, and lifetimes are
unchanged.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import pickle
import threading
import weakref
from collections import defaultdict
from typing import Any

import pytest
from statemachine import State, StateMachine
from statemachine.callbacks import CallbacksRegistry

from statemachines_orchestrator import Orchestrator
from statemachines_orchestrator._psm import _binding, _deferred, _listening, owner_of

from .machines import Pair, Quiet, QuietPair, Quiets, Toggle
from .psm_line import PSM3

pytestmark = pytest.mark.skipif(_deferred.PROBLEM is not None, reason="deferral is off here")


def _planned_pair() -> Pair:
    """A pair whose machines wait: Toggle's plan is made by a first pair."""
    Pair(Toggle(), Toggle())
    return Pair(Toggle(), Toggle())


def _wired(machine: Any) -> list[Any]:
    registry = machine._callbacks._registry  # noqa: SLF001
    return [
        parts
        for executor in dict.values(registry)  # dict's own: does not settle it
        for wrapper in executor
        if (parts := _binding.wired_parts(wrapper._callback)) is not None  # noqa: SLF001
    ]


def test_a_pending_machine_is_wired_on_its_first_event() -> None:
    """The first event wires the registry, which is python-statemachine's own class again."""
    pair = _planned_pair()
    assert _deferred.is_pending(pair.left)
    assert _wired(pair.left) == []
    pair.left.switch()
    assert pair.left.seen == [pair]
    assert not _deferred.is_pending(pair.left)
    assert type(pair.left._callbacks) is CallbacksRegistry  # noqa: SLF001
    assert type(pair.left._callbacks._registry) is defaultdict  # noqa: SLF001
    assert all(parts[2] is pair for parts in _wired(pair.left))
    assert _deferred.is_pending(pair.right)  # each registry settles on its own use


def test_reading_the_ownership_mark_does_not_settle() -> None:
    """Ownership checks read the registry's dict: the machine stays pending."""
    pair = _planned_pair()
    assert owner_of(pair.left) is pair
    assert repr(pair)  # reads states only
    assert _deferred.is_pending(pair.left)


def test_any_use_of_the_registry_settles_it() -> None:
    """python-statemachine's ways into the dictionary (``[]``, ``in``, ``values()``) settle it."""
    pair = _planned_pair()
    key = next(iter(pair.left._callbacks._registry))  # noqa: SLF001 - iterating keys does not
    assert _deferred.is_pending(pair.left)
    assert pair.left._callbacks[key] is not None  # noqa: SLF001
    assert not _deferred.is_pending(pair.left)
    assert "nothing" not in pair.right._callbacks._registry  # noqa: SLF001
    assert not _deferred.is_pending(pair.right)
    assert _wired(pair.left)
    assert _wired(pair.right)
    third = _planned_pair().left
    assert list(third._callbacks._registry.values())  # noqa: SLF001
    assert not _deferred.is_pending(third)


def test_a_pending_machine_adds_nothing_to_python_statemachines_objects() -> None:
    """The registry object keeps its attributes; the pending dictionary adds two slots only."""
    pair = _planned_pair()
    callbacks = pair.left._callbacks  # noqa: SLF001
    assert set(vars(callbacks)) == set(vars(CallbacksRegistry()))
    pending = callbacks._registry  # noqa: SLF001
    assert type(pending) is _deferred.PendingRegistry
    assert not hasattr(pending, "__dict__")
    assert pending.machine is pair.left
    assert pending.orc is pair


@pytest.mark.skipif(not PSM3, reason="the registry answers `in` from 3.0")
def test_membership_settles_the_registry() -> None:
    """``key in machine._callbacks`` (3.x engines ask it) settles it too."""
    pair = _planned_pair()
    assert "nothing" not in pair.left._callbacks  # noqa: SLF001
    assert not _deferred.is_pending(pair.left)


def test_the_first_machine_of_a_class_is_wired_at_once() -> None:
    """With no plan yet for its class, a machine is wired while the orchestrator is built."""

    class Fresh(StateMachine):
        a = State(initial=True)
        b = State()
        go = a.to(b) | b.to(a)

        def on_go(self, orc: Any) -> None:
            self.got = orc

    class Duo(Orchestrator):
        first: Fresh
        second: Fresh

    duo = Duo(Fresh(), Fresh())
    assert not _deferred.is_pending(duo.first)  # it made the plan
    assert _deferred.is_pending(duo.second)  # it used it
    assert _wired(duo.first)
    duo.second.go()
    assert duo.second.got is duo


def test_a_pending_machine_keeps_its_orchestrator_alive() -> None:
    """As a wired machine does: the orchestrator of a machine whose callbacks take it lives on."""
    Pair(Toggle(), Toggle())
    left = Pair(Toggle(), Toggle()).left
    gc.collect()
    assert _deferred.is_pending(left)
    left.switch()
    assert isinstance(left.seen[0], Pair)
    assert owner_of(left) is left.seen[0]


def test_machines_that_do_not_ask_leave_their_orchestrator_free() -> None:
    """Pending without a holder: once the orchestrator is collected the machines are free."""
    QuietPair(Quiet(), Quiet())
    one, two = Quiet(), Quiet()
    quiet = QuietPair(one, two)
    assert _deferred.is_pending(one)
    collected = weakref.ref(quiet)
    del quiet
    gc.collect()
    assert collected() is None
    assert owner_of(one) is None
    again = QuietPair(one, two)
    one.go()
    assert one.left_from == "a"
    assert owner_of(one) is again


class _Heard:
    def __init__(self) -> None:
        self.got: list[Any] = []

    def after_switch(self, orc: Any) -> None:
        self.got.append(orc)

    def after_go(self, orc: Any) -> None:
        self.got.append(orc)


class _Model:
    state: Any = None


def test_machines_of_a_class_that_asks_wait_whatever_their_listeners_and_model() -> None:
    """Their class's callbacks ask: the orchestrator is held, and settling wires everything."""
    Pair(Toggle(), Toggle())
    heard = _Heard()
    with_listener = Toggle(listeners=[heard])
    with_model = Toggle(model=_Model())
    pair = Pair(with_listener, with_model)
    assert _deferred.is_pending(with_listener)
    assert _deferred.is_pending(with_model)
    with_listener.switch()
    with_model.switch()
    assert heard.got == [pair]
    assert with_listener.seen == [pair]
    assert with_model.seen == [pair]


def test_machines_of_a_quiet_class_with_listeners_or_a_model_are_wired_at_once() -> None:
    """A class that does not ask says nothing of callbacks from elsewhere: no plan applies."""
    QuietPair(Quiet(), Quiet())
    heard = _Heard()
    with_listener = Quiet(listeners=[heard])
    with_model = Quiet(model=_Model())
    pair = QuietPair(with_listener, with_model)
    assert not _deferred.is_pending(with_listener)
    assert not _deferred.is_pending(with_model)
    with_listener.go()
    assert heard.got == [pair]


def test_release_leaves_a_pending_machine_unwired() -> None:
    """Released before its first use, a machine's callbacks never receive the orchestrator."""
    pair = _planned_pair()
    left = pair.left
    pair.release()
    assert not _deferred.is_pending(left)
    assert type(left._callbacks._registry) is defaultdict  # noqa: SLF001
    left.switch()
    assert left.seen == [None]
    assert _wired(left) == []


def test_a_listener_added_to_a_pending_machine_receives_the_orchestrator() -> None:
    """python-statemachine's own ``add_listener()`` on a machine that has not run yet."""

    class Heard:
        def __init__(self) -> None:
            self.got: list[Any] = []

        def after_switch(self, orc: Any) -> None:
            self.got.append(orc)

    pair = _planned_pair()
    heard = Heard()
    pair.left.add_listener(heard)
    pair.left.switch()
    assert heard.got == [pair]
    assert pair.left.seen == [pair]


def test_an_orchestrator_listener_on_pending_machines() -> None:
    """``orc.add_listener`` reaches pending machines, and their own callbacks still get it."""
    got: list[tuple[Any, str]] = []

    class Listener:
        def after_switch(self, orc: Any, field: str) -> None:
            got.append((orc, field))

    pair = _planned_pair()
    pair.add_listener(Listener())
    pair.right.switch()
    assert got == [(pair, "right")]
    assert pair.right.seen == [pair]


class Lamps(Orchestrator):
    """A list of toggles."""

    lamps: list[Toggle]


def test_collection_members_wait_and_answer_a_broadcast() -> None:
    """Members, those given and those appended later, wait; ``send`` wires each."""
    Lamps([Toggle()])
    lamps = Lamps([Toggle(), Toggle()])
    lamps.lamps.append(Toggle())
    assert all(_deferred.is_pending(lamp) for lamp in lamps.lamps)
    lamps.send("switch")
    assert [lamp.seen for lamp in lamps.lamps] == [[lamps]] * 3
    removed = lamps.lamps.pop()
    assert not _deferred.is_pending(removed)
    removed.switch()
    assert removed.seen == [lamps, None]


def test_a_member_left_pending_by_a_collected_orchestrator_joins_another() -> None:
    """Its dictionary is still pending: claimed and wired for the new orchestrator."""
    Quiets([Quiet()])
    kept = Quiet()
    gone = weakref.ref(Quiets([kept]))
    gc.collect()
    assert gone() is None
    assert _deferred.is_pending(kept)
    again = Quiets([Quiet(), kept])
    assert owner_of(kept) is again
    assert not _deferred.is_pending(kept)
    kept.go()
    assert kept.left_from == "a"


class Both(StateMachine):
    """An action that asks for ``coordinator``, not for ``orc``."""

    a = State(initial=True)
    b = State()
    go = a.to(b) | b.to(a)

    def __init__(self) -> None:
        self.got: list[Any] = []
        super().__init__()

    def on_go(self, coordinator: Any = None) -> None:
        self.got.append(coordinator)


class ByOrc(Orchestrator):
    """Injects under ``orc``: nothing of :class:`Both` asks for it."""

    both: Both


class ByCoordinator(Orchestrator, orchestrator_name="coordinator"):
    """Injects under ``coordinator``."""

    both: Both


def test_plans_are_kept_per_keyword() -> None:
    """The same class asks for one orchestrator's keyword and not for another's."""
    ByOrc(Both())
    ByCoordinator(Both())
    quiet = Both()
    held = Both()
    by_orc = weakref.ref(ByOrc(quiet))
    by_coordinator = weakref.ref(ByCoordinator(held))
    gc.collect()
    assert by_orc() is None
    assert isinstance(by_coordinator(), ByCoordinator)
    held.go()
    quiet.go()
    assert held.got == [by_coordinator()]
    assert quiet.got == [None]


class Guarded(StateMachine):
    """The orchestrator is asked for only inside a guard expression."""

    a = State(initial=True)
    b = State()
    go = a.to(b, cond="ready and not blocked") | b.to(a)

    def ready(self, orc: Any) -> bool:
        self.asked = orc
        return True

    def blocked(self) -> bool:
        return False


class GuardedSolo(Orchestrator):
    """One guarded machine."""

    guarded: Guarded


def test_a_guard_expression_that_asks_keeps_the_orchestrator_alive() -> None:
    """The plan sees callbacks inside boolean guard expressions."""
    GuardedSolo(Guarded())
    machine = Guarded()
    solo = weakref.ref(GuardedSolo(machine))
    gc.collect()
    assert _deferred.is_pending(machine)
    machine.go()
    assert machine.asked is solo()
    assert isinstance(machine.asked, GuardedSolo)


class QuietlyGuarded(StateMachine):
    """A guard expression whose callbacks do not ask for the orchestrator."""

    a = State(initial=True)
    b = State()
    go = a.to(b, cond="ready and not blocked") | b.to(a)

    def ready(self) -> bool:
        return True

    def blocked(self) -> bool:
        return False

    def on_enter_b(self) -> None:
        self.entered = True


class QuietlyGuardedSolo(Orchestrator):
    """One quietly guarded machine."""

    guarded: QuietlyGuarded


def test_a_guard_expression_that_does_not_ask_leaves_the_orchestrator_free() -> None:
    """The plan looks inside guard expressions and finds nothing that asks."""
    QuietlyGuardedSolo(QuietlyGuarded())
    machine = QuietlyGuarded()
    solo = weakref.ref(QuietlyGuardedSolo(machine))
    assert _deferred.is_pending(machine)
    gc.collect()
    assert solo() is None
    machine.go()
    assert machine.entered


def test_a_listener_added_to_a_pending_quiet_machine_receives_the_orchestrator() -> None:
    """Settled for its live orchestrator, found through its ownership mark."""
    QuietPair(Quiet(), Quiet())
    pair = QuietPair(Quiet(), Quiet())
    assert _deferred.is_pending(pair.one)
    heard = _Heard()
    pair.one.add_listener(heard)
    pair.one.go()
    assert heard.got == [pair]
    _listening.own_recorded(pair.one)  # owned already: nothing changes
    pair.one.go()
    assert heard.got == [pair, pair]


@pytest.mark.usefixtures("eager_wiring")
def test_nothing_is_deferred_when_the_registry_is_not_recognised() -> None:
    """With ``_deferred.PROBLEM`` set, every machine is wired while its orchestrator is built."""
    Pair(Toggle(), Toggle())
    assert not _deferred.plans("orc")
    pair = Pair(Toggle(), Toggle())
    assert not _deferred.is_pending(pair.left)
    assert _wired(pair.left)


def test_two_threads_settling_one_registry_wire_it_once() -> None:
    """Settling is safe to race: each callback ends up wired once, for its orchestrator."""
    pair = _planned_pair()
    pending = pair.left._callbacks._registry  # noqa: SLF001
    barrier = threading.Barrier(2)

    def settle() -> None:
        barrier.wait()
        _deferred.settle(pending)

    threads = [threading.Thread(target=settle) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pair.left.switch()
    assert pair.left.seen == [pair]
    assert not _deferred.is_pending(pair.left)


def test_copies_of_pending_machines_are_wired_for_the_copy() -> None:
    """Copying or pickling an orchestrator whose machines wait gives a working copy."""
    pair = _planned_pair()
    for clone in (copy.deepcopy(pair), pickle.loads(pickle.dumps(pair))):  # noqa: S301
        clone.left.switch()
        assert clone.left.seen == [clone]
        assert owner_of(clone.left) is clone
    pair.left.switch()  # copying may have settled it (3.x reads it): still its own
    assert pair.left.seen == [pair]


class AsyncToggle(StateMachine):
    """An async action that asks for the orchestrator."""

    off = State(initial=True)
    on = State()
    switch = off.to(on) | on.to(off)

    def __init__(self) -> None:
        self.seen: list[Any] = []
        super().__init__()

    async def after_switch(self, orc: Any) -> None:
        self.seen.append(orc)


class AsyncPair(Orchestrator):
    """Two async toggles."""

    left: AsyncToggle
    right: AsyncToggle


def test_an_async_pending_machine_is_wired_on_its_first_event() -> None:
    """The async engine reaches the registry the same way."""

    async def scenario() -> AsyncPair:
        AsyncPair(AsyncToggle(), AsyncToggle())
        pair = AsyncPair(AsyncToggle(), AsyncToggle())
        assert _deferred.is_pending(pair.left)
        for machine in pair.machines.values():
            await machine.activate_initial_state()
        await pair.left.switch()
        return pair

    pair = asyncio.run(scenario())
    assert pair.left.seen == [pair]
    assert not _deferred.is_pending(pair.left)


def test_a_machine_left_by_a_collected_orchestrator_settles_unwired() -> None:
    """Its first use finds no orchestrator to wire it for, and the machine runs as it is."""
    QuietPair(Quiet(), Quiet())
    one = Quiet()
    quiet = weakref.ref(QuietPair(one, Quiet()))
    gc.collect()
    assert quiet() is None
    assert _deferred.is_pending(one)
    one.go()
    assert one.left_from == "a"
    assert not _deferred.is_pending(one)
    assert _wired(one) == []


def test_a_registry_of_another_shape_turns_deferral_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check made at import: a dictionary of executors that is not a defaultdict."""
    from statemachine import callbacks

    class Custom(CallbacksRegistry):
        def __init__(self) -> None:
            super().__init__()
            self._registry: Any = dict(self._registry)

    monkeypatch.setattr(callbacks, "CallbacksRegistry", Custom)
    *_classes, problem = _deferred._shape()  # noqa: SLF001
    assert problem == "CallbacksRegistry._registry is a dict, not a defaultdict"
    monkeypatch.setattr(callbacks, "CallbacksRegistry", None)
    *_classes, problem = _deferred._shape()  # noqa: SLF001
    assert problem is not None
    assert problem.startswith("TypeError")


def test_cancel_and_settle_leave_other_registries_alone() -> None:
    """Nothing to do for a machine that is not pending, or a registry settled meanwhile."""
    machine = Toggle()
    _deferred.cancel(machine)
    assert type(machine._callbacks._registry) is defaultdict  # noqa: SLF001
    pair = _planned_pair()
    pending = pair.left._callbacks._registry  # noqa: SLF001
    settled = _deferred.settle(pending)
    assert _deferred.settle(pending) is settled

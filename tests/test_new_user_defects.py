"""Regression tests for the defects found by trying the library as a new user would."""

from __future__ import annotations

import asyncio
import gc
import inspect
import pickle
import sys
import threading
import traceback
import weakref
from typing import Any

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import (
    CallbackSignatureError,
    InvalidMachineFieldError,
    MachineAlreadyOrchestratedError,
    MachineBusyError,
    MachineTypeMismatchError,
    Orchestrator,
    built,
)
from statemachines_orchestrator._psm import owner_of

from .machines import Pair, Toggle


class Parent(Orchestrator):
    """A parent orchestrator with one required field."""

    a: Toggle


class ChildBuildsB(Parent):
    """A subclass adding a built field, with its own ``__init__``."""

    b: Toggle = built(factory=Toggle)

    def __init__(self) -> None:
        super().__init__(Toggle())


class ChildNeedsB(Parent):
    """A subclass adding a required field, with its own ``__init__``."""

    b: Toggle

    def __init__(self) -> None:
        super().__init__(Toggle())


class ChildThroughOrchestratorInit(Parent):
    """The documented way to pass a subclass's own fields from its ``__init__``."""

    b: Toggle

    def __init__(self, b: Toggle) -> None:
        Orchestrator.__init__(self, a=Toggle(), b=b)


def test_super_init_from_a_subclass_builds_its_built_fields() -> None:
    """``super().__init__(...)`` constructs the subclass's own built() fields too."""
    child = ChildBuildsB()
    assert list(child.machines) == ["a", "b"]
    child.b.switch()
    assert child.b.seen == [child]


def test_super_init_from_a_subclass_with_a_required_field_says_what_to_call() -> None:
    """A required subclass field that ``super().__init__`` cannot take is a clear error."""
    with pytest.raises(InvalidMachineFieldError) as info:
        ChildNeedsB()
    assert str(info.value) == (
        "ChildNeedsB.__init__ called Parent.__init__, which takes only Parent's fields, but "
        "ChildNeedsB also requires 'b': call Orchestrator.__init__(self, ...) with every field "
        "of ChildNeedsB instead (it runs ChildNeedsB's generated __init__), or give those "
        "fields a built() default"
    )


def test_orchestrator_init_takes_every_field_of_the_subclass() -> None:
    """``Orchestrator.__init__(self, ...)`` runs the subclass's own generated ``__init__``."""
    b = Toggle()
    child = ChildThroughOrchestratorInit(b)
    assert child.b is b
    assert owner_of(b) is child


class Versioned(Orchestrator):
    """Pickled, then redefined under the same name."""

    left: Toggle
    right: Toggle


def _unpickle_as(data: bytes, replacement: type[Orchestrator]) -> Any:
    module = sys.modules[__name__]
    original = module.Versioned  # type: ignore[attr-defined]
    module.Versioned = replacement  # type: ignore[attr-defined]
    try:
        return pickle.loads(data)  # noqa: S301 - our own data
    finally:
        module.Versioned = original  # type: ignore[attr-defined]


def test_unpickling_into_a_changed_class_names_missing_and_unknown_fields() -> None:
    """A field renamed since pickling: refused, naming the missing and the unknown fields."""
    data = pickle.dumps(Versioned(Toggle(), Toggle()))

    class Renamed(Orchestrator):
        left: Toggle
        middle: Toggle

    Renamed.__qualname__ = Renamed.__name__ = "Versioned"
    Renamed.__module__ = __name__
    with pytest.raises(InvalidMachineFieldError) as info:
        _unpickle_as(data, Renamed)
    assert str(info.value) == (
        "cannot unpickle a Versioned: the saved orchestrator lacks the machine fields "
        "'middle' and holds machines for 'right', no field of it (was the class changed since "
        "it was pickled?); unpickle it with the class it was saved with, or give new fields a "
        "built() default"
    )


def test_unpickling_into_a_class_with_a_new_built_field_builds_it() -> None:
    """A field added since pickling with a built() default is built, not refused."""
    data = pickle.dumps(Versioned(Toggle(), Toggle()))

    class Grown(Orchestrator):
        left: Toggle
        right: Toggle
        extra: Toggle = built(factory=Toggle)

    Grown.__qualname__ = Grown.__name__ = "Versioned"
    Grown.__module__ = __name__
    restored = _unpickle_as(data, Grown)
    assert list(restored.machines) == ["left", "right", "extra"]
    restored.extra.switch()
    assert restored.extra.seen == [restored]


def test_two_threads_cannot_both_own_one_machine() -> None:
    """Building orchestrators around one machine in racing threads: exactly one wins."""
    trials = 300
    for _ in range(trials):
        machine = Toggle()
        barrier = threading.Barrier(2)
        winners: list[Pair] = []
        refused: list[BaseException] = []

        def build(
            machine: Toggle = machine,
            barrier: threading.Barrier = barrier,
            winners: list[Pair] = winners,
            refused: list[BaseException] = refused,
        ) -> None:
            other = Toggle()
            barrier.wait()
            try:
                winners.append(Pair(machine, other))
            except MachineAlreadyOrchestratedError as exc:
                refused.append(exc)

        threads = [threading.Thread(target=build) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(winners) == 1, winners
        assert len(refused) == 1
        assert owner_of(machine) is winners[0]
        machine.switch()
        assert machine.seen[-1] is winners[0]


class CustomInit(StateMachine):
    """A machine class whose ``__init__`` takes no extra keyword arguments."""

    idle = State(initial=True)
    busy = State(final=True)
    start = idle.to(busy)

    def __init__(self, model: Any = None) -> None:
        self.greeted: list[Any] = []
        super().__init__(model)

    def on_enter_idle(self, orc: Any = None) -> None:
        self.greeted.append(orc)


def test_built_machine_class_with_its_own_init_gets_the_orchestrator() -> None:
    """``built(factory=CustomInit)`` works alike on every line: initial callbacks get it."""

    class Office(Orchestrator):
        worker: CustomInit = built(factory=CustomInit)

    office = Office()
    assert office.worker.greeted == [office]


def test_positional_only_orchestrator_parameter_fails_when_wired() -> None:
    """``def on_go(self, orc, /)`` is a clear error when the machine joins, not at each event."""

    class Strict(StateMachine):
        a = State(initial=True)
        b = State(final=True)
        go = a.to(b)

        def on_go(self, orc: Any, /) -> None:
            pass

    class Solo(Orchestrator):
        strict: Strict

    machine = Strict()
    with pytest.raises(CallbackSignatureError) as info:
        Solo(machine)
    assert str(info.value) == (
        "test_positional_only_orchestrator_parameter_fails_when_wired.<locals>.Strict.on_go() "
        "declares 'orc' as a positional-only parameter (before '/'), but the orchestrator is "
        "passed by keyword; move 'orc' after the '/'"
    )
    assert owner_of(machine) is None


class Amount(StateMachine):
    """Takes an amount as a positional event argument."""

    due = State(initial=True)
    paid = State(final=True)
    pay = due.to(paid)

    def __init__(self) -> None:
        self.paid_with: list[tuple[Any, Any]] = []
        super().__init__()

    def on_pay(self, total: int, orc: Any) -> None:
        self.paid_with.append((total, orc))


def test_positional_event_arguments_bind_before_the_orchestrator() -> None:
    """``pay(120)`` fills ``total``; ``orc``, declared after it, still gets the orchestrator."""

    class Till(Orchestrator):
        amount: Amount

    till = Till(Amount())
    till.amount.pay(120)
    assert till.amount.paid_with == [(120, till)]


class SelfReleasing(StateMachine):
    """Releases or replaces itself from its own callback."""

    a = State(initial=True)
    b = State(final=True)
    release_me = a.to(b)
    replace_me = a.to(b)

    def on_release_me(self, orc: Any) -> None:
        orc.release()

    def on_replace_me(self, orc: Any) -> None:
        orc.machine = SelfReleasing()


class Holder(Orchestrator):
    """Holds one self-releasing machine."""

    machine: SelfReleasing


@pytest.mark.parametrize(
    ("event", "action"), [("release_me", "release()"), ("replace_me", "replace machine 'machine'")]
)
def test_release_or_replace_from_the_machines_own_callback_is_refused(
    event: str, action: str
) -> None:
    """Unwiring a machine in the middle of its own step is a clear error; nothing changes."""
    holder = Holder(SelfReleasing())
    machine = holder.machine
    with pytest.raises(MachineBusyError) as info:
        machine.send(event)
    assert str(info.value) == (
        f"Holder: cannot {action} while machine 'machine' is processing an event (called "
        f"from one of its callbacks, or from another thread); do it after the event, e.g. from "
        f"the code that sent it"
    )
    assert holder.machine is machine
    assert owner_of(machine) is holder


def test_a_redefined_machine_class_is_told_apart() -> None:
    """A class redefined after the orchestrator (a notebook, a reload): module and id shown."""

    def define() -> type[StateMachine]:
        class Lamp(StateMachine):
            off = State(initial=True)
            on = State()
            switch = off.to(on) | on.to(off)

        return Lamp

    old, new = define(), define()

    class Room(Orchestrator):
        lamp: old  # type: ignore[valid-type]

    with pytest.raises(MachineTypeMismatchError) as info:
        Room(new())
    message = str(info.value)
    assert f"(module {__name__}, id {id(old):#x})" in message
    assert f"(module {__name__}, id {id(new):#x})" in message
    assert "got an instance of another class of the same name" in message
    assert f"probably defined again after {Room.__qualname__} was: " in message


def test_a_wired_machine_keeps_its_orchestrator_alive_until_released() -> None:
    """Dropping the orchestrator does not free a machine that lives on: release() does."""
    machine = Toggle()
    first = Pair(machine, Toggle())
    first_ref = weakref.ref(first)
    del first
    gc.collect()
    assert owner_of(machine) is first_ref()  # its callbacks hold the orchestrator
    first_ref().release()  # type: ignore[union-attr]
    gc.collect()
    assert first_ref() is None
    assert owner_of(machine) is None
    second = Pair(machine, Toggle())
    assert owner_of(machine) is second


def test_an_orchestrator_and_its_machines_are_collected_together() -> None:
    """No reference outlives them: nothing global keeps a dropped orchestrator."""
    pair = Pair(Toggle(), Toggle())
    refs = [weakref.ref(pair), weakref.ref(pair.left), weakref.ref(pair.right)]
    del pair
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None]


def test_assigning_after_release_fills_only_that_field() -> None:
    """A released orchestrator takes machines again one field at a time."""
    pair = Pair(Toggle(), Toggle())
    pair.release()
    pair.left = Toggle()
    assert list(pair.machines) == ["left"]
    assert repr(pair) == "Pair(left=<Toggle: 'off'>)"


def test_generated_init_shows_in_tracebacks_and_getsource() -> None:
    """The generated ``__init__`` has a file name naming its class, and source lines."""
    source = inspect.getsource(Pair.__init__)
    assert source.startswith("def __init__(self, left, right):")
    filename = Pair.__init__.__code__.co_filename
    assert filename.startswith(
        "<statemachines_orchestrator generated __init__ tests.machines.Pair"
    )
    other = Pair.__init__.__code__.co_filename
    assert other == filename
    try:
        Pair(Toggle(), "not a machine")  # type: ignore[arg-type]
    except MachineTypeMismatchError as exc:
        frames = traceback.extract_tb(exc.__traceback__)
    generated = [f for f in frames if f.filename == filename]
    assert generated
    assert generated[0].line
    assert generated[0].line.strip().startswith("_orc_setup(self")


def test_each_class_gets_its_own_generated_file_name() -> None:
    """Two classes of one name do not share a file name."""

    def define() -> type[Orchestrator]:
        class Same(Orchestrator):
            machine: Toggle

        return Same

    first, second = define(), define()
    assert first.__init__.__code__.co_filename != second.__init__.__code__.co_filename


class Link(StateMachine):
    """Passes a baton to the next machine of a chain."""

    idle = State(initial=True)
    done = State(final=True)
    baton = idle.to(done)

    def after_baton(self, orc: Any, position: int) -> None:
        following = f"m{position + 1}"
        if following in orc.machines:
            orc.machines[following].baton(position=position + 1)


def _chain(length: int) -> Orchestrator:
    annotations = {f"m{i}": Link for i in range(length)}
    chain = type("Chain", (Orchestrator,), {"__annotations__": annotations})
    return chain(*(Link() for _ in range(length)))  # type: ignore[no-any-return]


def test_a_chain_of_idle_machines_calling_each_other_is_python_recursion() -> None:
    """Each idle machine runs the event it is sent at once, inside the sender's callback."""
    short = _chain(5)
    short.machines["m0"].baton(position=0)
    assert [m.current_state_value for m in short.machines.values()] == ["done"] * 5
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        long = _chain(60)
        with pytest.raises(RecursionError):
            long.machines["m0"].baton(position=0)
    finally:
        sys.setrecursionlimit(limit)


class Sender(StateMachine):
    """Sends ``tick`` to its peer from an async callback."""

    a = State(initial=True)
    b = State()
    go = a.to(b) | b.to(a)

    async def after_go(self, orc: Any) -> None:
        await orc.receiver.send("tick")


class Receiver(StateMachine):
    """Holds an event for long; records what ran."""

    x = State(initial=True)
    y = State()
    hold = x.to(x)
    tick = x.to(y) | y.to(x)
    nudge = x.to(x) | y.to(y)

    def __init__(self) -> None:
        self.ran: list[tuple[str, Any]] = []
        super().__init__()

    async def on_hold(self) -> None:
        await asyncio.sleep(10)

    async def on_tick(self, orc: Any) -> None:
        self.ran.append(("tick", orc))

    async def on_nudge(self) -> None:
        self.ran.append(("nudge", None))


class Duo(Orchestrator):
    """A sender and a receiver."""

    sender: Sender
    receiver: Receiver


def test_cancelled_async_event_leaves_queued_events_for_the_next_one() -> None:
    """A task cancelled mid-event: what others queued on its machine runs at its next event."""

    async def scenario() -> tuple[Duo, list[Any]]:
        duo = Duo(Sender(), Receiver())
        await duo.sender.activate_initial_state()
        await duo.receiver.activate_initial_state()
        holding = asyncio.ensure_future(duo.receiver.hold())
        await asyncio.sleep(0.01)
        await duo.sender.go()  # the receiver is busy: tick is queued
        holding.cancel()
        with pytest.raises(asyncio.CancelledError):
            await holding
        await asyncio.sleep(0.01)
        before = list(duo.receiver.ran)
        await duo.receiver.nudge()
        return duo, before

    duo, before = asyncio.run(scenario())
    assert before == []
    assert duo.receiver.ran == [("tick", duo), ("nudge", None)]
    assert duo.receiver.current_state_value == "y"

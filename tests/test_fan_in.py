"""Fan-in: an event sent when a group of machines all reach a state, without polling."""

from __future__ import annotations

import asyncio
import copy
import pickle
import sys
from typing import Any

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import InvalidFanInError, Orchestrator, built
from statemachines_orchestrator._fan_in import WATCHER
from statemachines_orchestrator.coordination import FanIn, when_all

from .coordination_machines import Item, Order, Shipment, state_of


def test_fires_once_when_the_last_member_arrives() -> None:
    """The order finishes when the last item ships, and only then."""
    shipment = Shipment(Order(), [Item(), Item()])
    shipment.items[0].ship()
    assert state_of(shipment.order) == "waiting"
    shipment.items[1].ship()
    assert state_of(shipment.order) == "complete"
    assert shipment.order.completions == 1
    shipment.items[1].ship()  # a self-transition: still all shipped, nothing new fires
    assert shipment.order.completions == 1


def test_members_added_while_open() -> None:
    """Members added later join the group; an empty group never fires."""
    shipment = Shipment(Order())
    shipment.items.append(Item())
    shipment.items[0].ship()
    assert state_of(shipment.order) == "complete"


def test_adding_an_unfinished_member_holds_it_back() -> None:
    """A member added before the last one ships delays the fan-in until it ships too."""
    shipment = Shipment(Order(), [Item()])
    shipment.items.append(Item())
    shipment.items[0].ship()
    assert state_of(shipment.order) == "waiting"
    shipment.items[1].ship()
    assert state_of(shipment.order) == "complete"


def test_removing_the_last_unfinished_member_fires() -> None:
    """Removing the member everyone waited for makes the condition true: it fires."""
    shipment = Shipment(Order(), [Item(), Item()])
    shipment.items[0].ship()
    late = shipment.items.pop()
    assert state_of(shipment.order) == "complete"
    late.ship()  # no longer a member: its listener is idle
    assert shipment.order.completions == 1


def test_condition_true_at_construction_does_not_fire() -> None:
    """Only a change fires: members that all shipped before the orchestrator was built don't."""
    item = Item()
    item.ship()
    shipment = Shipment(Order(), [item])
    assert state_of(shipment.order) == "waiting"


def test_fires_again_after_becoming_false() -> None:
    """A fan-in fires each time its condition becomes true."""

    class Toggle(StateMachine):
        off = State(initial=True)
        on = State()
        flip = off.to(on) | on.to(off)

    class Counter(StateMachine):
        idle = State(initial=True)
        bump = idle.to.itself()

        def __init__(self) -> None:
            self.count = 0
            super().__init__()

        def on_bump(self) -> None:
            self.count += 1

    class Board(Orchestrator):
        counter: Counter
        lights: dict[str, Toggle]
        all_on = when_all("lights", "on", send=("counter", "bump"))

    board = Board(Counter(), {"a": Toggle(), "b": Toggle()})
    board.send("flip")
    board.lights["a"].flip()
    board.lights["a"].flip()
    assert board.counter.count == 2


def test_several_single_machines_that_finish() -> None:
    """A group of single fields, waiting for final states (state=None)."""
    from .coordination_machines import Project, Report, Task

    project = Project(Report(), Task(), Task())
    project.design.finish()
    assert state_of(project.report) == "waiting"
    project.build.finish()
    assert state_of(project.report) == "written"


def test_members_finishing_inside_each_others_callbacks() -> None:
    """Members that ship each other from their callbacks (queued and nested) fire once."""

    class Chained(Item):
        def after_ship(self, orc: Any) -> None:
            for other in orc.items:
                if state_of(other) == "packed":
                    other.ship()  # nested: the other item is idle
                    break

    class Chain(Orchestrator):
        order: Order
        items: list[Chained]
        done = when_all("items", "shipped", send=("order", "finish"))

    chain = Chain(Order(), [Chained() for _ in range(4)])
    chain.items[0].ship()
    assert [state_of(m) for m in chain.items] == ["shipped"] * 4
    assert chain.order.completions == 1


def test_target_busy_gets_the_event_queued() -> None:
    """When the target itself ships the last item, the event is queued and runs after its step."""

    class Dispatcher(StateMachine):
        waiting = State(initial=True)
        dispatching = State()
        complete = State(final=True)
        dispatch = waiting.to(dispatching)
        finish = dispatching.to(complete)

        def on_enter_dispatching(self, orc: Any) -> None:
            for item in orc.items:
                item.ship()
            assert state_of(self) == "dispatching"  # the finish event waits for this step

    class Desk(Orchestrator):
        order: Dispatcher
        items: list[Item]
        done = when_all("items", "shipped", send=("order", "finish"))

    desk = Desk(Dispatcher(), [Item(), Item()])
    desk.order.dispatch()
    assert state_of(desk.order) == "complete"


def test_barrier_sends_to_every_member() -> None:
    """A collection as the target: every participant is told once all are ready."""

    class Participant(StateMachine):
        idle = State(initial=True)
        ready = State()
        prepared = State(final=True)
        init = idle.to(ready)
        start_preparing = ready.to(prepared)

    class Barrier(Orchestrator):
        participants: list[Participant]
        go = when_all("participants", "ready", send=("participants", "start_preparing"))

    barrier = Barrier([Participant() for _ in range(3)])
    barrier.participants[0].init()
    barrier.participants[1].init()
    assert [state_of(p) for p in barrier.participants] == ["ready", "ready", "idle"]
    barrier.participants[2].init()
    assert [state_of(p) for p in barrier.participants] == ["prepared"] * 3


def test_replacing_a_single_machine_updates_the_group() -> None:
    """A single machine of the group that is replaced leaves the group; the new one joins."""

    class Task(StateMachine):
        todo = State(initial=True)
        done = State(final=True)
        finish = todo.to(done)

    class Pair(Orchestrator):
        report: Order
        items: list[Item] = built(factory=list)
        first: Task = built(factory=Task)
        done = when_all(("first", "items"), send=("report", "finish"))

    pair = Pair(Order())
    old = pair.first
    pair.first = Task()
    old.finish()
    assert state_of(pair.report) == "waiting"
    pair.first.finish()
    # The guard of Order.finish (all items shipped) holds for no items.
    assert state_of(pair.report) == "complete"


def test_copies_track_their_own_members() -> None:
    """A copy fires for its own members, not the original's."""
    shipment = Shipment(Order(), [Item(), Item()])
    shipment.items[0].ship()
    for twin in (copy.deepcopy(shipment), pickle.loads(pickle.dumps(shipment))):  # noqa: S301 - our own data
        twin.items[1].ship()
        assert state_of(twin.order) == "complete"
    assert state_of(shipment.order) == "waiting"


def test_released_machines_stop_firing() -> None:
    """After release(), the listener stays on the machines but does nothing."""
    shipment = Shipment(Order(), [Item()])
    machines = shipment.release()
    machines["items"][0].ship()
    assert state_of(machines["order"]) == "waiting"
    again = Shipment(**machines)  # rejoining adds no second listener
    listeners = machines["items"][0]._listeners  # noqa: SLF001 - checking the listener is there once
    assert sum(1 for value in (*listeners, *listeners.values()) if value is WATCHER) == 1
    again.items.append(Item())
    again.items[1].ship()
    assert state_of(again.order) == "complete"


def test_watcher_copies_and_pickles_as_itself() -> None:
    """The one listener survives copying and pickling machines as the same object."""
    assert copy.copy(WATCHER) is WATCHER
    assert copy.deepcopy(WATCHER) is WATCHER
    assert pickle.loads(pickle.dumps(WATCHER)) is WATCHER  # noqa: S301 - our own data


def test_no_fan_in_no_listener() -> None:
    """Orchestrators without fan-in attach no listener to their members."""

    class Plain(Orchestrator):
        items: list[Item]

    plain = Plain([Item()])
    listeners = plain.items[0]._listeners  # noqa: SLF001
    assert WATCHER not in listeners
    assert id(WATCHER) not in listeners


def test_fan_in_repr_and_inheritance() -> None:
    """A fan-in shows its declaration; subclasses inherit it, or hide it."""
    fan_in = Shipment.__dict__["all_shipped"]
    assert isinstance(fan_in, FanIn)
    assert repr(fan_in) == "when_all('items', 'shipped', send=('order', 'finish'))"
    assert fan_in.name == "all_shipped"
    assert repr(when_all(("a", "b"), send=("c", "d"))) == "when_all(('a', 'b'), send=('c', 'd'))"

    class Sub(Shipment):
        pass

    sub = Sub(Order(), [Item()])
    sub.items[0].ship()
    assert state_of(sub.order) == "complete"

    class Hidden(Shipment):
        all_shipped = None  # type: ignore[assignment]

    hidden = Hidden(Order(), [Item()])
    hidden.items[0].ship()
    assert state_of(hidden.order) == "waiting"


@pytest.mark.parametrize(
    ("fan_in", "message"),
    [
        (
            when_all("itemz", "shipped", send=("order", "finish")),
            (
                "Bad.done = when_all('itemz', 'shipped', send=('order', 'finish')): Bad has no "
                "machine field 'itemz' (its fields: 'order', 'items')"
            ),
        ),
        (
            when_all("items", "shipped", send=("ordr", "finish")),
            "has no machine field 'ordr'",
        ),
        (
            when_all("items", "shiped", send=("order", "finish")),
            "Item has no state 'shiped' (its states: 'delivered', 'packed', 'shipped')",
        ),
        (
            when_all("items", "shipped", send=("order", "finnish")),
            "Order (field 'order') defines no event 'finnish'",
        ),
    ],
)
def test_bad_declarations_fail_at_class_creation(fan_in: FanIn, message: str) -> None:
    """A fan-in naming what does not exist is refused when the class is created."""
    with pytest.raises(InvalidFanInError) as info:
        type(
            "Bad",
            (Orchestrator,),
            {
                "__annotations__": {"order": Order, "items": list[Item]},
                "__module__": __name__,
                "done": fan_in,
            },
        )
    assert message in str(info.value)


class AsyncItem(StateMachine):
    """An item with an async callback."""

    packed = State(initial=True)
    shipped = State(final=True)
    ship = packed.to(shipped)

    async def on_ship(self) -> None:
        await asyncio.sleep(0)


class AsyncOrder(StateMachine):
    """An order with an async callback."""

    waiting = State(initial=True)
    complete = State(final=True)
    finish = waiting.to(complete)

    async def on_finish(self) -> None:
        await asyncio.sleep(0)


class AsyncShipment(Orchestrator):
    """Async order and items."""

    order: AsyncOrder
    items: list[AsyncItem] = built(factory=list)
    done = when_all("items", "shipped", send=("order", "finish"))


def test_async_machines() -> None:
    """On the async engine the fired event is awaited within the last member's step."""

    async def main() -> list[str]:
        shipment = AsyncShipment(AsyncOrder(), [AsyncItem(), AsyncItem()])
        seen = []
        for machine in (shipment.order, *shipment.items):
            await machine.activate_initial_state()
        await shipment.items[0].ship()
        seen.append(state_of(shipment.order))
        await shipment.items[1].ship()
        seen.append(state_of(shipment.order))
        return seen

    assert asyncio.run(main()) == ["waiting", "complete"]


def test_async_fired_by_a_collection_change() -> None:
    """Removing the last unfinished async member schedules the event on the running loop."""

    async def main() -> str:
        shipment = AsyncShipment(AsyncOrder(), [AsyncItem(), AsyncItem()])
        for machine in (shipment.order, *shipment.items):
            await machine.activate_initial_state()
        await shipment.items[0].ship()
        shipment.items.pop()
        for _ in range(10):
            await asyncio.sleep(0)
        return str(state_of(shipment.order))

    assert asyncio.run(main()) == "complete"


def test_members_finishing_through_queued_events() -> None:
    """Events queued on busy members complete the group after their steps: it fires once."""

    class Courier(Item):
        def after_ship(self, orc: Any) -> None:
            first, second = orc.items
            if self is first:
                second.ship()  # idle: runs now, nested
            else:
                first.deliver()  # busy (its ship step called us): queued
                second.deliver()  # busy itself: queued

    class Task(StateMachine):
        todo = State(initial=True)
        done = State(final=True)
        finish = todo.to(done)

        def __init__(self) -> None:
            self.calls = 0
            super().__init__()

        def on_finish(self) -> None:
            self.calls += 1

    class Round(Orchestrator):
        report: Task
        items: list[Courier]
        delivered = when_all("items", "delivered", send=("report", "finish"))

    round_ = Round(Task(), [Courier(), Courier()])
    round_.items[0].ship()
    assert [state_of(m) for m in round_.items] == ["delivered", "delivered"]
    assert round_.report.calls == 1


def test_a_fan_in_whose_event_fails_says_so() -> None:
    """An exception from the fired event propagates like one from a callback, with a note."""

    class Once(StateMachine):
        waiting = State(initial=True)
        done = State(final=True)
        finish = waiting.to(done)

    class Strict(Orchestrator):
        target: Once
        items: list[Item]
        done = when_all("items", "shipped", send=("target", "finish"))

    strict = Strict(Once(), [Item()])
    strict.target.finish()
    with pytest.raises(Exception, match=r"Can't .inish when in Done") as info:
        strict.items[0].ship()
    if sys.version_info >= (3, 11):
        assert info.value.__notes__[-1].startswith(
            "raised by target during the fan-in test_a_fan_in_whose_event_fails_says_so."
        )

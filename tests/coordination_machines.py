"""Machines and orchestrators for the coordination tests; module level so that they pickle."""

from __future__ import annotations

from typing import Any

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator, built
from statemachines_orchestrator.coordination import all_in, member_key, when_all


class Item(StateMachine):
    """An item of an order: packed, then shipped (again and again), then delivered."""

    packed = State(initial=True)
    shipped = State()
    delivered = State(final=True)

    ship = packed.to(shipped) | shipped.to.itself()
    deliver = shipped.to(delivered)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.seen: list[Any] = []
        super().__init__(*args, **kwargs)

    def on_ship(self, orc: Any = None) -> str:
        """Record the orchestrator; return a receipt."""
        self.seen.append(orc)
        return "shipped"


class FragileItem(Item):
    """An item whose shipping fails."""

    def on_ship(self) -> None:
        """Fail."""
        msg = "broken"
        raise RuntimeError(msg)


class LabelledItem(Item):
    """An item that records its member key when shipped."""

    def on_ship(self, orc: Any = None) -> str:
        """Record which member this is."""
        self.seen.append(member_key(orc, self))
        return "shipped"


class Order(StateMachine):
    """An order that completes once every item has shipped."""

    waiting = State(initial=True)
    complete = State(final=True)

    finish = waiting.to(complete, cond=all_in("items", "shipped"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.completions = 0
        super().__init__(*args, **kwargs)

    def on_enter_complete(self) -> None:
        """Count completions."""
        self.completions += 1


class Shipment(Orchestrator):
    """An order and a list of items; the order finishes once all items shipped."""

    order: Order
    items: list[Item] = built(factory=list)

    all_shipped = when_all("items", "shipped", send=("order", "finish"))


class Depot(Orchestrator):
    """Items by key, without fan-in."""

    items: dict[str, Item]


class Crate(Orchestrator):
    """A list of items, without fan-in."""

    items: list[Item]


def state_of(machine: Any) -> Any:
    """The current state value of a machine."""
    return machine.current_state_value


class LateCrate(Orchestrator):
    """A list of a machine class defined after the orchestrator."""

    items: list[LateItem]


class LateItem(Item):
    """Defined after :class:`LateCrate`, which names it."""


class Task(StateMachine):
    """A task that ends in a final state."""

    todo = State(initial=True)
    done = State(final=True)

    finish = todo.to(done)


class Report(StateMachine):
    """Written once both tasks are done."""

    waiting = State(initial=True)
    written = State(final=True)

    write = waiting.to(written)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.writes = 0
        super().__init__(*args, **kwargs)

    def on_write(self) -> None:
        """Count the writes."""
        self.writes += 1


class Project(Orchestrator):
    """A fan-in over two single fields, waiting for final states."""

    report: Report
    design: Task
    build: Task

    finished = when_all(("design", "build"), send=("report", "write"))

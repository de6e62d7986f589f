"""``orc.send``: one event to every machine that defines it."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from statemachines_orchestrator import Orchestrator, UnknownEventError

from .coordination_machines import FragileItem, Item, Order, state_of
from .psm_line import PSM3


class Warehouse(Orchestrator):
    """A single item, a list and a dict of items, and an order (which cannot ship)."""

    order: Order
    first: Item
    line: list[Item]
    bins: dict[str, Item]


def make_warehouse() -> Warehouse:
    return Warehouse(Order(), Item(), [Item(), Item()], {"a": Item()})


def test_reaches_every_machine_that_defines_the_event_in_order() -> None:
    """Results are keyed by field, and by (field, index or key), in declaration order."""
    warehouse = make_warehouse()
    results = warehouse.send("ship")
    assert list(results) == ["first", ("line", 0), ("line", 1), ("bins", "a")]
    assert set(results.values()) == {"shipped"}
    assert state_of(warehouse.order) == "waiting"
    machines = [warehouse.first, *warehouse.line, *warehouse.bins.values()]
    assert all(state_of(m) == "shipped" for m in machines)
    assert all(m.seen == [warehouse] for m in machines)


def test_arguments_reach_the_callbacks() -> None:
    """Positional and keyword arguments go to every delivery."""

    class Counter(StateMachine):
        idle = State(initial=True)
        add = idle.to.itself()

        def __init__(self) -> None:
            self.total = 0
            super().__init__()

        def on_add(self, amount: int, times: int = 1) -> int:
            self.total += amount * times
            return self.total

    class Counters(Orchestrator):
        counters: list[Counter]

    counters = Counters([Counter(), Counter()])
    assert counters.send("add", 2, times=3) == {("counters", 0): 6, ("counters", 1): 6}
    # An argument named "event" is the event's, not send()'s.
    assert counters.send("add", amount=1) == {("counters", 0): 7, ("counters", 1): 7}


def test_unknown_event_is_refused_before_anything_runs() -> None:
    """An event no machine defines raises UnknownEventError naming the event and orchestrator."""
    warehouse = make_warehouse()
    with pytest.raises(UnknownEventError) as info:
        warehouse.send("shipp")
    assert str(info.value) == (
        "Warehouse.send('shipp'): no machine of this orchestrator defines the event 'shipp' "
        "(its machine classes: Item, Order); check the event's name"
    )
    assert isinstance(info.value, LookupError)
    assert state_of(warehouse.first) == "packed"


def test_event_defined_only_by_a_subclass_member() -> None:
    """A member of a subclass that defines more events is reached; the others are skipped."""

    class Returnable(Item):
        back = Item.shipped.to(Item.packed)

    class Mixed(Orchestrator):
        items: list[Item]

    mixed = Mixed([Item(), Returnable()])
    mixed.send("ship")
    assert mixed.send("back") == {("items", 1): None}
    assert [state_of(m) for m in mixed.items] == ["shipped", "packed"]
    empty = Mixed([])
    with pytest.raises(UnknownEventError, match="its machine classes: none"):
        empty.send("back")


def test_empty_collection_of_a_class_that_defines_it_is_no_error() -> None:
    """An empty collection whose class defines the event gives no result, and no error."""

    class Line(Orchestrator):
        items: list[Item]

    assert Line([]).send("ship") == {}


def test_state_machine_that_cannot_take_the_event_stops_the_broadcast() -> None:
    """A StateMachine raises TransitionNotAllowed; the machines after it are not reached."""
    warehouse = make_warehouse()
    warehouse.line[0].ship()
    warehouse.line[0].deliver()
    with pytest.raises(TransitionNotAllowed) as info:
        warehouse.send("ship")
    assert state_of(warehouse.first) == "shipped"
    assert state_of(warehouse.line[1]) == "packed"
    assert state_of(warehouse.bins["a"]) == "packed"
    if sys.version_info >= (3, 11):
        assert info.value.__notes__ == [
            (
                "raised by line[0] during Warehouse.send('ship'), after 1 delivery; the machines "
                "after it were not reached"
            )
        ]


def test_an_exception_in_a_callback_stops_the_broadcast() -> None:
    """An exception from a delivery propagates unchanged; later machines are not reached."""

    class Line(Orchestrator):
        items: list[Item]

    line = Line([Item(), FragileItem(), Item()])
    with pytest.raises(RuntimeError, match="broken"):
        line.send("ship")
    assert state_of(line.items[0]) == "shipped"
    assert state_of(line.items[2]) == "packed"


def test_machine_that_ignores_events_without_transition() -> None:
    """A machine allowing events without transition is reached, returns None and stays."""
    kwargs: dict[str, Any] = {} if PSM3 else {"allow_event_without_transition": True}

    class Lenient(Item):
        allow_event_without_transition = True

    class Line(Orchestrator):
        items: list[Lenient]

    line = Line([Lenient(**kwargs), Lenient(**kwargs)])
    line.items[0].ship()
    line.items[0].deliver()
    assert line.send("ship") == {("items", 0): None, ("items", 1): "shipped"}
    assert [state_of(m) for m in line.items] == ["delivered", "shipped"]


@pytest.mark.skipif(not PSM3, reason="StateChart exists from python-statemachine 3.0")
def test_statechart_ignores_an_event_it_cannot_take() -> None:
    """A 3.x StateChart (allow_event_without_transition by default) ignores it; the rest go on."""
    from statemachine import StateChart

    class Chart(StateChart):
        a = State(initial=True)
        b = State()
        go = a.to(b)
        back = b.to(a)

    class Charts(Orchestrator):
        charts: list[Chart]

    charts = Charts([Chart(), Chart()])
    charts.charts[0].go()
    assert charts.send("go") == {("charts", 0): None, ("charts", 1): None}
    assert [list(c.configuration_values) for c in charts.charts] == [["b"], ["b"]]


def test_members_added_during_the_broadcast_are_not_reached() -> None:
    """Each collection is read once, as the broadcast reaches it."""

    class Spawning(Item):
        def on_ship(self, orc: Any = None) -> str:
            if len(orc.items) < 3:
                orc.items.append(Spawning())
            return "shipped"

    class Line(Orchestrator):
        items: list[Spawning]

    line = Line([Spawning()])
    assert list(line.send("ship")) == [("items", 0)]
    assert len(line.items) == 2
    assert state_of(line.items[1]) == "packed"


class AsyncItem(StateMachine):
    """An item with an async callback."""

    packed = State(initial=True)
    shipped = State(final=True)
    ship = packed.to(shipped)

    async def on_ship(self, orc: Any) -> str:
        await asyncio.sleep(0)
        return f"shipped by {type(orc).__name__}"


class AsyncLine(Orchestrator):
    """A list of async items and a sync order."""

    order: Order
    items: list[AsyncItem]


def test_async_machines_make_send_awaitable() -> None:
    """With async machines, ``await orc.send(...)`` delivers to each in turn."""

    async def main() -> tuple[dict[Any, Any], list[Any]]:
        line = AsyncLine(Order(), [AsyncItem(), AsyncItem(), AsyncItem()])
        for item in line.items:
            await item.activate_initial_state()
        results = await line.send("ship")
        return results, [state_of(m) for m in line.items]

    results, states = asyncio.run(main())
    assert results == {("items", i): "shipped by AsyncLine" for i in range(3)}
    assert states == ["shipped"] * 3


def test_async_exception_stops_the_broadcast() -> None:
    """An exception from an awaited delivery propagates; the rest are not reached."""

    class Failing(AsyncItem):
        async def before_ship(self) -> None:
            msg = "async broken"
            raise RuntimeError(msg)

    class Line(Orchestrator):
        items: list[AsyncItem]

    async def main() -> list[Any]:
        line = Line([AsyncItem(), Failing(), AsyncItem()])
        for item in line.items:
            await item.activate_initial_state()
        with pytest.raises(RuntimeError, match="async broken"):
            await line.send("ship")
        return [state_of(m) for m in line.items]

    assert asyncio.run(main()) == ["shipped", "packed", "packed"]


@pytest.mark.skipif(not PSM3, reason="dotted event ids exist from python-statemachine 3.0")
def test_event_ids_that_are_no_identifiers() -> None:
    """An event whose id is no identifier (a dotted id) is reached too."""
    from statemachine import StateChart

    class Dotted(StateChart):
        a = State(initial=True)
        b = State(final=True)
        go = a.to(b, event="job.go")

    class Jobs(Orchestrator):
        jobs: list[Dotted]

    jobs = Jobs([Dotted(), Dotted()])
    assert jobs.send("job.go") == {("jobs", 0): None, ("jobs", 1): None}
    assert [list(j.configuration_values) for j in jobs.jobs] == [["b"], ["b"]]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes exist from Python 3.11")
@pytest.mark.parametrize(
    ("first", "line", "bins", "note"),
    [
        (
            FragileItem,
            [Item, Item],
            {"a": Item},
            "raised by first during Warehouse.send('ship'), after 0 deliveries",
        ),
        (
            Item,
            [Item, FragileItem],
            {"a": Item},
            "raised by line[1] during Warehouse.send('ship'), after 2 deliveries",
        ),
        (
            Item,
            [Item],
            {"a": Item, "b": FragileItem},
            "raised by bins['b'] during Warehouse.send('ship'), after 3 deliveries",
        ),
    ],
    ids=["single", "list", "dict"],
)
def test_the_note_names_the_machine_that_raised_and_the_deliveries_before(
    first: type[Item], line: list[type[Item]], bins: dict[str, type[Item]], note: str
) -> None:
    warehouse = Warehouse(
        Order(), first(), [cls() for cls in line], {key: cls() for key, cls in bins.items()}
    )
    with pytest.raises(RuntimeError, match="broken") as info:
        warehouse.send("ship")
    assert info.value.__notes__ == [f"{note}; the machines after it were not reached"]


class AsyncShipItem(Item):
    """An item of the sync class whose shipping is async: its engine is async."""

    async def on_ship(self, orc: Any = None) -> str:  # type: ignore[override]
        self.seen.append(orc)
        return "async"


def test_a_broadcast_goes_async_in_the_middle_of_a_list_and_keeps_every_result() -> None:
    """Machines before the first awaitable are counted, the rest are awaited in order."""

    async def main() -> tuple[Warehouse, dict[Any, Any], BaseException]:
        late = AsyncShipItem()
        await late.activate_initial_state()
        warehouse = Warehouse(Order(), Item(), [Item(), late, Item()], {"a": Item()})
        results = await warehouse.send("ship")
        failing = AsyncShipItem()
        await failing.activate_initial_state()
        broken = Warehouse(Order(), Item(), [failing], {"a": Item(), "b": FragileItem()})
        with pytest.raises(RuntimeError, match="broken") as info:
            await broken.send("ship")
        return warehouse, results, info.value

    warehouse, results, error = asyncio.run(main())
    assert results == {
        "first": "shipped",
        ("line", 0): "shipped",
        ("line", 1): "async",
        ("line", 2): "shipped",
        ("bins", "a"): "shipped",
    }
    assert list(results) == ["first", ("line", 0), ("line", 1), ("line", 2), ("bins", "a")]
    assert all(state_of(m) == "shipped" for m in [*warehouse.line, warehouse.bins["a"]])
    if sys.version_info >= (3, 11):
        assert error.__notes__ == [
            (
                "raised by bins['b'] during Warehouse.send('ship'), after 3 deliveries; the "
                "machines after it were not reached"
            )
        ]

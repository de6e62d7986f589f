"""Listeners, traces and OpenTelemetry spans reach the members of collection fields."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator
from statemachines_orchestrator.coordination import member_key
from statemachines_orchestrator.trace import Trace

from .coordination_machines import Crate, Depot, Item, Order, Shipment


class Seen:
    """A listener recording the field, the member key and the event of every transition."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any, str]] = []

    def after_transition(self, event: Any, field: str, orc: Any, machine: Any) -> None:
        key = member_key(orc, machine)[1] if field == "items" else None
        self.seen.append((field, key, str(event)))


def test_listeners_reach_members_now_and_later_list() -> None:
    crate = Crate([Item(), Item()])
    listener = Seen()
    handle = crate.add_listener(listener)
    crate.items[1].ship()
    crate.items.append(Item())
    crate.items[2].ship()
    crate.items[0] = Item()
    crate.items[0].ship()
    crate.items.insert(0, Item())
    crate.items[0].ship()
    assert listener.seen == [
        ("items", 1, "ship"),
        ("items", 2, "ship"),
        ("items", 0, "ship"),
        ("items", 0, "ship"),
    ]
    gone = crate.items.pop()
    gone.deliver()  # it left: no longer heard
    assert len(listener.seen) == 4
    handle.remove()
    crate.items[1].ship()
    assert len(listener.seen) == 4


def test_listeners_reach_members_now_and_later_dict() -> None:
    depot = Depot({"a": Item()})
    listener = Seen()
    depot.add_listener(listener)
    depot.items.update(b=Item())
    depot.items["c"] = Item()
    for key in ("a", "b", "c"):
        depot.items[key].ship()
    assert listener.seen == [("items", key, "ship") for key in ("a", "b", "c")]
    old = depot.items["a"]
    depot.items = {"d": Item()}  # the whole collection replaced
    old.deliver()
    depot.items["d"].ship()
    assert listener.seen[3:] == [("items", "d", "ship")]


def test_a_single_field_replaced_beside_a_collection_gets_the_listeners() -> None:
    shipment = Shipment(order=Order(), items=[Item()])
    listener = Seen()
    shipment.add_listener(listener)
    old = shipment.order
    shipment.order = Order()
    shipment.items[0].ship()  # all shipped: the new order finishes
    assert sorted(listener.seen) == [("items", 0, "ship"), ("order", None, "finish")]
    assert old.current_state_value == "waiting"


def test_trace_records_name_members_and_follow_shifts() -> None:
    shipment = Shipment(order=Order(), items=[Item(), Item()])
    with Trace(shipment) as trace:
        shipment.items[0].ship()
        del shipment.items[0]  # the second item is items[0] now
        shipment.items[0].ship()  # all shipped: the order finishes, caused by this member
        shipment.items.insert(0, Item())  # and items[1] now
        shipment.items[1].ship()  # again: not all shipped any more, no finish
    fields = [(r.field, r.event) for r in trace]
    assert fields == [
        ("items[0]", "ship"),
        ("items[0]", "ship"),
        ("order", "finish"),
        ("items[1]", "ship"),
    ]
    finish = trace.records[2]
    assert finish.cause is trace.records[1]
    text = trace.mermaid()
    assert "participant m_items_0_ as items[0]" in text
    assert "m_items_0_->>m_order: finish()" in text
    assert "participant m_items " not in text  # the collection itself is no participant


def test_trace_of_dict_members_and_colliding_participants() -> None:
    depot = Depot({"a b": Item(), "a_b": Item()})
    with Trace(depot) as trace:
        depot.items["a b"].ship()
        depot.items["a_b"].ship()
    assert [r.field for r in trace] == ["items['a b']", "items['a_b']"]
    text = trace.mermaid()
    assert "participant m_items__a_b__ as items['a b']" in text
    assert "participant m_items__a_b___1 as items['a_b']" in text
    from ._mermaid import assert_mermaid_parses

    assert_mermaid_parses(text)


def test_detaching_a_trace_unwatches_every_member() -> None:
    crate = Crate([Item()])
    trace = Trace(crate).attach()
    crate.items.append(Item())
    trace.detach()
    crate.items[0].ship()
    crate.items[1].ship()
    assert len(trace) == 0


class AsyncItem(StateMachine):
    """An item with an async callback (async engine)."""

    packed = State(initial=True)
    shipped = State(final=True)

    ship = packed.to(shipped)

    async def on_ship(self) -> None:
        """Nothing, asynchronously."""


class AsyncCrate(Orchestrator):
    """A list of async items."""

    items: list[AsyncItem]


def test_async_members_are_traced_and_heard() -> None:
    async def run() -> tuple[list[str], list[tuple[str, Any, str]]]:
        crate = AsyncCrate([AsyncItem(), AsyncItem()])
        for machine in crate.items:
            await machine.activate_initial_state()
        listener = Seen()
        crate.add_listener(listener)
        with Trace(crate) as trace:
            await crate.items[1].ship()
            late = AsyncItem()
            await late.activate_initial_state()
            crate.items.append(late)
            await crate.items[2].ship()
        return [r.field for r in trace], listener.seen

    fields, seen = asyncio.run(run())
    assert fields == ["items[1]", "items[2]"]
    assert seen == [("items", 1, "ship"), ("items", 2, "ship")]


def test_otel_spans_name_members() -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )

    from statemachines_orchestrator.otel import instrument

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    shipment = Shipment(order=Order(), items=[Item()])
    with instrument(shipment, provider):
        shipment.items[0].ship()
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"items[0].ship", "order.finish"}
    assert (spans["items[0].ship"].attributes or {})["orchestrator.field"] == "items[0]"
    parent = spans["order.finish"].parent
    assert parent is not None
    assert parent.span_id == spans["items[0].ship"].context.span_id


def test_changing_an_orchestrator_with_nothing_attached_beside_one_with_listeners() -> None:
    heard, quiet = Crate([Item()]), Crate([Item()])
    listener = Seen()
    heard.add_listener(listener)
    quiet.items.append(Item())
    quiet.items[1].ship()
    heard.items[0].ship()
    assert listener.seen == [("items", 0, "ship")]


def test_reordered_members_are_traced_under_their_new_index() -> None:
    first, second, third = Item(), Item(), Item()
    crate = Crate([first, second, third])
    with Trace(crate) as trace:
        crate.items.reverse()
        first.ship()
        crate.items.sort(key=lambda item: item is not first)  # first at 0 again
        first.ship()
        crate.items[1:] = [second, third]  # the same members, moved
        second.ship()
    assert [r.field for r in trace] == ["items[2]", "items[0]", "items[1]"]
    crate.items.reverse()  # nothing attached any more: only the order changes
    assert list(crate.items) == [third, second, first]


def test_reordering_a_released_list() -> None:
    crate = Crate([Item(), Item()])
    items = crate.items
    crate.release()
    items.reverse()
    assert len(items) == 2


def test_a_sequence_diagram_of_only_collections_and_no_record_is_valid() -> None:
    text = Trace(Crate([Item()])).mermaid()
    assert text == "sequenceDiagram\n"
    from ._mermaid import assert_mermaid_parses

    assert_mermaid_parses(text)

"""Diagrams of orchestrators with collection fields: classes and instances."""

from __future__ import annotations

from typing import Any

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator, diagram
from statemachines_orchestrator.trace import Trace

from ._graphviz import assert_dot_renders
from ._mermaid import assert_mermaid_parses
from .coordination_machines import Depot, Item, Order, Shipment


class Bell(StateMachine):
    """Rings the caller's order, through a static ``orc.order`` call."""

    idle = State(initial=True)
    rung = State(final=True)

    ring = idle.to(rung)

    def on_enter_rung(self, orc: Any) -> None:
        """Finish the order."""
        orc.order.finish()


class Desk(Orchestrator):
    """An order, and bells by name."""

    order: Order
    bells: dict[str, Bell]


def check(obj: object, trace: Any = None) -> tuple[str, str]:
    """Both outputs, checked by Mermaid's parser and rendered by Graphviz."""
    mermaid = diagram.to_mermaid(obj, trace=trace)
    dot = diagram.to_dot(obj, trace=trace)
    assert_mermaid_parses(mermaid)
    assert_dot_renders(dot)
    return mermaid, dot


def test_a_class_draws_a_collection_as_one_cluster_of_its_machine_class() -> None:
    graph = diagram.extract(Shipment)
    assert [(c.field, c.class_name) for c in graph.machines] == [
        ("order", "Order"),
        ("items", "list[Item]"),
    ]
    mermaid, dot = check(Shipment)
    assert 'state "items: list[Item]"' in mermaid
    assert 'label="items: list[Item]"' in dot
    desk = diagram.extract(Desk)
    assert [c.class_name for c in desk.machines] == ["Order", "dict[str, Bell]"]
    # The members' static call to orc.order is drawn from the collection's cluster.
    assert [
        (e.source_field, e.source_state, e.target_field, e.event) for e in desk.cross_edges
    ] == [("bells", "rung", "order", "finish")]
    check(Desk)


def test_an_instance_draws_one_cluster_per_member_in_its_states() -> None:
    shipment = Shipment(order=Order(), items=[Item(), Item()])
    shipment.items[1].ship()
    graph = diagram.extract(shipment)
    assert [c.field for c in graph.machines] == ["order", "items[0]", "items[1]"]
    active = {c.field: [s.id for s in c.all_states() if s.active] for c in graph.machines}
    assert active == {"order": ["waiting"], "items[0]": ["packed"], "items[1]": ["shipped"]}
    mermaid, dot = check(shipment)
    assert 'state "items[1]: Item"' in mermaid
    assert 'label="items[1]: Item"' in dot


def test_an_instance_with_an_empty_collection_draws_the_machine_class() -> None:
    shipment = Shipment(order=Order())
    graph = diagram.extract(shipment)
    assert [(c.field, c.class_name) for c in graph.machines] == [
        ("order", "Order"),
        ("items", "list[Item]"),
    ]
    assert not any(s.active for s in graph.machines[1].all_states())
    check(shipment)


def test_dict_members_and_their_static_calls() -> None:
    desk = Desk(order=Order(), bells={"front": Bell(), "back door": Bell()})
    graph = diagram.extract(desk)
    assert [c.field for c in graph.machines] == ["order", "bells['front']", "bells['back door']"]
    edges = [(e.source_field, e.target_field, e.event) for e in graph.cross_edges]
    assert edges == [
        ("bells['front']", "order", "finish"),
        ("bells['back door']", "order", "finish"),
    ]
    check(desk)
    check(Depot({"a": Item(), "a'b": Item()}))


def test_traced_edges_between_members_and_single_machines() -> None:
    shipment = Shipment(order=Order(), items=[Item(), Item()])
    with Trace(shipment) as trace:
        shipment.items[0].ship()
        shipment.items[1].ship()  # the last: it causes order.finish
    on_instance = diagram.extract(shipment, trace=trace)
    assert [
        (e.source_field, e.target_field, e.event, e.traced) for e in on_instance.cross_edges
    ] == [("items[1]", "order", "finish", True)]
    on_class = diagram.extract(Shipment, trace=trace)  # a member is drawn as its collection
    assert [(e.source_field, e.target_field, e.event) for e in on_class.cross_edges] == [
        ("items", "order", "finish")
    ]
    assert not on_class.problems
    check(shipment, trace)
    check(Shipment, trace)
    del shipment.items[1]  # the record's member is gone from the instance now
    graph = diagram.extract(shipment, trace=trace)
    assert not graph.cross_edges
    assert [p.message for p in graph.problems] == [
        "a record names the field 'items[1]', which Shipment does not have"
    ]


class Record:
    """A trace record as the diagram reads it."""

    def __init__(self, field: str, event: str, cause: Record | None = None) -> None:
        self.field = field
        self.event = event
        self.cause = cause


class Records:
    """A trace as the diagram reads it."""

    def __init__(self, *records: Record) -> None:
        self.records = list(records)


def test_a_call_between_members_is_no_edge_on_a_class_diagram() -> None:
    first = Record("items[0]", "ship")
    trace = Records(first, Record("items[1]", "ship", cause=first))
    assert not diagram.extract(Shipment, trace=trace).cross_edges
    shipment = Shipment(order=Order(), items=[Item(), Item()])
    edges = diagram.extract(shipment, trace=trace).cross_edges
    assert [(e.source_field, e.target_field) for e in edges] == [("items[0]", "items[1]")]
    check(shipment, trace)

"""extract(): an orchestrator class or instance (and a trace) into the diagram's IR."""

from __future__ import annotations

import inspect

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator, OrchestratorError
from statemachines_orchestrator.diagram import (
    CrossEdge,
    NotAnOrchestratorError,
    Problem,
    TransitionEdge,
    extract,
)

from .diagram_machines import (
    OrderMachine,
    PaymentMachine,
    Record,
    Shop,
    Trace,
    needs_psm3,
    new_shop,
)


def edges(graph: object) -> list[tuple[str, str | None, str, str, bool, bool]]:
    return [
        (e.source_field, e.source_state, e.target_field, e.event, e.static, e.traced)
        for e in graph.cross_edges  # type: ignore[attr-defined]
    ]


def test_one_cluster_per_machine_field_in_field_order() -> None:
    graph = extract(Shop)
    assert graph.name == "Shop"
    assert [(m.field, m.class_name) for m in graph.machines] == [
        ("order", "OrderMachine"),
        ("payment", "PaymentMachine"),
    ]
    assert not graph.is_instance


def test_states_keep_their_ids_names_and_flags() -> None:
    order = extract(Shop).machine("order")
    assert [(s.id, s.initial, s.final) for s in order.states] == [
        ("created", True, False),
        ("placed", False, False),
        ("paid", False, False),
        ("cancelled", False, True),
        ("completed", False, True),
    ]
    assert order.states[0].name == "Created"


def test_transitions_carry_their_event_one_edge_per_target() -> None:
    payment = extract(Shop).machine("payment")
    assert payment.transitions == (
        TransitionEdge("pending", "authorized", "authorize"),
        TransitionEdge("pending", "declined", "authorize"),
        TransitionEdge("authorized", "captured", "capture"),
    )


def test_a_class_has_no_active_state() -> None:
    assert all(not m.active_states for m in extract(Shop).machines)


def test_an_instance_marks_the_state_each_machine_is_in() -> None:
    shop = new_shop()
    shop.order.place(total=10)
    graph = extract(shop)
    assert graph.is_instance
    assert [m.active_states for m in graph.machines] == [("paid",), ("authorized",)]


def test_static_edges_from_attribute_calls_and_literal_sends() -> None:
    assert edges(extract(Shop)) == [
        ("order", None, "payment", "authorize", True, False),
        ("payment", "authorized", "order", "mark_paid", True, False),
        ("payment", "declined", "order", "cancel", True, False),
        ("payment", "captured", "order", "complete", True, False),
    ]


def test_static_edges_say_which_callback_they_come_from() -> None:
    assert extract(Shop).cross_edges[1].origins == ("PaymentMachine.on_enter_authorized",)


def test_nothing_is_reported_for_a_clean_orchestrator() -> None:
    assert extract(Shop).problems == ()


def test_unknown_fields_and_events_are_reported_not_drawn() -> None:
    class Sender(StateMachine):
        idle = State(initial=True)
        done = State(final=True)
        go = idle.to(done)

        def on_go(self, orc: Pair) -> None:
            orc.bank.refund()
            orc.receiver.explode()
            orc.receiver.send("implode", now=True)
            orc.receiver.ping()

    class Receiver(StateMachine):
        waiting = State(initial=True)
        pinged = State(final=True)
        ping = waiting.to(pinged)

    class Pair(Orchestrator):
        sender: Sender
        receiver: Receiver

    graph = extract(Pair)
    assert edges(graph) == [("sender", None, "receiver", "ping", True, False)]
    origin = "Sender.on_go"
    assert graph.problems == (
        Problem(origin, "calls orc.bank.refund(), but Pair has no machine field 'bank'"),
        Problem(origin, "calls orc.receiver.explode(), but Receiver has no event 'explode'"),
        Problem(origin, "calls orc.receiver.send('implode'), but Receiver has no event 'implode'"),
    )
    assert str(graph.problems[0]) == f"{origin}: {graph.problems[0].message}"


def test_methods_orchestrator_attributes_and_computed_sends_are_not_events() -> None:
    class Sender(StateMachine):
        idle = State(initial=True)
        done = State(final=True)
        go = idle.to(done)

        def on_go(self, orc: Pair, name: str) -> None:
            orc.receiver.add_listener(object())
            orc.receiver.send(name)
            orc.machines.keys()
            orc.receiver.check()

    class Receiver(StateMachine):
        waiting = State(initial=True)
        pinged = State(final=True)
        ping = waiting.to(pinged)

        def check(self) -> bool:
            return True

    class Pair(Orchestrator):
        sender: Sender
        receiver: Receiver

    graph = extract(Pair)
    assert graph.cross_edges == ()
    assert graph.problems == ()


def test_callbacks_without_orc_and_calls_to_the_own_field_draw_nothing() -> None:
    class Light(StateMachine):
        off = State(initial=True)
        on = State(final=True)
        toggle = off.to(on)

        def on_toggle(self, orc: Lights) -> None:
            orc.left.toggle()

        def after_toggle(self, other: Lights) -> None:
            other.right.toggle()

    class Lights(Orchestrator):
        left: Light
        right: Light

    # The same class in two fields: `orc.left.toggle()` is a cross-machine
    # call from `right` only.
    assert edges(extract(Lights)) == [("right", None, "left", "toggle", True, False)]


def test_inherited_callbacks_are_read_and_overrides_win() -> None:
    class Base(StateMachine):
        idle = State(initial=True)
        done = State(final=True)
        go = idle.to(done)

        def on_go(self, orc: Duo) -> None:
            orc.other.ping()

        def after_go(self, orc: Duo) -> None:
            orc.other.ping()

    class Child(Base):
        def after_go(self, orc: Duo) -> None:
            orc.other.pong()

    class Other(StateMachine):
        waiting = State(initial=True)
        done = State(final=True)
        ping = waiting.to(done)
        pong = waiting.to(done)

    class Duo(Orchestrator):
        one: Child
        other: Other

    graph = extract(Duo)
    assert edges(graph) == [
        ("one", None, "other", "pong", True, False),
        ("one", None, "other", "ping", True, False),
    ]
    assert graph.cross_edges[1].origins == ("Base.on_go",)


def test_an_unreadable_source_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_source(_obj: object) -> str:
        msg = "could not get source code"
        raise OSError(msg)

    monkeypatch.setattr(inspect, "getsource", no_source)
    graph = extract(Shop)
    assert graph.cross_edges == ()
    assert (
        Problem(
            "OrderMachine.after_place",
            "its source cannot be read (OSError): its calls to other machines are not drawn",
        )
        in graph.problems
    )


def test_an_instance_draws_the_class_of_the_machine_it_holds() -> None:
    class StrictPayment(PaymentMachine):
        def on_enter_declined(self, orc: Shop) -> None:
            orc.order.send("cancel")

    shop = Shop(OrderMachine(), StrictPayment())
    graph = extract(shop)
    assert graph.machine("payment").class_name == "StrictPayment"
    assert [e.origins for e in graph.cross_edges if e.event == "cancel"] == [
        ("StrictPayment.on_enter_declined",)
    ]


def test_traced_calls_become_solid_edges_merged_with_static_ones() -> None:
    place = Record("order", "place")
    authorize = Record("payment", "authorize", cause=place)
    trace = Trace(
        (
            place,
            authorize,
            Record("order", "mark_paid", cause=authorize),
            Record("payment", "authorize", cause=place),  # seen twice: one edge
            Record("payment", "capture", cause=Record("payment", "x")),  # same machine
            Record("order", "refund", cause=authorize),  # not in the source
        )
    )
    assert edges(extract(Shop, trace=trace)) == [
        ("order", None, "payment", "authorize", True, True),
        ("payment", "authorized", "order", "mark_paid", True, True),
        ("payment", "declined", "order", "cancel", True, False),
        ("payment", "captured", "order", "complete", True, False),
        ("payment", None, "order", "refund", False, True),
    ]


def test_trace_records_of_unknown_fields_are_reported() -> None:
    trace = Trace((Record("ghost", "boo", cause=Record("order", "place")),))
    graph = extract(Shop, trace=trace)
    assert graph.problems == (
        Problem("trace", "a record names the field 'ghost', which Shop does not have"),
    )
    assert all(edge.static for edge in graph.cross_edges)


@pytest.mark.parametrize("obj", [42, OrderMachine, OrderMachine(), "Shop"])
def test_anything_but_an_orchestrator_is_refused(obj: object) -> None:
    with pytest.raises(NotAnOrchestratorError) as info:
        extract(obj)
    assert isinstance(info.value, OrchestratorError)
    assert isinstance(info.value, TypeError)
    assert str(info.value).endswith("expected an Orchestrator subclass or an instance of one")


def test_the_refusal_names_the_class_or_type() -> None:
    with pytest.raises(NotAnOrchestratorError, match=r"^cannot draw the class 'OrderMachine': "):
        extract(OrderMachine)
    with pytest.raises(NotAnOrchestratorError, match=r"^cannot draw the object of type 'int': "):
        extract(42)


def test_cross_edge_defaults_describe_a_static_call_to_a_machine() -> None:
    edge = CrossEdge("a", "b", "go")
    assert (edge.source_state, edge.static, edge.traced, edge.origins) == (None, False, False, ())


@needs_psm3
def test_compound_and_parallel_states_nest() -> None:
    from .diagram_statecharts import Plant

    graph = extract(Plant)
    line = graph.machine("line")
    top = [(s.id, s.parallel, [c.id for c in s.children]) for s in line.states]
    assert top == [
        ("stopped", False, []),
        ("running", True, ["mixer", "oven"]),
        ("finished", False, []),
    ]
    mixer = line.states[1].children[0]
    assert [(c.id, c.initial, c.final) for c in mixer.children] == [
        ("idle", True, False),
        ("mixing", False, False),
        ("mixed", False, True),
    ]
    # The implicit transitions into a compound's initial child are not edges.
    assert all(t.event for t in line.transitions)
    assert TransitionEdge("running", "finished", "finish") in line.transitions


@needs_psm3
def test_an_instance_marks_its_whole_configuration() -> None:
    from .diagram_statecharts import new_plant

    plant = new_plant()
    plant.line.send("start")
    assert set(extract(plant).machine("line").active_states) == {
        "running",
        "mixer",
        "idle",
        "oven",
        "cold",
    }

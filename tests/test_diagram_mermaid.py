"""Mermaid output: checked by Mermaid's own parser, and for what it shows."""

from __future__ import annotations

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator
from statemachines_orchestrator.diagram import extract, to_markdown, to_mermaid

from ._mermaid import assert_mermaid_parses, assert_mermaid_rejects, unfence
from .diagram_machines import Record, Shop, Trace, needs_psm3, new_shop


def test_the_parser_rejects_what_mermaid_rejects() -> None:
    # The check is real: a broken arrow and a keyword as a state id fail.
    assert "Parse error" in assert_mermaid_rejects("stateDiagram-v2\n    a -> b\n")
    assert_mermaid_rejects("stateDiagram-v2\n    state end {\n        [*] --> note\n    }\n")


def test_a_class_diagram_parses_with_one_composite_per_machine() -> None:
    text = to_mermaid(Shop)
    assert_mermaid_parses(text)
    assert text.startswith("stateDiagram-v2\n    direction LR\n")
    assert '    state "order: OrderMachine" as m_order {\n' in text
    assert '    state "payment: PaymentMachine" as m_payment {\n' in text
    assert "        [*] --> order__created\n" in text
    assert "        order__created --> order__placed : place\n" in text
    assert "        order__completed --> [*]\n" in text
    assert "classDef" not in text


def test_static_calls_are_edges_between_machines_marked_static() -> None:
    text = to_mermaid(Shop)
    assert "    m_order --> m_payment : authorize (static)\n" in text
    assert "    m_payment --> m_order : mark_paid (static)\n" in text


def test_an_instance_highlights_its_current_states() -> None:
    shop = new_shop()
    shop.order.place(total=10)
    text = to_mermaid(shop)
    assert_mermaid_parses(text)
    assert text.endswith(
        "    classDef active fill:#40E0D0,stroke:#333\n"
        "    class order__paid, payment__authorized active\n"
    )


def test_traced_calls_drop_the_static_mark() -> None:
    place = Record("order", "place")
    trace = Trace((place, Record("payment", "authorize", cause=place)))
    text = to_mermaid(Shop, trace=trace)
    assert_mermaid_parses(text)
    assert "    m_order --> m_payment : authorize\n" in text
    assert "    m_payment --> m_order : mark_paid (static)\n" in text


def test_markdown_wraps_the_same_text_in_a_mermaid_fence() -> None:
    markdown = to_markdown(Shop)
    assert unfence(markdown) == to_mermaid(Shop)
    assert_mermaid_parses(unfence(markdown))


def test_direction_is_passed_through() -> None:
    text = to_mermaid(Shop, direction="TB")
    assert_mermaid_parses(text)
    assert "    direction TB\n" in text


def test_same_state_names_in_two_machines_and_keyword_names_stay_apart() -> None:
    class Note(StateMachine):
        state = State(initial=True)
        end = State(final=True)
        direction = state.to(end)

    class Keywords(Orchestrator):
        note: Note
        end: Note

    text = to_mermaid(Keywords)
    assert_mermaid_parses(text)
    assert 'state "note: Note" as m_note {' in text
    assert 'state "end: Note" as m_end {' in text
    assert "note__state --> note__end : direction" in text
    assert "end__state --> end__end : direction" in text


def test_labels_with_mermaid_syntax_are_written_literally() -> None:
    class Odd(StateMachine):
        start = State('He said "go"; #1 {x} --> y', initial=True)
        stop = State("a: b\nc", final=True)
        go = start.to(stop)

    class Solo(Orchestrator):
        odd: Odd

    text = to_mermaid(Solo)
    assert_mermaid_parses(text)
    assert 'state "He said #quot;go#quot;#59; #35;1 {x} --> y" as odd__start' in text
    assert 'state "a: b c" as odd__stop' in text


def test_ids_that_would_collide_get_a_suffix() -> None:
    class Inner(StateMachine):
        b__c = State(initial=True)
        z = State(final=True)
        go = b__c.to(z)

    class Outer(StateMachine):
        c = State(initial=True)
        z = State(final=True)
        go = c.to(z)

    class Clash(Orchestrator):
        a: Inner
        a__b: Outer

    text = to_mermaid(Clash)
    assert_mermaid_parses(text)
    # a + b__c and a__b + c would both be a__b__c.
    assert 'state "B  c" as a__b__c\n' in text
    assert 'state "C" as a__b__c_2\n' in text
    assert "a__b__c_2 --> a__b__z : go" in text


@needs_psm3
def test_compound_and_parallel_states_nest_and_parse() -> None:
    from .diagram_statecharts import Plant, new_plant

    text = to_mermaid(Plant)
    assert_mermaid_parses(text)
    assert '        state "Running" as line__running {\n' in text
    assert '            state "Mixer" as line__mixer {\n' in text
    assert "            --\n" in text
    assert "                [*] --> line__idle\n" in text
    assert "        line__stopped --> line__running : start\n" in text
    assert "    m_line --> m_alarm : ring (static)\n" in text

    plant = new_plant()
    plant.line.send("start")
    active = to_mermaid(plant)
    assert_mermaid_parses(active)
    assert active.endswith("    class line__idle, line__cold, alarm__silent active\n")


@needs_psm3
def test_extract_once_render_many() -> None:
    from .diagram_statecharts import Plant

    graph = extract(Plant)
    assert to_mermaid(graph) == to_mermaid(Plant)

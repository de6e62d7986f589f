"""DOT output, rendered by the real ``dot``; SVG and PNG through pydot."""

from __future__ import annotations

import shutil
import sys

import pytest

from statemachines_orchestrator import OrchestratorError
from statemachines_orchestrator.diagram import (
    DiagramExtraMissingError,
    GraphvizMissingError,
    UnknownDiagramFormatError,
    to_dot,
    to_image,
)

from ._graphviz import assert_dot_renders, dot_program, pydot_installed
from .diagram_machines import Record, Shop, Trace, needs_psm3, new_shop


def test_a_class_renders_with_one_cluster_per_machine() -> None:
    text = to_dot(Shop)
    assert_dot_renders(text)
    assert text.startswith('digraph "Shop" {\n')
    assert '  subgraph "cluster_m_order" {\n' in text
    assert '    graph [label="order: OrderMachine", style="rounded"]\n' in text
    assert '  "order__created" -> "order__placed" [label="place"]\n' in text
    assert '    "order__completed" [label="Completed", peripheries="2"]\n' in text
    assert "filled" not in text


def test_static_calls_are_dashed_and_leave_the_calling_state() -> None:
    text = to_dot(Shop)
    assert (
        '  "payment__authorized" -> "m_order__anchor" [label="mark_paid", color="#1f5fa8", '
        'fontcolor="#1f5fa8", style="dashed", lhead="cluster_m_order"]\n'
    ) in text
    # A callback that is not tied to a state leaves the machine's cluster.
    assert (
        '  "m_order__anchor" -> "m_payment__anchor" [label="authorize", color="#1f5fa8", '
        'fontcolor="#1f5fa8", style="dashed", ltail="cluster_m_order", '
        'lhead="cluster_m_payment"]\n'
    ) in text


def test_traced_calls_are_solid() -> None:
    place = Record("order", "place")
    text = to_dot(Shop, trace=Trace((Record("payment", "authorize", cause=place),)))
    assert_dot_renders(text)
    line = next(line for line in text.splitlines() if 'label="authorize", color' in line)
    assert "dashed" not in line


def test_an_instance_fills_its_current_states() -> None:
    shop = new_shop()
    shop.order.place(total=10)
    text = to_dot(shop)
    assert_dot_renders(text)
    assert '"order__paid" [label="Paid", style="rounded,filled", fillcolor="#40E0D0"]' in text
    assert text.count("filled") == 2


@needs_psm3
def test_compound_and_parallel_states_are_nested_clusters() -> None:
    from .diagram_statecharts import Plant, new_plant

    text = to_dot(Plant)
    assert_dot_renders(text)
    assert '    subgraph "cluster_line__running" {\n' in text
    assert '      graph [label="Running", style="dashed,rounded"]\n' in text
    assert '      subgraph "cluster_line__mixer" {\n' in text
    # An edge into a compound state ends at its cluster's border.
    assert (
        '  "line__stopped" -> "line__running__anchor" '
        '[label="start", lhead="cluster_line__running"]' in text
    )
    plant = new_plant()
    plant.line.send("start")
    assert_dot_renders(to_dot(plant))


def test_labels_are_escaped_for_dot() -> None:
    from statemachine import State, StateMachine

    from statemachines_orchestrator import Orchestrator

    class Odd(StateMachine):
        start = State('say "hi" \\ bye', initial=True)
        stop = State("two\nlines", final=True)
        go = start.to(stop)

    class Solo(Orchestrator):
        odd: Odd

    text = to_dot(Solo)
    assert_dot_renders(text)
    assert '[label="say \\"hi\\" \\\\ bye"]' in text
    assert '[label="two\\nlines", peripheries="2"]' in text


@pytest.mark.parametrize(("image_format", "magic"), [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_images_come_from_graphviz_through_pydot(image_format: str, magic: bytes) -> None:
    pydot_installed()
    dot_program()
    data = to_image(new_shop(), image_format)
    assert data.startswith(magic)


def test_an_image_without_pydot_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pydot", None)  # makes `import pydot` fail
    with pytest.raises(DiagramExtraMissingError) as info:
        to_image(Shop, "png")
    assert str(info.value) == (
        "PNG output needs pydot: pip install 'statemachines-orchestrator[diagrams]'"
    )
    assert isinstance(info.value, OrchestratorError)
    assert isinstance(info.value, ImportError)


def test_an_image_without_dot_says_to_install_graphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    pydot_installed()
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(GraphvizMissingError) as info:
        to_image(Shop, "svg")
    assert str(info.value).startswith(
        "SVG output needs Graphviz's dot program, which is not on PATH: install Graphviz "
        "(Debian/Ubuntu: apt-get install graphviz;"
    )


def test_only_svg_and_png_are_images() -> None:
    with pytest.raises(UnknownDiagramFormatError, match=r"^unknown image format 'gif': "):
        to_image(Shop, "gif")

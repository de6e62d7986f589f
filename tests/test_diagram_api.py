"""The diagram package's face: files by suffix, Jupyter display, nothing loaded early."""

from __future__ import annotations

import doctest
import importlib
import inspect
import subprocess
import sys
import types
from pathlib import Path
from typing import Any, Callable

import pytest

from statemachines_orchestrator import Orchestrator, OrchestratorMeta
from statemachines_orchestrator.diagram import (
    FORMATS,
    Diagram,
    DiagramError,
    UnknownDiagramFormatError,
    diagram,
    extract,
    format_for_path,
    jupyter_class_markdown,
    jupyter_markdown,
    render,
    to_dot,
    to_markdown,
    to_mermaid,
)

from ._graphviz import assert_dot_renders, dot_program, pydot_installed
from ._mermaid import assert_mermaid_parses, unfence
from .diagram_machines import OrderMachine, PaymentMachine, Shop, new_shop

MODULES = [
    "statemachines_orchestrator.diagram",
    "statemachines_orchestrator.diagram._dot",
    "statemachines_orchestrator.diagram._errors",
    "statemachines_orchestrator.diagram._extract",
    "statemachines_orchestrator.diagram._graphviz",
    "statemachines_orchestrator.diagram._mermaid",
    "statemachines_orchestrator.diagram._model",
    "statemachines_orchestrator.diagram._names",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0


def test_every_public_name_has_a_docstring() -> None:
    module = importlib.import_module("statemachines_orchestrator.diagram")
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("shop.mmd", "mermaid"),
        ("shop.md", "markdown"),
        ("shop.dot", "dot"),
        ("shop.SVG", "svg"),
        ("out/shop.png", "png"),
    ],
)
def test_the_suffix_names_the_format(name: str, expected: str) -> None:
    assert format_for_path(name) == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("shop.gif", "cannot tell the diagram format of 'shop.gif' from '.gif': use one of "),
        ("shop", "cannot tell the diagram format of 'shop' from no suffix: use one of "),
    ],
)
def test_an_unknown_suffix_is_refused(name: str, message: str) -> None:
    with pytest.raises(UnknownDiagramFormatError) as info:
        format_for_path(name)
    assert str(info.value) == message + ", ".join(FORMATS)
    assert isinstance(info.value, ValueError)


def test_text_files_hold_what_the_writers_return(tmp_path: Path) -> None:
    shop = new_shop()
    assert render(shop, tmp_path / "a.mmd").read_text() == to_mermaid(shop)
    assert render(shop, tmp_path / "a.md").read_text() == to_markdown(shop)
    assert render(shop, tmp_path / "a.dot").read_text() == to_dot(shop)
    assert_mermaid_parses((tmp_path / "a.mmd").read_text())
    assert_mermaid_parses(unfence((tmp_path / "a.md").read_text()))
    assert_dot_renders((tmp_path / "a.dot").read_text())


def test_a_format_name_overrides_the_suffix(tmp_path: Path) -> None:
    path = render(Shop, tmp_path / "diagram.txt", output_format="dot")
    assert path.read_text().startswith("digraph")
    with pytest.raises(UnknownDiagramFormatError, match=r"^unknown diagram format 'gif': "):
        render(Shop, tmp_path / "diagram.txt", output_format="gif")


@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_image_files(tmp_path: Path, suffix: str, magic: bytes) -> None:
    pydot_installed()
    dot_program()
    assert render(Shop, tmp_path / f"shop{suffix}").read_bytes().startswith(magic)


def test_a_graph_is_drawn_as_is_and_takes_no_second_trace() -> None:
    graph = extract(Shop)
    assert to_dot(graph) == to_dot(Shop)
    with pytest.raises(DiagramError, match=r"^pass trace= to extract\(\)"):
        to_mermaid(graph, trace=types.SimpleNamespace(records=()))


def test_a_diagram_object_shows_itself_in_jupyter() -> None:
    shop = new_shop()
    shown = diagram(shop)
    assert isinstance(shown, Diagram)
    assert repr(shown) == "<Diagram of Shop: 2 machines>"
    assert shown.problems == ()
    assert shown.mermaid() == to_mermaid(shop)
    assert shown.dot() == to_dot(shop)
    assert shown._repr_markdown_() == to_markdown(shop)


def test_a_diagram_object_saves_by_suffix(tmp_path: Path) -> None:
    assert diagram(Shop).save(tmp_path / "x.mmd").read_text() == to_mermaid(Shop)


def test_svg_in_jupyter_only_with_graphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pydot", None)
    assert diagram(Shop)._repr_svg_() is None


def test_svg_in_jupyter() -> None:
    pydot_installed()
    dot_program()
    svg = diagram(Shop)._repr_svg_()
    assert svg is not None
    assert "<svg" in svg


def ipython_real_method(obj: object, name: str) -> Callable[[], Any] | None:
    """IPython's ``get_real_method`` (IPython/utils/dir2.py), which decides what it calls."""
    try:
        method = getattr(obj, name, None)
    except Exception:  # noqa: BLE001 - IPython's own rule
        return None
    if inspect.isclass(obj) and not isinstance(method, types.MethodType):
        return None
    return method if callable(method) else None


class JupyterMeta(OrchestratorMeta):
    """What the orchestrator's metaclass gains for Jupyter (see the integration note)."""

    @property
    def _repr_markdown_(cls) -> Callable[[], str]:  # noqa: N805 - a metaclass: its instance is a class
        from statemachines_orchestrator.diagram import jupyter_class_markdown

        return jupyter_class_markdown(cls)


class JupyterShop(Orchestrator, metaclass=JupyterMeta):
    """What ``Orchestrator`` gains for Jupyter (see the integration note)."""

    order: OrderMachine
    payment: PaymentMachine

    def _repr_markdown_(self) -> str:
        from statemachines_orchestrator.diagram import jupyter_markdown

        return jupyter_markdown(self)


def test_jupyter_hooks_show_a_class_and_an_instance_as_their_diagram() -> None:
    shown_class = ipython_real_method(JupyterShop, "_repr_markdown_")
    assert shown_class is not None
    assert shown_class() == to_markdown(JupyterShop)

    shop = JupyterShop(OrderMachine(), PaymentMachine())
    shop.order.place(total=1)
    shown_instance = ipython_real_method(shop, "_repr_markdown_")
    assert shown_instance is not None
    assert shown_instance() == to_markdown(shop)
    assert "class order__paid, payment__authorized active" in shown_instance()


def test_jupyter_helpers() -> None:
    assert jupyter_markdown(Shop) == to_markdown(Shop)
    bound = jupyter_class_markdown(Shop)
    assert isinstance(bound, types.MethodType)
    assert bound() == to_markdown(Shop)


def test_importing_the_package_loads_no_diagram_code() -> None:
    code = (
        "import sys, statemachines_orchestrator\n"
        "loaded = sorted(m for m in sys.modules if m.startswith("
        "('statemachines_orchestrator.diagram', 'statemachines_orchestrator._cli', 'pydot')))\n"
        "print(loaded)\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == "[]\n"


def test_drawing_loads_no_pydot() -> None:
    code = (
        "import sys\n"
        "from statemachines_orchestrator.diagram import to_dot, to_mermaid\n"
        "from tests.diagram_machines import Shop\n"
        "to_dot(Shop), to_mermaid(Shop)\n"
        "print('pydot' in sys.modules)\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.stdout == "False\n"

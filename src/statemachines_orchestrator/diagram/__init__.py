"""Diagrams of an orchestrator: its machines, their states, and the calls between them.

Nothing here is imported by ``import statemachines_orchestrator``: import it
when you draw.

>>> from statemachines_orchestrator.diagram import to_mermaid, to_dot, render

- :func:`extract` reads an orchestrator class or instance (and, optionally, a
  recorded trace) into an :class:`OrchestratorGraph`;
- :func:`to_mermaid`, :func:`to_markdown` and :func:`to_dot` write text and need
  nothing more; :func:`to_image` renders SVG or PNG through the ``diagrams``
  extra (pydot) and Graphviz;
- :func:`render` writes a file in the format its suffix names;
- :func:`diagram` wraps a graph in a :class:`Diagram` that Jupyter displays.

See the documentation's *Diagrams* page for pictures.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Callable, Union

from . import _dot, _mermaid
from ._errors import (
    DiagramError,
    DiagramExtraMissingError,
    GraphvizMissingError,
    GraphvizRenderError,
    NotAnOrchestratorError,
    UnknownDiagramFormatError,
)
from ._extract import TraceLike, TraceRecordLike, extract
from ._model import (
    CrossEdge,
    MachineCluster,
    OrchestratorGraph,
    Problem,
    StateNode,
    TransitionEdge,
)

__all__ = [
    "FORMATS",
    "CrossEdge",
    "Diagram",
    "DiagramError",
    "DiagramExtraMissingError",
    "GraphvizMissingError",
    "GraphvizRenderError",
    "MachineCluster",
    "NotAnOrchestratorError",
    "OrchestratorGraph",
    "Problem",
    "StateNode",
    "TraceLike",
    "TraceRecordLike",
    "TransitionEdge",
    "UnknownDiagramFormatError",
    "diagram",
    "extract",
    "format_for_path",
    "jupyter_class_markdown",
    "jupyter_markdown",
    "render",
    "to_dot",
    "to_image",
    "to_markdown",
    "to_mermaid",
]

FORMATS = {
    ".mmd": "mermaid",
    ".md": "markdown",
    ".dot": "dot",
    ".svg": "svg",
    ".png": "png",
}
"""File suffix -> output format, for :func:`render` and the command line."""

Drawable = Union[object, OrchestratorGraph]
"""An orchestrator class or instance, or a graph already extracted from one."""


def _graph(obj: object, trace: TraceLike | None) -> OrchestratorGraph:
    if isinstance(obj, OrchestratorGraph):
        if trace is not None:
            msg = "pass trace= to extract(), not with a graph already extracted"
            raise DiagramError(msg)
        return obj
    return extract(obj, trace=trace)


def to_mermaid(obj: object, *, trace: TraceLike | None = None, direction: str = "LR") -> str:
    """Mermaid ``stateDiagram-v2`` text of an orchestrator class or instance.

    Args:
        obj: An orchestrator class or instance, or a graph from :func:`extract`.
        trace: A recorded trace (any object with :class:`TraceLike`'s
            ``records``): the calls it observed are drawn as well.
        direction: Mermaid's layout direction (``LR``, ``TB``, ``RL``, ``BT``).

    Raises:
        NotAnOrchestratorError: ``obj`` is not an orchestrator class or instance.
    """
    return _mermaid.render(_graph(obj, trace), direction=direction)


def to_markdown(obj: object, *, trace: TraceLike | None = None, direction: str = "LR") -> str:
    """The Mermaid text of :func:`to_mermaid` in a Markdown ``mermaid`` code fence.

    GitHub, GitLab, JupyterLab (4.1+) and Sphinx with ``sphinxcontrib-mermaid``
    (through MyST) draw such a fence as a picture.

    Raises:
        NotAnOrchestratorError: ``obj`` is not an orchestrator class or instance.
    """
    return _mermaid.render_markdown(_graph(obj, trace), direction=direction)


def to_dot(obj: object, *, trace: TraceLike | None = None, direction: str = "LR") -> str:
    """Graphviz DOT text of an orchestrator class or instance.

    Args:
        obj: An orchestrator class or instance, or a graph from :func:`extract`.
        trace: A recorded trace; the calls it observed are drawn solid.
        direction: Graphviz's ``rankdir`` (``LR``, ``TB``, ``RL``, ``BT``).

    Raises:
        NotAnOrchestratorError: ``obj`` is not an orchestrator class or instance.
    """
    return _dot.render(_graph(obj, trace), direction=direction)


def to_image(obj: object, image_format: str = "svg", *, trace: TraceLike | None = None) -> bytes:
    """An SVG or PNG picture, rendered by Graphviz from :func:`to_dot`'s text.

    Needs the ``diagrams`` extra (``pip install 'statemachines-orchestrator[diagrams]'``,
    which installs pydot) and Graphviz's ``dot`` program.

    Args:
        obj: An orchestrator class or instance, or a graph from :func:`extract`.
        image_format: ``svg`` or ``png``.
        trace: A recorded trace; the calls it observed are drawn solid.

    Raises:
        UnknownDiagramFormatError: ``image_format`` is neither ``svg`` nor ``png``.
        DiagramExtraMissingError: pydot is not installed.
        GraphvizMissingError: Graphviz's ``dot`` is not on ``PATH``.
        GraphvizRenderError: ``dot`` failed.
    """
    from ._graphviz import IMAGE_FORMATS, render_image  # noqa: PLC0415 - loads pydot only on use

    if image_format not in IMAGE_FORMATS:
        msg = f"unknown image format {image_format!r}: expected one of {', '.join(IMAGE_FORMATS)}"
        raise UnknownDiagramFormatError(msg)
    return render_image(_dot.render(_graph(obj, trace)), image_format)


def format_for_path(path: str | Path) -> str:
    """The output format :func:`render` picks for a file name, from its suffix.

    >>> format_for_path("shop.svg")
    'svg'

    Raises:
        UnknownDiagramFormatError: The suffix is not one of :data:`FORMATS`.
    """
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        shown = repr(suffix) if suffix else "no suffix"
        msg = (
            f"cannot tell the diagram format of {str(path)!r} from {shown}: "
            f"use one of {', '.join(FORMATS)}"
        )
        raise UnknownDiagramFormatError(msg) from None


def _content(graph: OrchestratorGraph, output_format: str) -> str | bytes:
    writers: dict[str, Callable[[OrchestratorGraph], str | bytes]] = {
        "mermaid": _mermaid.render,
        "markdown": _mermaid.render_markdown,
        "dot": _dot.render,
        "svg": lambda g: to_image(g, "svg"),
        "png": lambda g: to_image(g, "png"),
    }
    try:
        writer = writers[output_format]
    except KeyError:
        msg = (
            f"unknown diagram format {output_format!r}: "
            f"use one of {', '.join(sorted(set(FORMATS.values())))}"
        )
        raise UnknownDiagramFormatError(msg) from None
    return writer(graph)


def render(
    obj: object,
    path: str | Path,
    *,
    trace: TraceLike | None = None,
    output_format: str | None = None,
) -> Path:
    """Write a diagram to a file, in the format its suffix names.

    Args:
        obj: An orchestrator class or instance, or a graph from :func:`extract`.
        path: The file to write: ``.mmd`` (Mermaid), ``.md`` (Mermaid in a
            Markdown fence), ``.dot``, ``.svg`` or ``.png`` (the last two need the
            ``diagrams`` extra and Graphviz).
        trace: A recorded trace; the calls it observed are drawn as well.
        output_format: A format name (``mermaid``, ``markdown``, ``dot``,
            ``svg``, ``png``) that overrides the suffix.

    Returns:
        The path written.

    Raises:
        UnknownDiagramFormatError: The suffix or format is not one the package writes.
        NotAnOrchestratorError: ``obj`` is not an orchestrator class or instance.
        DiagramExtraMissingError: SVG or PNG without pydot.
        GraphvizMissingError: SVG or PNG without Graphviz's ``dot``.
    """
    target = Path(path)
    chosen = output_format if output_format is not None else format_for_path(target)
    content = _content(_graph(obj, trace), chosen)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")
    return target


class Diagram:
    """The diagram of one orchestrator class or instance, for display and export.

    Jupyter shows it as its Mermaid picture (``_repr_markdown_``) and, where
    pydot and Graphviz are installed, as SVG (``_repr_svg_``).

    Args:
        graph: The graph to draw, from :func:`extract`.
    """

    def __init__(self, graph: OrchestratorGraph) -> None:
        self.graph = graph

    @property
    def problems(self) -> tuple[Problem, ...]:
        """What the extraction found but does not draw."""
        return self.graph.problems

    def mermaid(self) -> str:
        """The Mermaid ``stateDiagram-v2`` text."""
        return _mermaid.render(self.graph)

    def dot(self) -> str:
        """The Graphviz DOT text."""
        return _dot.render(self.graph)

    def save(self, path: str | Path) -> Path:
        """Write the diagram to ``path``, in the format its suffix names (see :func:`render`)."""
        return render(self.graph, path)

    def _repr_markdown_(self) -> str:
        return _mermaid.render_markdown(self.graph)

    def _repr_svg_(self) -> str | None:
        try:
            return to_image(self.graph, "svg").decode("utf-8")
        except (DiagramExtraMissingError, GraphvizMissingError):
            return None  # Jupyter falls back to the Markdown

    def __repr__(self) -> str:
        return f"<Diagram of {self.graph.name}: {len(self.graph.machines)} machines>"


def diagram(obj: object, *, trace: TraceLike | None = None) -> Diagram:
    """The :class:`Diagram` of an orchestrator class or instance.

    Args:
        obj: An orchestrator class or instance.
        trace: A recorded trace; the calls it observed are drawn as well.

    Raises:
        NotAnOrchestratorError: ``obj`` is not an orchestrator class or instance.
    """
    return Diagram(_graph(obj, trace))


def jupyter_markdown(obj: object) -> str:
    """What an orchestrator class or instance shows in Jupyter: its Mermaid diagram.

    For ``Orchestrator._repr_markdown_`` (instances).
    """
    return to_markdown(obj)


def jupyter_class_markdown(cls: type) -> Callable[[], str]:
    """``_repr_markdown_`` for an orchestrator *class*, as Jupyter wants it.

    For a property ``_repr_markdown_`` on the orchestrator metaclass: IPython
    calls a class's ``_repr_*_`` only if it is a bound method (a plain function
    found on a class is an unbound instance method), and a property on the
    metaclass is a data descriptor, so it wins over ``Orchestrator``'s own
    ``_repr_markdown_`` for the class while instances keep that one.
    """
    return types.MethodType(jupyter_markdown, cls)

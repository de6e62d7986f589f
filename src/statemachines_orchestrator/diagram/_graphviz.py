"""DOT text -> SVG or PNG, through pydot and Graphviz's ``dot``.

The only module that imports pydot, and only when an image is asked for: the
rest of the package writes text and needs neither.
"""

from __future__ import annotations

import importlib
import shutil
from typing import Any

from ._errors import (
    GRAPHVIZ_INSTALL,
    PYDOT_INSTALL,
    DiagramExtraMissingError,
    GraphvizMissingError,
    GraphvizRenderError,
)

IMAGE_FORMATS = ("svg", "png")
"""The image formats Graphviz renders for the package."""


def _pydot(image_format: str) -> Any:
    try:
        return importlib.import_module("pydot")
    except ImportError:
        msg = f"{image_format.upper()} output needs pydot: {PYDOT_INSTALL}"
        raise DiagramExtraMissingError(msg) from None


def render_image(dot_text: str, image_format: str) -> bytes:
    """Render DOT text with Graphviz's ``dot``.

    Args:
        dot_text: A DOT graph, as :func:`~statemachines_orchestrator.diagram.to_dot`
            writes it.
        image_format: ``svg`` or ``png``.

    Raises:
        DiagramExtraMissingError: pydot is not installed.
        GraphvizMissingError: Graphviz's ``dot`` is not on ``PATH``.
        GraphvizRenderError: ``dot`` failed.
    """
    pydot = _pydot(image_format)
    if shutil.which("dot") is None:
        msg = (
            f"{image_format.upper()} output needs Graphviz's dot program, "
            f"which is not on PATH: {GRAPHVIZ_INSTALL}"
        )
        raise GraphvizMissingError(msg)
    graphs = pydot.graph_from_dot_data(dot_text)
    if not graphs:  # pragma: no cover - the package's DOT always parses
        msg = "pydot could not read the DOT text"
        raise GraphvizRenderError(msg)
    try:
        data = graphs[0].create(prog="dot", format=image_format)
    except (OSError, AssertionError) as error:  # pydot asserts dot's exit status
        msg = f"Graphviz's dot failed to render {image_format.upper()}: {error}"
        raise GraphvizRenderError(msg) from error
    return bytes(data)

"""DOT text -> SVG or PNG, through pydot and Graphviz's ``dot``.

The only module that imports pydot, and only when an image is asked for: the
rest of the package writes text and needs neither.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
from pathlib import Path
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
    # pydot runs dot (it finds dot.exe on Windows too). The text is handed to
    # dot as written: reparsing it with pydot would only slow it down and
    # trigger pyparsing's deprecation warnings.
    with tempfile.TemporaryDirectory(prefix="smo-diagram-") as folder:
        source = Path(folder) / "diagram.dot"
        source.write_text(dot_text, encoding="utf-8")
        try:
            stdout, stderr, process = pydot.call_graphviz(
                program="dot", arguments=[f"-T{image_format}", source.name], working_dir=folder
            )
        except OSError as error:
            msg = f"Graphviz's dot could not be run: {error}"
            raise GraphvizRenderError(msg) from error
    if process.returncode != 0:
        detail = bytes(stderr).decode("utf-8", "replace").strip()
        msg = f"Graphviz's dot failed to render {image_format.upper()}: {detail}"
        raise GraphvizRenderError(msg)
    return bytes(stdout)

"""Errors raised by the diagram package.

They live here, beside the code that raises them, until they join
:mod:`statemachines_orchestrator.exceptions`; every one derives from
:class:`~statemachines_orchestrator.OrchestratorError` and from the builtin
exception a caller would already catch.
"""

from __future__ import annotations

from statemachines_orchestrator import MissingExtraError, OrchestratorError

PYDOT_INSTALL = "pip install 'statemachines-orchestrator[diagrams]'"
"""The command that installs the ``diagrams`` extra (pydot)."""

GRAPHVIZ_INSTALL = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
    "see https://graphviz.org/download/)"
)
"""What to do when Graphviz's ``dot`` binary is missing."""


class DiagramError(OrchestratorError):
    """Root of the errors raised while drawing an orchestrator."""


class NotAnOrchestratorError(DiagramError, TypeError):
    """The object to draw is neither an orchestrator class nor an orchestrator instance."""


class UnknownDiagramFormatError(DiagramError, ValueError):
    """The requested output format (or file suffix) is not one the package writes."""


class DiagramExtraMissingError(DiagramError, MissingExtraError):
    """SVG or PNG output needs pydot, from the ``diagrams`` extra, and it is not installed."""


class GraphvizMissingError(DiagramError, RuntimeError):
    """SVG or PNG output needs Graphviz's ``dot`` binary, and it is not on ``PATH``."""


class GraphvizRenderError(DiagramError, RuntimeError):
    """Graphviz's ``dot`` ran but failed to render the diagram."""

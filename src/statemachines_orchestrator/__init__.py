"""Coordinate several python-statemachine machines through one typed orchestrator.

>>> from statemachines_orchestrator import Orchestrator
>>> issubclass(Orchestrator, object)
True
"""

from __future__ import annotations

from . import exceptions
from ._fields import built
from .exceptions import *  # noqa: F403 - the names are listed once, in exceptions.__all__
from .orchestrator import Orchestrator, OrchestratorMeta

__version__ = "0.1.0"

__all__ = ["Orchestrator", "OrchestratorMeta", "__version__", "built"]
# The exception names are listed once, in exceptions.__all__ (a form both mypy
# and pyright follow for re-exports).
__all__ += exceptions.__all__

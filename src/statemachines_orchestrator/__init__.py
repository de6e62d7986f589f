"""Coordinate several python-statemachine machines through one typed orchestrator.

>>> from statemachines_orchestrator import Orchestrator
>>> issubclass(Orchestrator, object)
True
"""

from __future__ import annotations

from .exceptions import (
    AnnotationIsNotAStateMachineError,
    InvalidMachineFieldError,
    InvalidOrchestratorNameError,
    MachineAlreadyOrchestratedError,
    MachineFieldShadowsAPIError,
    MachineTypeMismatchError,
    NoMachinesOnOrchestratorError,
    OrchestratorError,
    OrchestratorNameIsFixedError,
    OrchestratorNameTypeError,
    StateFieldIsNotUniqueError,
    UnexpectedAnnotationTypeError,
)
from .fields import built
from .orchestrator import Orchestrator, OrchestratorMeta

__version__ = "0.1.0"

__all__ = [
    "AnnotationIsNotAStateMachineError",
    "InvalidMachineFieldError",
    "InvalidOrchestratorNameError",
    "MachineAlreadyOrchestratedError",
    "MachineFieldShadowsAPIError",
    "MachineTypeMismatchError",
    "NoMachinesOnOrchestratorError",
    "Orchestrator",
    "OrchestratorError",
    "OrchestratorMeta",
    "OrchestratorNameIsFixedError",
    "OrchestratorNameTypeError",
    "StateFieldIsNotUniqueError",
    "UnexpectedAnnotationTypeError",
    "__version__",
    "built",
]

"""Exceptions raised by statemachines-orchestrator.

Every exception derives from :class:`OrchestratorError`, and each also derives
from the builtin exception a caller would already catch (:class:`TypeError` for
a wrong kind of value or declaration, :class:`ValueError` for a right kind of
value that breaks a rule, :class:`AttributeError` for an attribute that cannot
be changed), so ``except TypeError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "AnnotationIsNotAStateMachineError",
    "InvalidMachineFieldError",
    "InvalidOrchestratorNameError",
    "MachineAlreadyOrchestratedError",
    "MachineFieldShadowsAPIError",
    "MachineTypeMismatchError",
    "NoMachinesOnOrchestratorError",
    "OrchestratorError",
    "OrchestratorNameIsFixedError",
    "OrchestratorNameTypeError",
    "StateFieldIsNotUniqueError",
    "UnexpectedAnnotationTypeError",
]


class OrchestratorError(Exception):
    """Root of every error raised by statemachines-orchestrator."""


class NoMachinesOnOrchestratorError(OrchestratorError, TypeError):
    """An orchestrator class declares no machine fields."""


class AnnotationIsNotAStateMachineError(OrchestratorError, TypeError):
    """A field's annotation is a class, but not a python-statemachine machine class."""


class UnexpectedAnnotationTypeError(AnnotationIsNotAStateMachineError):
    """A field's annotation is not a class at all (a union, a generic alias, a value)."""


class InvalidOrchestratorNameError(OrchestratorError, ValueError):
    """``orchestrator_name`` cannot be used as the keyword callbacks receive.

    A name that is not a :class:`str` raises :class:`OrchestratorNameTypeError`.
    """


class InvalidMachineFieldError(OrchestratorError, TypeError):
    """A machine field's declaration breaks a rule.

    A field's only possible default is :func:`~statemachines_orchestrator.built`, and a
    field without one cannot follow a field with one (it would follow an optional
    ``__init__`` parameter).
    """


class OrchestratorNameTypeError(OrchestratorError, TypeError):
    """``orchestrator_name`` is not a :class:`str`."""


class OrchestratorNameIsFixedError(OrchestratorError, AttributeError):
    """``orchestrator_name`` is assigned or deleted after the class statement.

    It is fixed when the class is defined (the generated ``__init__`` is written
    for it); set it with the class keyword instead.
    """


class MachineFieldShadowsAPIError(OrchestratorError, TypeError):
    """A machine field would hide an attribute of the orchestrator's own API."""


class MachineTypeMismatchError(OrchestratorError, TypeError):
    """A machine passed for a field is not an instance of the field's class."""


class MachineAlreadyOrchestratedError(OrchestratorError, ValueError):
    """A machine is given twice, or already belongs to another orchestrator."""


class StateFieldIsNotUniqueError(OrchestratorError, ValueError):
    """Two machines share one model object and write the same ``state_field``."""

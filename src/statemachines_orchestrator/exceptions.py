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
    "EngineInternalsWarning",
    "EngineNotSupportedError",
    "InvalidFanInError",
    "InvalidMachineFieldError",
    "InvalidMemberKeyError",
    "InvalidOrchestratorNameError",
    "MachineAlreadyOrchestratedError",
    "MachineBusyError",
    "MachineFieldShadowsAPIError",
    "MachineTypeMismatchError",
    "NoMachinesOnOrchestratorError",
    "NotAMemberError",
    "OrchestratorError",
    "OrchestratorNameIsFixedError",
    "OrchestratorNameTypeError",
    "StateFieldIsNotUniqueError",
    "UnexpectedAnnotationTypeError",
    "UnknownEventError",
    "UnknownFieldError",
    "UnknownStateError",
    "UnresolvedAnnotationError",
]


class OrchestratorError(Exception):
    """Root of every error raised by statemachines-orchestrator."""


class NoMachinesOnOrchestratorError(OrchestratorError, TypeError):
    """An orchestrator class declares no machine fields."""


class AnnotationIsNotAStateMachineError(OrchestratorError, TypeError):
    """A field's annotation is a class, but not a python-statemachine machine class."""


class UnexpectedAnnotationTypeError(AnnotationIsNotAStateMachineError):
    """A field's annotation is not a class at all (a union, a generic alias, a value)."""


class UnresolvedAnnotationError(OrchestratorError, NameError):
    """A field's annotation names something that is still undefined when the class is first built.

    String annotations and forward references may name machine classes defined
    after the orchestrator class; they are resolved at the first instantiation.
    """


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


class MachineBusyError(OrchestratorError, RuntimeError):
    """A machine is released or replaced while it is processing an event.

    Do it after the event instead, from the code that sent it.
    """


class StateFieldIsNotUniqueError(OrchestratorError, ValueError):
    """Two machines share one model object and write the same ``state_field``."""


class EngineNotSupportedError(OrchestratorError, RuntimeError):
    """The installed python-statemachine offers no way to inject the orchestrator.

    Raised when an orchestrator is built on a 2.x release whose internals this
    release of statemachines-orchestrator does not recognise (2.x has no public
    hook to fall back on). The message names the version and what to install.
    """


class EngineInternalsWarning(RuntimeWarning):
    """The installed python-statemachine's internals are not the ones the fast path knows.

    Given once, when the package is imported. The message names the installed
    version and what was not recognised. On 3.x the orchestrator is then
    injected through python-statemachine's public ``prepare_event`` hook (slower,
    and it does not reach ``invoke`` handlers nor guards evaluated by
    ``enabled_events()``); on 2.x building an orchestrator raises
    :class:`EngineNotSupportedError`.
    """


class InvalidMemberKeyError(OrchestratorError, TypeError):
    """A member of a ``dict[str, Machine]`` collection is given a key that is not a ``str``."""


class UnknownEventError(OrchestratorError, LookupError):
    """:meth:`Orchestrator.send` names an event that no machine of the orchestrator defines."""


class UnknownStateError(OrchestratorError, LookupError):
    """A query names a state that a machine's class does not have."""


class UnknownFieldError(OrchestratorError, LookupError):
    """A query used as a condition names a field its orchestrator does not have."""


class NotAMemberError(OrchestratorError, LookupError):
    """A machine is no member of an orchestrator's collections (or of any orchestrator).

    Raised by :func:`~statemachines_orchestrator.coordination.member_key`, and by
    a query condition guarding a machine that belongs to no orchestrator.
    """


class InvalidFanInError(OrchestratorError, TypeError):
    """A :func:`~statemachines_orchestrator.coordination.when_all` declaration breaks a rule.

    Raised when the orchestrator class is created: a field it names does not
    exist, a machine class has no such state, or the target defines no such event.
    """

"""Exceptions raised by statemachines-orchestrator.

Every exception derives from :class:`OrchestratorError`, and each also derives
from the builtin exception a caller would already catch (:class:`TypeError` for
a wrong kind of value or declaration, :class:`ValueError` for a right kind of
value that breaks a rule, :class:`AttributeError` for an attribute that cannot
be changed), so ``except TypeError`` keeps working.
"""

from __future__ import annotations

__all__: list[str] = [
    "AnnotationIsNotAStateMachineError",
    "CallbackSignatureError",
    "ConcurrentUpdateError",
    "EngineInternalsWarning",
    "EngineNotSupportedError",
    "InvalidFanInError",
    "InvalidMachineFieldError",
    "InvalidMemberKeyError",
    "InvalidOrchestratorNameError",
    "InvalidStoreArgumentError",
    "MachineAlreadyOrchestratedError",
    "MachineBusyError",
    "MachineDataNotSerializableError",
    "MachineFieldShadowsAPIError",
    "MachineTypeMismatchError",
    "MissingExtraError",
    "NoMachinesOnOrchestratorError",
    "NotAMemberError",
    "ObservationNotSupportedError",
    "OpenTelemetryNotInstalledError",
    "OrchestratorError",
    "OrchestratorNameIsFixedError",
    "OrchestratorNameTypeError",
    "OrchestratorNotFromStoreError",
    "SnapshotError",
    "SnapshotNotFoundError",
    "SnapshotTypeError",
    "SnapshotVersionError",
    "StateFieldIsNotUniqueError",
    "StoreExtraMissingError",
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


class CallbackSignatureError(OrchestratorError, TypeError):
    """A callback declares the orchestrator's parameter in a way no keyword can fill.

    Raised when the machine joins an orchestrator (not at every event): a
    positional-only parameter named like ``orchestrator_name``.
    """


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


class SnapshotError(OrchestratorError, ValueError):
    """A snapshot cannot be restored (or taken): its data breaks a rule.

    Raised by :meth:`Orchestrator.restore <statemachines_orchestrator.Orchestrator.restore>`
    for a snapshot of another orchestrator class, a machine field it lacks or
    does not know, a machine class that differs, a state id the class no longer
    has, a configuration the chart cannot be in. Nothing is built, wired or
    kept owned when it is raised.
    """


class SnapshotTypeError(SnapshotError, TypeError):
    """A snapshot, or a value inside it, is not of the type the format requires."""


class SnapshotVersionError(SnapshotError):
    """A snapshot was written by a newer release, or a newer version of the orchestrator.

    Its ``"format"`` is newer than the library's
    :data:`~statemachines_orchestrator.snapshot.FORMAT_VERSION`, or its
    ``"version"`` is newer than the one registered with
    :func:`~statemachines_orchestrator.snapshot.upgrade` (or lower, with no
    upgrade function registered).
    """


class MachineDataNotSerializableError(SnapshotError, TypeError):
    """A machine's snapshot field holds a value that is not plain JSON data.

    Raised by :meth:`Orchestrator.snapshot <statemachines_orchestrator.Orchestrator.snapshot>`,
    naming the machine field and the attribute, so that a snapshot that cannot
    be read back is never written.
    """


class ObservationNotSupportedError(OrchestratorError, RuntimeError):
    """Listeners, traces or instrumentation cannot be attached on this python-statemachine.

    They reach into python-statemachine's internals (a machine's callback
    registry and engine); when the installed release's internals are not the
    ones this release knows, attaching raises this error, naming the version
    and what to install.
    """


class MissingExtraError(OrchestratorError, ImportError):
    """An optional extra's dependency is not installed; the message gives the command.

    The root of :class:`StoreExtraMissingError`, :class:`OpenTelemetryNotInstalledError`
    and the diagram package's ``DiagramExtraMissingError``, so that one
    ``except MissingExtraError`` (or ``except ImportError``) catches them all.
    """


class OpenTelemetryNotInstalledError(MissingExtraError):
    """:mod:`statemachines_orchestrator.otel` is used without ``opentelemetry-api``.

    Install the extra: ``pip install 'statemachines-orchestrator[otel]'``.
    """


class ConcurrentUpdateError(OrchestratorError, RuntimeError):
    """Another writer changed a stored orchestrator first; nothing of this write was stored.

    Raised by a store when the version of the row it loaded is no longer the
    stored one, when two writers create the same new key, and when a SQLite
    database stays busy past the store's timeout. Run the unit of work again
    on fresh state, for instance with :func:`statemachines_orchestrator.store.retry`.
    """


class SnapshotNotFoundError(OrchestratorError, LookupError):
    """A store holds no orchestrator of the requested class under the requested key."""


class StoreExtraMissingError(MissingExtraError):
    """A store backend's optional dependency is not installed; the message says what to install."""


class InvalidStoreArgumentError(OrchestratorError, TypeError):
    """A store got a key that is no non-empty :class:`str`, or a class that is no orchestrator.

    Also raised for other arguments of the store API that break a rule (a
    table name, ``retry()``'s settings); the message names the argument.
    """


class OrchestratorNotFromStoreError(OrchestratorError, ValueError):
    """``save()`` was given an orchestrator this store did not load or create.

    A store saves an orchestrator only with the version check of the row it
    came from; store a new one with ``create()`` or a unit of work.
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

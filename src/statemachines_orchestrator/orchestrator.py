"""The :class:`Orchestrator` base class."""

from __future__ import annotations

import keyword
import sys
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from typing_extensions import Self, dataclass_transform

from . import _atomic, _collections, _joining, _psm, _snapshot
from ._fields import MachineField, built, collect_machine_fields
from ._init_gen import make_init
from .exceptions import (
    InvalidMachineFieldError,
    InvalidOrchestratorNameError,
    NoMachinesOnOrchestratorError,
    OrchestratorNameIsFixedError,
    OrchestratorNameTypeError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from contextlib import AbstractContextManager
    from types import FrameType

    from .listeners import ListenerHandle

__all__ = ["API_NAMES", "Orchestrator", "OrchestratorMeta"]

DEFAULT_ORCHESTRATOR_NAME = "orc"

API_NAMES = frozenset(
    {
        "machines",
        "machine_classes",
        "orchestrator_name",
        "release",
        # Reserved for the features announced in the docs (broadcast,
        # snapshots, atomic steps, listeners), so that no field takes them.
        "send",
        "snapshot",
        "restore",
        "atomic",
        "add_listener",
    }
)
"""The public names of :class:`Orchestrator`: no machine field may take one.

Everything else the library offers lives in submodules, so that this list,
and the names it keeps from users' fields, stays short.
"""


@dataclass_transform(field_specifiers=(built,))
class OrchestratorMeta(type):
    """Metaclass of :class:`Orchestrator`.

    It carries :func:`~typing.dataclass_transform`, which tells type checkers
    that subclasses get an ``__init__`` taking their machine fields (collected
    at runtime by :meth:`Orchestrator.__init_subclass__`), and keeps each
    class's ``orchestrator_name`` as its class statement set it.
    """

    @property
    def _repr_markdown_(cls) -> Callable[[], str]:
        """Jupyter shows an orchestrator class as its diagram (Mermaid in Markdown)."""
        from .diagram import jupyter_class_markdown  # noqa: PLC0415 - only when displayed

        return jupyter_class_markdown(cls)

    def __setattr__(cls, name: str, value: Any) -> None:
        """Refuse to change ``orchestrator_name``; set anything else."""
        if name == "orchestrator_name":
            _refuse_renaming(cls)
        super().__setattr__(name, value)

    def __delattr__(cls, name: str) -> None:
        """Refuse to delete ``orchestrator_name``; delete anything else."""
        if name == "orchestrator_name":
            _refuse_renaming(cls)
        super().__delattr__(name)


def _refuse_renaming(cls: type) -> None:
    msg = (
        f"{cls.__qualname__}.orchestrator_name is fixed when the class is defined; declare "
        f"`class {cls.__name__}(..., orchestrator_name=...)` instead"
    )
    raise OrchestratorNameIsFixedError(msg)


class _MachineClasses:
    """Descriptor behind :attr:`Orchestrator.machine_classes`, on classes and instances."""

    def __get__(self, obj: object, owner: type[Orchestrator]) -> Mapping[str, type[Any]]:
        if owner.__orchestrator_pending__:
            _joining.resolve(owner)
        return MappingProxyType(
            {name: field.expected_class for name, field in owner.__machine_fields__.items()}
        )


class Orchestrator(metaclass=OrchestratorMeta):
    """Base class of orchestrators: a set of machines that see each other.

    Subclass it and annotate one attribute per machine. Every callback of every
    machine that declares a parameter named after :attr:`orchestrator_name`
    (``orc`` unless the class says otherwise) receives the orchestrator.

    Example:
        >>> from statemachine import StateMachine, State
        >>> from statemachines_orchestrator import Orchestrator
        >>> class Ping(StateMachine):
        ...     idle = State(initial=True)
        ...     sent = State()
        ...     hit = idle.to(sent) | sent.to(idle)
        ...     def after_hit(self, orc):
        ...         if self.sent.is_active:
        ...             orc.pong.hit()
        >>> class Pong(Ping):
        ...     def after_hit(self):
        ...         pass
        >>> class Table(Orchestrator):
        ...     ping: Ping
        ...     pong: Pong
        >>> table = Table(ping=Ping(), pong=Pong())
        >>> table.ping.hit()
        >>> table
        Table(ping=<Ping: 'sent'>, pong=<Pong: 'sent'>)

    The class keyword ``orchestrator_name`` renames the keyword callbacks
    receive (inherited by subclasses; default ``"orc"``), and ``abstract=True``
    declares a base class without machine fields, for subclasses to fill. A
    ``__post_init__`` method, if the class has one, runs once every machine is
    wired, as with :mod:`dataclasses`.
    """

    orchestrator_name: ClassVar[str] = DEFAULT_ORCHESTRATOR_NAME
    """The keyword under which callbacks receive the orchestrator."""

    machine_classes: ClassVar[_MachineClasses] = _MachineClasses()
    """Field name to machine class, in declaration order (read-only)."""

    __machine_fields__: ClassVar[Mapping[str, MachineField]] = MappingProxyType({})
    __orchestrator_pending__: ClassVar[bool] = False
    __orchestrator_post_init__: ClassVar[bool] = False
    __orchestrator_init__: ClassVar[Callable[..., None]]

    def __init_subclass__(
        cls, *, orchestrator_name: str | None = None, abstract: bool = False, **kwargs: Any
    ) -> None:
        """Collect the machine fields of a new orchestrator class and give it an ``__init__``.

        Args:
            orchestrator_name: The keyword callbacks receive the orchestrator
                under; ``None`` keeps the one inherited (``"orc"`` at the root).
            abstract: Declare a base class that may have no machine field yet,
                for subclasses to fill; it cannot be instantiated while it has none.
            **kwargs: Passed on to the next ``__init_subclass__`` in the MRO.

        Raises:
            OrchestratorNameTypeError: ``orchestrator_name`` is not a string.
            InvalidOrchestratorNameError: It is no identifier, or is a name
                python-statemachine already passes to callbacks.
            NoMachinesOnOrchestratorError: The class has no machine field and is
                not declared ``abstract=True``.
            AnnotationIsNotAStateMachineError: A field's annotation is no machine class.
            MachineFieldShadowsAPIError: A field hides the orchestrator's API.
            InvalidMachineFieldError: A field has a default other than ``built()``,
                or a required field follows a built one.
            InvalidFanInError: A ``when_all(...)`` declaration names a field,
                state or event that does not exist.
        """
        super().__init_subclass__(**kwargs)
        if orchestrator_name is not None:
            type.__setattr__(cls, "orchestrator_name", orchestrator_name)
        _check_orchestrator_name(cls, cls.orchestrator_name)

        inherited = [
            vars(base)["__machine_fields__"]
            for base in reversed(cls.__mro__[1:])
            if "__machine_fields__" in vars(base)
        ]
        scope, globalns = _class_statement_scope()
        fields = collect_machine_fields(
            cls,
            inherited,
            _RESERVED_FIELD_NAMES,
            _psm.MACHINE_BASE,
            scope=scope,
            globalns=globalns,
            abstract=abstract,
        )
        for field in fields.values():
            # A built() marker is a declaration, not a class attribute: an
            # instance's machine lives in the instance dict.
            if field.owner is cls and field.built is not None:
                delattr(cls, field.name)
        cls.__machine_fields__ = MappingProxyType(fields)
        cls.__orchestrator_pending__ = any(f.machine_class is None for f in fields.values())
        cls.__orchestrator_post_init__ = hasattr(cls, "__post_init__")
        init: Callable[..., None] = make_init(cls, fields) if fields else _no_fields_init
        cls.__orchestrator_init__ = init
        if "__init__" not in vars(cls):
            cls.__init__ = init  # type: ignore[method-assign]

    def __init__(self, *args: object, **kwargs: object) -> None:
        """Set the machines; for a subclass that writes its own ``__init__``.

        Type checkers see, for each subclass, the ``__init__`` that
        ``dataclass_transform`` synthesizes from its fields instead.
        """
        type(self).__orchestrator_init__(self, *args, **kwargs)

    @property
    def machines(self) -> Mapping[str, Any]:
        """Field name to machine, in declaration order (read-only)."""
        own = vars(self)
        return MappingProxyType(
            {name: own[name] for name in type(self).__machine_fields__ if name in own}
        )

    def release(self) -> dict[str, Any]:
        """Unwire every machine and hand them back.

        Afterwards the machines' callbacks no longer receive this orchestrator,
        and each machine may join another orchestrator. This orchestrator no
        longer holds any machine.

        Returns:
            Field name to machine, in declaration order.
        """
        _joining.refuse_busy(self, type(self).__machine_fields__, "release()")
        return _joining.release(self)

    def send(self, event: str, /, *args: Any, **kwargs: Any) -> Any:
        """Send ``event`` to every machine that defines it, and return what each returned.

        Machines are reached in declaration order, the members of a collection
        in their order. Each is called as ``machine.<event>(*args, **kwargs)``,
        so each follows its own rule for an event it cannot take in its current
        state: a ``StateMachine`` raises ``TransitionNotAllowed`` (declare
        ``allow_event_without_transition = True`` to have it ignore the event),
        a python-statemachine 3.x ``StateChart`` ignores it. An exception stops
        the broadcast and propagates: the machines before it took the event,
        the ones after it are not reached. When async machines return
        awaitables, ``send`` returns a coroutine: ``await orc.send(...)``
        delivers to each machine in turn.

        Args:
            event: The event id.
            *args: Positional arguments of the event.
            **kwargs: Keyword arguments of the event.

        Returns:
            What each machine returned, keyed by field name, or by ``(field
            name, index)`` / ``(field name, key)`` for members of collections.

        Raises:
            UnknownEventError: No machine of the orchestrator defines ``event``.
        """
        from . import _broadcast  # noqa: PLC0415 - loaded by the first broadcast

        return _broadcast.send(self, event, args, kwargs)

    def snapshot(self) -> dict[str, Any]:
        """Save every machine's configuration, history, finished flag and data as JSON data.

        ``json.loads(json.dumps(s)) == s`` holds for the result. A collection
        field saves a list (or a dict by member key) of its members' entries.
        See :doc:`/snapshots` for the format, and what is (not) saved.

        Returns:
            The snapshot: a dict of plain JSON types, for :meth:`restore`.

        Raises:
            MachineBusyError: A machine is processing an event, or has events
                queued (delayed ones included): a snapshot never holds events.
            MachineDataNotSerializableError: A machine's ``snapshot_fields`` (or
                its model's ``snapshot_model_fields``) holds a value that is not
                JSON data; the message names the machine and the attribute.
            SnapshotError: The orchestrator was released, or a model holds no
                state of its machine's class.
        """
        return _snapshot.snapshot(self)

    @classmethod
    def restore(cls, data: Mapping[str, Any], /, **machines: Any) -> Self:
        """Build an orchestrator with every machine in the configuration a snapshot saved.

        No entry action runs and no ``invoke`` handler starts: the machines
        continue where the snapshot left them, and the next event behaves as
        it would have on the original. ``__post_init__`` does not run (as when
        unpickling).

        Args:
            data: What :meth:`snapshot` returned (after a JSON round trip, or not).
                It is checked, never trusted: nothing it names is imported or called.
            **machines: Machines to use for some fields (built on a domain model,
                or with constructor arguments), by field name; they take the
                saved configuration. The others are built from their field's
                class with no arguments, without entering their initial state.
                Single fields only: a collection's members are always built
                from the snapshot (:class:`SnapshotTypeError` otherwise).

        Returns:
            A new orchestrator of this class.

        Raises:
            SnapshotError: The snapshot does not fit this class (see
                :doc:`/snapshots`); :class:`SnapshotTypeError` for a value of a
                wrong type, :class:`SnapshotVersionError` for a newer format or
                version. Nothing is built, wired or kept owned.
        """
        return _snapshot.restore(cls, data, machines)

    def atomic(self) -> AbstractContextManager[None]:
        """Roll every machine back when the block raises.

        Example: ``with orc.atomic(): orc.order.place()``. When the block
        raises, each machine gets back the configuration, history, finished
        flag, snapshot fields and queues it had when the block began, each
        collection field its members of then, and the exception propagates.
        Blocks nest; each rolls back to its own start.
        Side effects outside the machines are not undone.

        Raises:
            MachineBusyError: On entry, a machine is processing an event.
        """
        return _atomic.atomic(self)

    def add_listener(self, *listeners: object) -> ListenerHandle:
        """Attach python-statemachine listeners to every machine, now and later.

        Their callbacks receive python-statemachine's usual parameters, the
        orchestrator, and the machine's field name as ``field`` (a collection's
        name for its members). Machines that join later (by assignment, or
        into a collection) get them too; machines that leave
        (:meth:`release`, replacement) lose them. See
        :mod:`statemachines_orchestrator.listeners`.

        Args:
            *listeners: Objects whose methods are python-statemachine listener
                callbacks (``after_transition``, ``on_enter_<state>``, ...);
                one already attached is not attached twice.

        Returns:
            A handle whose ``remove()`` detaches these listeners.

        Raises:
            MachineBusyError: A machine is processing an event (called from a callback).
            ObservationNotSupportedError: The installed python-statemachine's
                internals are not the ones this release knows.
        """
        from .listeners import add_listener  # noqa: PLC0415 - loaded on first use

        return add_listener(self, listeners)

    def __setattr__(self, name: str, value: Any) -> None:
        """Replace a machine: the new one is checked and wired, the old one unwired."""
        field = type(self).__machine_fields__.get(name)
        if field is None:
            object.__setattr__(self, name, value)
            return
        if field.kind != "single" or _collections.coordinated(type(self)):
            _collections.assign(self, field, value)
            return
        own = vars(self)
        old = own.get(name)
        if old is value:
            return
        if old is not None:
            _joining.refuse_busy(self, (name,), f"replace machine {name!r}")
        elif type(self).__orchestrator_pending__:
            _joining.resolve(type(self))
        others = {n: m for n, m in self.machines.items() if n != name}
        _joining.check_machine(self, field, value, others)
        _joining.attach(value, self, name)
        own[name] = value
        if old is not None:
            _joining.detach(old)

    def __delattr__(self, name: str) -> None:
        """Refuse to delete a machine, which would leave the orchestrator half-wired."""
        if name in type(self).__machine_fields__:
            msg = (
                f"cannot delete machine field {type(self).__qualname__}.{name}; assign "
                f"another machine, or call release() to hand back all machines"
            )
            raise AttributeError(msg)
        object.__delattr__(self, name)

    def __repr__(self) -> str:
        """Show each machine with its current state (or states, for a configuration)."""
        machines = self.machines
        if not machines:
            return f"{type(self).__name__}(<released>)"
        parts = ", ".join(f"{name}={_describe(m)}" for name, m in machines.items())
        return f"{type(self).__name__}({parts})"

    def _repr_markdown_(self) -> str:
        """Jupyter shows an orchestrator as its diagram, current states highlighted."""
        from .diagram import jupyter_markdown  # noqa: PLC0415 - only when displayed

        return jupyter_markdown(self)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle and copy the machines (and any other instance attribute)."""
        state = dict(vars(self))
        if not self.machines:
            state[_RELEASED] = True
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`__getstate__` and wire the restored machines to this copy."""
        if state.pop(_RELEASED, False):
            vars(self).update(state)
            return
        cls = type(self)
        if cls.__orchestrator_pending__:
            _joining.resolve(cls)
        fields = cls.__machine_fields__
        saved = [name for name, value in state.items() if name in fields or _is_machine(value)]
        missing = [n for n, f in fields.items() if n not in state and f.built is None]
        unknown = [name for name in saved if name not in fields]
        if missing or unknown:
            _refuse_state(cls, missing, unknown)
        if _collections.coordinated(cls):
            _collections.restore(self, state)
            return
        checked: dict[str, Any] = {}
        for name in saved:
            _joining.check_machine(self, fields[name], state[name], checked)
            checked[name] = state[name]
        own = vars(self)
        own.update(state)
        try:
            _joining.wire_all(self, checked)
        except BaseException:
            own.clear()
            raise
        to_build = [f for n, f in fields.items() if n not in state]
        if to_build:
            _joining.build_missing(self, to_build)


def _no_fields_init(self: Orchestrator, *args: Any, **kwargs: Any) -> None:  # noqa: ARG001
    msg = (
        f"{type(self).__qualname__} declares no machine fields; subclass it and annotate "
        f"one attribute per machine"
    )
    raise NoMachinesOnOrchestratorError(msg)


Orchestrator.__orchestrator_init__ = _no_fields_init

_RESERVED_FIELD_NAMES = API_NAMES | {"self"}


def _check_orchestrator_name(cls: type, name: object) -> None:
    where = f"{cls.__qualname__}: orchestrator_name"
    if not isinstance(name, str):
        msg = f"{where} must be a str, got {type(name).__qualname__} {name!r}"
        raise OrchestratorNameTypeError(msg)
    problem = None
    if not name.isidentifier() or keyword.iskeyword(name):
        problem = "is not a valid Python identifier, so no callback could declare it"
    elif name.startswith("__"):
        problem = "starts with '__', which Python mangles inside a machine's class body"
    elif name in _psm.RESERVED_CALLBACK_PARAMETERS:
        problem = "is a keyword python-statemachine already passes to callbacks"
    if problem is not None:
        msg = f"{where} {name!r} {problem}; choose another name, such as 'orc'"
        raise InvalidOrchestratorNameError(msg)


def _class_statement_scope() -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Where the ``class`` statement ran: its function's locals, and foreign globals.

    Called from ``__init_subclass__``: the first frame above the chain of
    ``__init_subclass__`` calls runs the class statement. Returns a copy of its
    local names when it runs in a function, and its globals when they are not
    the module's own (a doctest, ``exec``); at a module's top level the
    module's globals serve, and nothing is kept.
    """
    # Frame 0 is this function, 1 our __init_subclass__.
    frame: FrameType | None = sys._getframe(2)  # noqa: SLF001  # pyright: ignore[reportPrivateUsage]
    while frame is not None and frame.f_code.co_name == "__init_subclass__":
        frame = frame.f_back
    if frame is None:
        return None, None
    module = sys.modules.get(frame.f_globals.get("__name__", ""))
    foreign = None if module is not None and vars(module) is frame.f_globals else frame.f_globals
    if frame.f_locals is frame.f_globals:
        return None, foreign
    return dict(frame.f_locals), foreign


_RELEASED = "__orchestrator_released__"
"""Marks the pickled state of an orchestrator that held no machine."""


def _is_machine(value: object) -> bool:
    return isinstance(value, _psm.MACHINE_BASE)


def _refuse_state(cls: type[Orchestrator], missing: list[str], unknown: list[str]) -> None:
    """Refuse to unpickle (or copy) a state saved from another shape of ``cls``."""
    parts: list[str] = []
    if missing:
        parts.append(f"lacks the machine fields {', '.join(map(repr, missing))}")
    if unknown:
        parts.append(f"holds machines for {', '.join(map(repr, unknown))}, no field of it")
    msg = (
        f"cannot unpickle a {cls.__qualname__}: the saved orchestrator "
        f"{' and '.join(parts)} (was the class changed since it was pickled?); "
        f"unpickle it with the class it was saved with, or give new fields a built() default"
    )
    raise InvalidMachineFieldError(msg)


def _describe(machine: Any) -> str:
    if isinstance(machine, (list, dict)):
        return _collections.describe(machine, _describe)
    return f"<{type(machine).__name__}: {_psm.configuration_of(machine)!r}>"

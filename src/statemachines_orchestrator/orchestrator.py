"""The :class:`Orchestrator` base class."""

from __future__ import annotations

import keyword
import sys
import weakref
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from typing_extensions import dataclass_transform

from .annotations import UNRESOLVED
from .exceptions import (
    InvalidOrchestratorNameError,
    MachineAlreadyOrchestratedError,
    MachineTypeMismatchError,
    NoMachinesOnOrchestratorError,
    OrchestratorNameTypeError,
    StateFieldIsNotUniqueError,
)
from .fields import MachineField, built, collect_machine_fields, resolve_machine_class
from .injection import RESERVED_CALLBACK_PARAMETERS, build, unwire, wire
from .ownership import OwnerMark, claim, free, owner_of

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import FrameType

__all__ = ["Orchestrator", "OrchestratorMeta"]

DEFAULT_ORCHESTRATOR_NAME = "orc"


@dataclass_transform(field_specifiers=(built,))
class OrchestratorMeta(type):
    """Metaclass of :class:`Orchestrator`.

    It only carries :func:`~typing.dataclass_transform`, which tells type
    checkers that subclasses get an ``__init__`` taking their machine fields.
    The fields are collected at runtime by :meth:`Orchestrator.__init_subclass__`.
    """


class _MachineClasses:
    """Descriptor behind :attr:`Orchestrator.machine_classes`, on classes and instances."""

    def __get__(self, obj: object, owner: type[Orchestrator]) -> Mapping[str, type[Any]]:
        if owner.__orchestrator_pending__:
            _resolve_pending(owner)
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
        """
        super().__init_subclass__(**kwargs)
        if orchestrator_name is not None:
            cls.orchestrator_name = orchestrator_name
        _check_orchestrator_name(cls, cls.orchestrator_name)

        inherited = [
            vars(base)["__machine_fields__"]
            for base in reversed(cls.__mro__[1:])
            if "__machine_fields__" in vars(base)
        ]
        fields = collect_machine_fields(
            cls, inherited, _RESERVED_FIELD_NAMES, _class_statement_scope(), abstract=abstract
        )
        for field in fields.values():
            # A built() marker is a declaration, not a class attribute: an
            # instance's machine lives in the instance dict.
            if field.owner is cls and field.built is not None:
                delattr(cls, field.name)
        cls.__machine_fields__ = MappingProxyType(fields)
        cls.__orchestrator_pending__ = any(f.machine_class is None for f in fields.values())
        cls.__orchestrator_post_init__ = hasattr(cls, "__post_init__")
        init: Callable[..., None] = _make_init(cls, fields) if fields else _no_fields_init
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
        machines = dict(self.machines)
        own = vars(self)
        for name, machine in machines.items():
            _detach(machine)
            del own[name]
        return machines

    def __setattr__(self, name: str, value: Any) -> None:
        """Replace a machine: the new one is checked and wired, the old one unwired."""
        field = type(self).__machine_fields__.get(name)
        if field is None:
            object.__setattr__(self, name, value)
            return
        own = vars(self)
        old = own.get(name)
        if old is value:
            return
        others = {n: m for n, m in self.machines.items() if n != name}
        _check_machine(self, field, value, others)
        _attach(value, self)
        own[name] = value
        if old is not None:
            _detach(old)

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

    def __getstate__(self) -> dict[str, Any]:
        """Pickle and copy the machines (and any other instance attribute)."""
        return dict(vars(self))

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`__getstate__` and wire the restored machines to this copy."""
        fields = type(self).__machine_fields__
        checked: dict[str, Any] = {}
        for name, value in state.items():
            field = fields.get(name)
            if field is not None:
                _check_machine(self, field, value, checked)
                checked[name] = value
        vars(self).update(state)
        _wire_all(self, checked)


def _no_fields_init(self: Orchestrator, *args: Any, **kwargs: Any) -> None:  # noqa: ARG001
    msg = (
        f"{type(self).__qualname__} declares no machine fields; subclass it and annotate "
        f"one attribute per machine"
    )
    raise NoMachinesOnOrchestratorError(msg)


Orchestrator.__orchestrator_init__ = _no_fields_init

_RESERVED_FIELD_NAMES = frozenset(
    {name for name in vars(Orchestrator) if not name.startswith("_")} | {"self"}
)


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
    elif name in RESERVED_CALLBACK_PARAMETERS:
        problem = "is a keyword python-statemachine already passes to callbacks"
    if problem is not None:
        msg = f"{where} {name!r} {problem}; choose another name, such as 'orc'"
        raise InvalidOrchestratorNameError(msg)


def _class_statement_scope() -> dict[str, Any] | None:
    """Local names of the function running the ``class`` statement, if any.

    Called from ``__init_subclass__``: the first frame above the chain of
    ``__init_subclass__`` calls runs the class statement. At module level the
    module globals already serve, so nothing is kept.
    """
    # Frame 0 is this function, 1 our __init_subclass__.
    frame: FrameType | None = sys._getframe(2)  # noqa: SLF001  # pyright: ignore[reportPrivateUsage]
    while frame is not None and frame.f_code.co_name == "__init_subclass__":
        frame = frame.f_back
    if frame is None or frame.f_locals is frame.f_globals:
        return None
    return dict(frame.f_locals)


def _resolve_pending(cls: type[Orchestrator]) -> None:
    """Resolve annotations that named machine classes not defined at class creation."""
    for field in cls.__machine_fields__.values():
        if field.machine_class is None:
            machine_class = resolve_machine_class(
                cls.__qualname__, field.name, field.annotation, field.owner, field.scope
            )
            if machine_class is not UNRESOLVED:
                field.resolved(machine_class)
    # Whatever still does not resolve accepts any machine from now on.
    cls.__orchestrator_pending__ = False


def _check_machine(
    orc: Orchestrator, field: MachineField, machine: Any, others: Mapping[str, Any]
) -> None:
    """Check that ``machine`` may be ``orc``'s ``field`` beside the ``others``."""
    # Messages are built only on failure: this runs for every machine given.
    if not isinstance(machine, field.expected_class):
        msg = (
            f"{type(orc).__qualname__}: machine field {field.name!r} expects an instance of "
            f"{field.expected_class.__qualname__}, got {type(machine).__qualname__} {machine!r}"
        )
        raise MachineTypeMismatchError(msg)
    owner = owner_of(machine)
    if owner is not None and owner is not orc:
        msg = (
            f"{type(orc).__qualname__}: the machine given for {field.name!r} already belongs "
            f"to {type(owner).__qualname__} at {id(owner):#x}; pass a new machine, or call "
            f"release() on that orchestrator first"
        )
        raise MachineAlreadyOrchestratedError(msg)
    if others:
        _check_against_others(orc, field, machine, others)


def _check_against_others(
    orc: Orchestrator, field: MachineField, machine: Any, others: Mapping[str, Any]
) -> None:
    """Refuse a machine given twice, or sharing a model and state field with another."""
    model, state_field = machine.model, machine.state_field
    for other_name, other in others.items():
        if other is machine:
            msg = (
                f"{type(orc).__qualname__}: the same {type(machine).__qualname__} instance is "
                f"given for {other_name!r} and {field.name!r}; each field needs a machine of "
                f"its own"
            )
            raise MachineAlreadyOrchestratedError(msg)
        if other.model is model and other.state_field == state_field:
            msg = (
                f"{type(orc).__qualname__}: machines {other_name!r} and {field.name!r} share one "
                f"model and both keep their state in its {state_field!r} attribute; give one "
                f"of them another state_field"
            )
            raise StateFieldIsNotUniqueError(msg)


def _attach(machine: Any, orc: Orchestrator, mark: OwnerMark | None = None) -> None:
    """Wire ``machine``'s callbacks to ``orc`` and record that it belongs to ``orc``."""
    wire(machine, orc, type(orc).orchestrator_name)
    claim(machine, OwnerMark(weakref.ref(orc)) if mark is None else mark)


def _detach(machine: Any) -> None:
    """Undo :func:`_attach`."""
    unwire(machine)
    free(machine)


def _wire_all(orc: Orchestrator, machines: Mapping[str, Any]) -> None:
    """Attach every machine to ``orc``, or none: a failure detaches those done."""
    # Inlines _attach: every orchestrator built runs this for each machine.
    name = type(orc).orchestrator_name
    mark = OwnerMark(weakref.ref(orc))
    done: list[Any] = []
    try:
        for machine in machines.values():
            wire(machine, orc, name)
            claim(machine, mark)
            done.append(machine)
    except BaseException:
        for machine in done:
            _detach(machine)
        raise


def _setup(orc: Orchestrator, values: tuple[Any, ...]) -> None:
    """Check, store and wire the machines the generated ``__init__`` received."""
    cls = type(orc)
    if cls.__orchestrator_pending__:
        _resolve_pending(cls)
    given: dict[str, Any] = {}
    missing: list[MachineField] = []
    for field, value in zip(cls.__machine_fields__.values(), values):
        if value is field.built:
            missing.append(field)
        else:
            _check_machine(orc, field, value, given)
            given[field.name] = value

    own = vars(orc)
    own.update(given)
    try:
        _wire_all(orc, given)
    except BaseException:
        for field_name in given:
            del own[field_name]
        raise
    if missing:
        _build_missing(orc, missing)
    if cls.__orchestrator_post_init__:
        # As dataclasses do, and as 0.0.4 orchestrators (dataclasses) did.
        try:
            orc.__post_init__()  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
        except BaseException:
            orc.release()
            raise


def _build_missing(orc: Orchestrator, missing: list[MachineField]) -> None:
    """Build, in declaration order, the machines the caller left to the orchestrator."""
    own = vars(orc)
    name = type(orc).orchestrator_name
    machine = None
    try:
        for field in missing:
            assert field.built is not None  # noqa: S101 - only built fields are missing
            machine = build(field.built.factory, orc, name)
            _check_machine(orc, field, machine, orc.machines)
            own[field.name] = machine
            _attach(machine, orc)  # build() may have wired it already: idempotent
    except BaseException:
        # On 2.x build() wires a machine before it is checked: a refused one is
        # not among the machines release() hands back.
        if machine is not None and machine not in orc.machines.values():
            unwire(machine)
        orc.release()
        raise


def _make_init(cls: type, fields: Mapping[str, MachineField]) -> Callable[..., None]:
    """Write ``cls.__init__``: one parameter per field, as a dataclass would."""
    namespace: dict[str, Any] = {"__orchestrator_setup__": _setup}
    params = ["self"]
    for name, field in fields.items():
        if field.built is None:
            params.append(name)
        else:
            namespace[f"__default_{name}__"] = field.built
            params.append(f"{name}=__default_{name}__")
    values = "".join(f"{name}, " for name in fields)
    source = f"def __init__({', '.join(params)}):\n    __orchestrator_setup__(self, ({values}))\n"
    # Generated like dataclasses' __init__: Python itself then words a missing,
    # unexpected or doubled argument, and inspect.signature sees what runs.
    exec(source, namespace)  # noqa: S102
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = {name: field.annotation for name, field in fields.items()}
    init.__annotations__["return"] = None
    init.__doc__ = f"Wire the machines {', '.join(fields)} into a new {cls.__qualname__}."
    return init


def _describe(machine: Any) -> str:
    values = getattr(machine, "configuration_values", None)
    if values is None:
        state: Any = machine.current_state_value
    else:
        values = list(values)
        state = values[0] if len(values) == 1 else values
    return f"<{type(machine).__name__}: {state!r}>"

"""The :class:`Orchestrator` base class."""

from __future__ import annotations

import keyword
import sys
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from typing_extensions import dataclass_transform

from .annotations import UNRESOLVED
from .exceptions import (
    InvalidOrchestratorNameError,
    MachineAlreadyOrchestratedError,
    MachineTypeMismatchError,
    NoMachinesOnOrchestratorError,
    OrchestratorNameIsFixedError,
    OrchestratorNameTypeError,
    StateFieldIsNotUniqueError,
)
from .fields import MachineField, built, collect_machine_fields, resolve_machine_class
from .injection import RESERVED_CALLBACK_PARAMETERS, build, unwire, wire, wire_registries
from .ownership import KEY, OwnerMark, claim, free, owner_of

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import FrameType

__all__ = ["Orchestrator", "OrchestratorMeta"]

DEFAULT_ORCHESTRATOR_NAME = "orc"


@dataclass_transform(field_specifiers=(built,))
class OrchestratorMeta(type):
    """Metaclass of :class:`Orchestrator`.

    It carries :func:`~typing.dataclass_transform`, which tells type checkers
    that subclasses get an ``__init__`` taking their machine fields (collected
    at runtime by :meth:`Orchestrator.__init_subclass__`), and keeps each
    class's ``orchestrator_name`` as its class statement set it.
    """

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
            type.__setattr__(cls, "orchestrator_name", orchestrator_name)
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
        return _release(self)

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
            # Whatever still does not resolve accepts any machine from now on.
            field.resolved(None if machine_class is UNRESOLVED else machine_class)
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


def _attach(machine: Any, orc: Orchestrator) -> None:
    """Wire ``machine``'s callbacks to ``orc`` and record that it belongs to ``orc``."""
    wire(machine, orc, type(orc).orchestrator_name)
    claim(machine, OwnerMark(orc))


def _detach(machine: Any) -> None:
    """Undo :func:`_attach`."""
    unwire(machine)
    free(machine)


def _release(orc: Orchestrator) -> dict[str, Any]:
    """What :meth:`Orchestrator.release` does, which a subclass may override."""
    own = vars(orc)
    machines = {name: own[name] for name in type(orc).__machine_fields__ if name in own}
    for name, machine in machines.items():
        _detach(machine)
        del own[name]
    return machines


def _wire_all(orc: Orchestrator, machines: Mapping[str, Any]) -> None:
    """Attach every machine to ``orc``, or none: a failure detaches those done.

    The general path of the generated ``__init__``, and copies; the inline path
    does the same for the common case.
    """
    name = type(orc).orchestrator_name
    mark = OwnerMark(orc)
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
        _post_init(orc)


def _post_init(orc: Orchestrator) -> None:
    """Run ``__post_init__`` once every machine is wired; if it fails, release them."""
    # As dataclasses do, and as 0.0.4 orchestrators (dataclasses) did.
    try:
        orc.__post_init__()  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    except BaseException:
        _release(orc)
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
        _release(orc)
        raise


def _make_init(cls: type[Orchestrator], fields: Mapping[str, MachineField]) -> Callable[..., None]:
    """Write ``cls.__init__``: one parameter per field, as a dataclass would.

    Generated like dataclasses' ``__init__``: Python itself then words a
    missing, unexpected or doubled argument, and :func:`inspect.signature` sees
    what runs. Its body is also what keeps building an orchestrator cheap (every
    one built runs it): the common case, a machine given for every field, each
    free and of its field's class, no two on one model and state field (so no
    machine twice), is checked inline, with no loop and no lookup of a class
    attribute, and wired in one call. Anything else goes through :func:`_setup`,
    which words the errors; ``tests/test_generated_init.py`` checks that the two
    paths agree.
    """
    names = list(fields)
    # Every name the body uses besides the fields starts with a prefix no field
    # name starts with, builtins included: a field may be called ``type``.
    p = "_orc_"
    while any(name.startswith(p) for name in names):
        p = f"_{p}"
    namespace: dict[str, Any] = {
        f"{p}cls": cls,
        f"{p}name": cls.orchestrator_name,
        f"{p}setup": _setup,
        f"{p}wire": wire_registries,
        f"{p}mark": OwnerMark,
        f"{p}key": KEY,
        f"{p}release": _release,
        f"{p}post_init": _post_init,
        f"{p}type": type,
        f"{p}isinstance": isinstance,
        f"{p}id": id,
        f"{p}len": len,
        f"{p}BaseException": BaseException,
    }
    params = ["self"]
    # No class attribute is read on the inline path: right after machines were
    # built, looking one up tends to miss CPython's type attribute cache and
    # walk the MRO. The keyword and __post_init__ are fixed when the class is
    # defined; a pending annotation makes its field's inline_class fail the
    # check until the first instantiation resolves it.
    fits = [f"{p}cls is {p}type(self)"]
    for i, (name, field) in enumerate(fields.items()):
        namespace[f"{p}field{i}"] = field
        if field.built is None:
            params.append(name)
        else:
            namespace[f"{p}default{i}"] = field.built
            params.append(f"{name}={p}default{i}")
            fits.append(f"{name} is not {p}default{i}")
        fits.append(f"{p}isinstance({name}, {p}field{i}.inline_class)")
    free = [f"{p}key not in {p}r{i}" for i in range(len(names))]
    if len(names) <= _PAIRWISE_LIMIT:
        distinct = [
            f"({a}.model is not {b}.model or {a}.state_field != {b}.state_field)"
            for i, a in enumerate(names)
            for b in names[i + 1 :]
        ]
    else:
        pairs = ", ".join(f"({p}id({name}.model), {name}.state_field)" for name in names)
        distinct = [f"{p}len({{{pairs}}}) == {len(names)}"]
    values = "".join(f"{name}, " for name in names)
    registries = "".join(f"{p}r{i}, " for i in range(len(names)))
    post_init = [f"            {p}post_init(self)"] if cls.__orchestrator_post_init__ else []
    lines = [
        f"def __init__({', '.join(params)}):",
        f"    if {' and '.join(fits)}:",
        *(f"        {p}r{i} = {name}._callbacks._registry" for i, name in enumerate(names)),
        f"        if {' and '.join(free + distinct)}:",
        f"            {p}own = self.__dict__",
        *(f"            {p}own[{name!r}] = {name}" for name in names),
        f"            {p}m = {p}mark(self)",
        "            try:",
        f"                {p}wire(({registries}), self, {p}name)",
        *(f"                {p}r{i}[{p}key] = {p}m" for i in range(len(names))),
        f"            except {p}BaseException:",
        f"                {p}release(self)",
        "                raise",
        *post_init,
        "            return",
        f"    {p}setup(self, ({values}))",
    ]
    exec("\n".join(lines) + "\n", namespace)  # noqa: S102
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = {name: field.annotation for name, field in fields.items()}
    init.__annotations__["return"] = None
    init.__doc__ = f"Wire the machines {', '.join(fields)} into a new {cls.__qualname__}."
    return init


_PAIRWISE_LIMIT = 8
"""Up to this many fields, the generated ``__init__`` compares machines pairwise;
beyond, it counts distinct (model, state field) pairs in a set."""


def _describe(machine: Any) -> str:
    values = getattr(machine, "configuration_values", None)
    if values is None:
        state: Any = machine.current_state_value
    else:
        values = list(values)
        state = values[0] if len(values) == 1 else values
    return f"<{type(machine).__name__}: {state!r}>"

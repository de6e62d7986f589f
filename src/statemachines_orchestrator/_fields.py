"""Machine fields: what an orchestrator class declares, collected from its annotations.

Pure: this module knows no python-statemachine class. The class every machine
class must derive from is passed in (``base``), and annotations are resolved
here, keeping alive no more of the defining function's locals than the names an
unresolved annotation mentions, and only until it is resolved or given up on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Callable, TypeVar

from typing_extensions import get_args, get_origin

from ._annotations import (
    UNRESOLVED,
    is_classvar,
    names_in,
    own_annotations,
    resolve,
    undefined_names,
)
from .exceptions import (
    AnnotationIsNotAStateMachineError,
    InvalidMachineFieldError,
    MachineFieldShadowsAPIError,
    NoMachinesOnOrchestratorError,
    UnexpectedAnnotationTypeError,
    UnresolvedAnnotationError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "DICT",
    "LIST",
    "SINGLE",
    "Built",
    "MachineField",
    "built",
    "collect_machine_fields",
    "resolve_field",
    "resolve_pending",
]

SINGLE = "single"
"""The kind of a field holding one machine (``order: OrderMachine``)."""
LIST = "list"
"""The kind of a field holding a list of machines (``items: list[ItemMachine]``)."""
DICT = "dict"
"""The kind of a field holding machines by key (``items: dict[str, ItemMachine]``)."""

_M = TypeVar("_M")


class Built:
    """Marks a machine field the orchestrator builds when it is not given.

    Create it with :func:`built`.
    """

    __slots__ = ("factory",)

    def __init__(self, factory: Callable[..., Any]) -> None:
        self.factory = factory

    def __repr__(self) -> str:
        name = getattr(self.factory, "__qualname__", None) or repr(self.factory)
        return f"built(factory={name})"


def built(*, factory: Callable[..., _M]) -> _M:
    """Let the orchestrator build this machine when the caller does not pass one.

    python-statemachine enters a machine's initial state inside its
    constructor, before any orchestrator could be given the machine. A built
    machine's initial-state callbacks receive the orchestrator too: a machine
    class (whatever its ``__init__`` takes) is built with no arguments and wired
    as soon as its constructor has registered its callbacks, before its initial
    state, on every line. Any other factory is called with the orchestrator as
    its only keyword argument (named after ``orchestrator_name``) on 3.x, whose
    machine constructors hand it to those callbacks, so it must accept and
    forward it; on 2.x it is called with no arguments (its initial callbacks
    then run without the orchestrator).

    Args:
        factory: The machine class, or a callable returning a machine.

    Returns:
        A marker standing, for type checkers, for the machine that will be built.

    Example:
        >>> from statemachines_orchestrator import Orchestrator, built
        >>> from statemachine import StateMachine, State
        >>> class Lamp(StateMachine):
        ...     off = State(initial=True)
        ...     on = State()
        ...     switch = off.to(on) | on.to(off)
        >>> class Room(Orchestrator):
        ...     lamp: Lamp = built(factory=Lamp)
        >>> Room().lamp.current_state_value
        'off'
    """
    return Built(factory)  # type: ignore[return-value]  # pyright: ignore[reportReturnType]


class MachineField:
    """One machine field of an orchestrator class.

    Attributes:
        name: The attribute and ``__init__`` parameter name.
        annotation: The annotation as declared (a class, a string or a forward reference).
        owner: The class whose body declared the annotation; names resolve there.
        scope: The local names of the function whose body defined ``owner``
            that the annotation mentions, kept only while it is unresolved.
        globalns: The globals the class statement ran in, when they are not
            its module's (a doctest, ``exec``), kept only while unresolved.
        machine_class: The resolved machine class, or ``None`` while unresolved.
        expected_class: The class a machine given for this field must be an
            instance of: ``machine_class``, or any machine while unresolved.
        inline_class: What the generated ``__init__`` checks machines against on
            its inline path: ``expected_class``, except while the annotation
            waits for its first resolution (at the first instantiation), when
            it is a class with no instances, so that the general path runs.
        built: The factory marker when the orchestrator may build the machine.
        kind: :data:`SINGLE` for one machine, :data:`LIST` or :data:`DICT` for a
            collection of machines of ``machine_class`` (:data:`SINGLE` while
            unresolved).
    """

    __slots__ = (
        "annotation",
        "built",
        "expected_class",
        "globalns",
        "inline_class",
        "kind",
        "machine_class",
        "name",
        "owner",
        "scope",
    )

    def __init__(  # noqa: PLR0913 - one argument per attribute of this record
        self,
        name: str,
        annotation: object,
        owner: type,
        *,
        machine_class: type[Any] | None,
        built: Built | None,
        base: type[Any],
        scope: Mapping[str, Any] | None = None,
        globalns: Mapping[str, Any] | None = None,
        kind: str = SINGLE,
    ) -> None:
        self.name = name
        self.kind = kind
        self.annotation = annotation
        self.owner = owner
        self.machine_class = machine_class
        self.expected_class: type[Any] = machine_class or base
        # A collection is never a machine: the inline path never takes it.
        self.inline_class: type[Any] = (machine_class if kind == SINGLE else None) or _Unresolved
        self.built = built
        self.scope = scope
        self.globalns = globalns

    def __repr__(self) -> str:
        kind = "" if self.kind == SINGLE else f", kind={self.kind!r}"
        return (
            f"MachineField(name={self.name!r}, machine_class={self.machine_class!r}, "
            f"built={self.built!r}{kind})"
        )

    def resolved(self, machine_class: type[Any], kind: str = SINGLE) -> None:
        """Record the machine class (and kind) a pending annotation resolved to."""
        self.machine_class = self.expected_class = machine_class
        self.kind = kind
        self.inline_class = machine_class if kind == SINGLE else _Unresolved
        self.scope = self.globalns = None


class _Unresolved:
    """No machine is an instance of this: see :attr:`MachineField.inline_class`."""


_COLLECTIONS = {list: LIST, dict: DICT}


def resolve_field(  # noqa: PLR0913 - what names the field, and where it resolves
    cls_name: str,
    name: str,
    annotation: object,
    owner: type,
    base: type[Any],
    *,
    scope: Mapping[str, Any] | None = None,
    globalns: Mapping[str, Any] | None = None,
) -> Any:
    """Resolve a field's annotation to its machine class and kind.

    ``Annotated[Machine, ...]`` stands for ``Machine``, as pydantic and FastAPI
    read it. ``list[Machine]`` and ``dict[str, Machine]`` (or ``typing.List``,
    ``typing.Dict``, as strings or with forward references inside) declare
    collections of machines.

    Returns:
        The machine class and the kind (:data:`SINGLE`, :data:`LIST` or
        :data:`DICT`), or :data:`~statemachines_orchestrator._annotations.UNRESOLVED`
        when a name in the annotation is not defined yet.

    Raises:
        AnnotationIsNotAStateMachineError: It resolves to a class that is not a
            subclass of ``base``.
        UnexpectedAnnotationTypeError: It resolves to something that is not a class.
    """
    value = resolve(annotation, owner, scope, globalns)
    if value is UNRESOLVED:
        return UNRESOLVED
    while get_origin(value) is Annotated:
        value = get_args(value)[0]
    kind = _COLLECTIONS.get(get_origin(value), SINGLE)
    if kind != SINGLE:
        args = get_args(value)
        if kind == DICT and args and args[0] is not str:
            msg = (
                f"{cls_name}.{name} is annotated with {value!r}; a collection of machines "
                f"by key is declared dict[str, MachineClass], with str keys."
            )
            raise UnexpectedAnnotationTypeError(msg)
        if not args:
            msg = (
                f"{cls_name}.{name} is annotated with a bare {kind}; say which machines it "
                f"holds: {kind}[MachineClass]{'' if kind == LIST else ' with str keys'}."
            )
            raise UnexpectedAnnotationTypeError(msg)
        value = resolve(args[-1], owner, scope, globalns)
        if value is UNRESOLVED:
            return UNRESOLVED
        while get_origin(value) is Annotated:
            value = get_args(value)[0]
    if isinstance(value, type):
        if issubclass(value, base):
            return value, kind
        msg = (
            f"{cls_name}.{name} is annotated with {value.__qualname__}, which is not a "
            f"{base.__name__} subclass. Annotate machine fields with a "
            f"python-statemachine machine class, or mark other attributes as ClassVar[...]."
        )
        raise AnnotationIsNotAStateMachineError(msg)
    msg = (
        f"{cls_name}.{name} is annotated with {value!r}, which is not a class. Annotate "
        f"machine fields with a single {base.__name__} subclass (no unions, "
        f"Optional or generics), or list[...] or dict[str, ...] of one for a collection, "
        f"or mark other attributes as ClassVar[...]."
    )
    raise UnexpectedAnnotationTypeError(msg)


def resolve_pending(cls_name: str, fields: Iterable[MachineField], base: type[Any]) -> None:
    """Resolve the annotations that named machine classes not defined at class creation.

    Called at the first instantiation of the class: an annotation that still
    does not resolve is given up on (its scope dropped) and reported.

    Raises:
        UnresolvedAnnotationError: An annotation names something still undefined.
        AnnotationIsNotAStateMachineError: It resolves to a non-machine class.
        UnexpectedAnnotationTypeError: It resolves to something not a class.
    """
    for field in fields:
        if field.machine_class is not None:
            continue
        scope, field.scope = field.scope, None
        globalns = field.globalns
        resolved = resolve_field(
            cls_name,
            field.name,
            field.annotation,
            field.owner,
            base,
            scope=scope,
            globalns=globalns,
        )
        if resolved is UNRESOLVED:
            undefined = undefined_names(field.annotation, field.owner, scope, globalns)
            names = ", ".join(repr(n) for n in undefined) or "a name in it"
            msg = (
                f"{cls_name}.{field.name} is annotated {field.annotation!r}, but {names} is "
                f"not defined in module {field.owner.__module__!r} (nor where the class "
                f"statement ran) when the first {cls_name} is built. Import or define the "
                f"machine class before that, at run time: a name imported only under "
                f"TYPE_CHECKING, or defined later in the same function, does not resolve."
            )
            raise UnresolvedAnnotationError(msg)
        field.resolved(*resolved)


def collect_machine_fields(  # noqa: PLR0913 - the class, its context and its options
    cls: type,
    inherited: Iterable[Mapping[str, MachineField]],
    reserved: frozenset[str],
    base: type[Any],
    *,
    scope: Mapping[str, Any] | None = None,
    globalns: Mapping[str, Any] | None = None,
    abstract: bool = False,
) -> dict[str, MachineField]:
    """Turn a class's annotations into its machine fields, in declaration order.

    Fields come from the bases first (``inherited``, most basic first), as
    :mod:`dataclasses` does; a field ``cls`` declares again keeps its place and
    takes the new annotation. ``ClassVar`` annotations are skipped.

    Args:
        cls: The orchestrator class being defined.
        inherited: The field mappings of its orchestrator bases, in reverse MRO order.
        reserved: Names a field may not take (the orchestrator's own API).
        base: The class every machine class derives from.
        scope: Local names where the class statement ran, when it ran in a
            function: string annotations may name local classes.
        globalns: The globals where the class statement ran, when they are not
            the module's own (a doctest, ``exec``).
        abstract: Whether ``cls`` is a base meant for subclasses, which may
            declare no machine field.

    Returns:
        The fields by name, in declaration order.

    Raises:
        NoMachinesOnOrchestratorError: No machine field at all, and not ``abstract``.
        MachineFieldShadowsAPIError: A field is named like a reserved name.
        AnnotationIsNotAStateMachineError: An annotation resolves to a non-machine class.
        UnexpectedAnnotationTypeError: An annotation resolves to something not a class.
    """
    fields: dict[str, MachineField] = {}
    for base_fields in inherited:
        fields.update(base_fields)

    namespace = vars(cls)
    for name, annotation in own_annotations(cls).items():
        if is_classvar(annotation):
            continue
        if name in reserved:
            msg = (
                f"{cls.__qualname__}.{name} would hide the orchestrator's own {name!r}. "
                f"Rename the machine field."
            )
            raise MachineFieldShadowsAPIError(msg)
        default = namespace.get(name)
        if name in namespace and not isinstance(default, Built):
            msg = (
                f"{cls.__qualname__}.{name} has a default value {default!r}; a machine field "
                f"can only default to built(factory=...), which builds one machine per "
                f"orchestrator."
            )
            raise InvalidMachineFieldError(msg)
        resolved = resolve_field(
            cls.__qualname__, name, annotation, cls, base, scope=scope, globalns=globalns
        )
        unresolved = resolved is UNRESOLVED
        kept = None
        if unresolved and scope:
            # Only what the annotation mentions: the function's other locals
            # must not outlive it because of this class.
            kept = {n: scope[n] for n in names_in(annotation, cls) if n in scope}
        fields[name] = MachineField(
            name=name,
            annotation=annotation,
            owner=cls,
            machine_class=None if unresolved else resolved[0],
            built=default if isinstance(default, Built) else None,
            base=base,
            scope=kept,
            globalns=globalns if unresolved else None,
            kind=SINGLE if unresolved else resolved[1],
        )

    _check_order(cls, fields)
    if not fields and not abstract:
        msg = (
            f"{cls.__qualname__} declares no machine fields. Annotate at least one "
            f"attribute with a machine class, e.g. `order: OrderMachine`, or declare "
            f"`class {cls.__name__}(..., abstract=True)` for a base class that subclasses fill."
        )
        raise NoMachinesOnOrchestratorError(msg)
    return fields


def _check_order(cls: type, fields: Mapping[str, MachineField]) -> None:
    """Refuse a required field after a built one (it would follow an optional parameter)."""
    optional = None
    for field in fields.values():
        if field.built is not None:
            optional = field
        elif optional is not None:
            msg = (
                f"{cls.__qualname__}.{field.name} must be given to __init__, but follows "
                f"{optional.name}, which is built when not given. Declare built(...) fields "
                f"after the others, or give {field.name} a built(factory=...) too."
            )
            raise InvalidMachineFieldError(msg)

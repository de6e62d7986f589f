"""Machine fields: what an orchestrator class declares, collected from its annotations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar

from .annotations import UNRESOLVED, is_classvar, own_annotations, resolve
from .exceptions import (
    AnnotationIsNotAStateMachineError,
    InvalidMachineFieldError,
    MachineFieldShadowsAPIError,
    NoMachinesOnOrchestratorError,
    UnexpectedAnnotationTypeError,
)
from .injection import MACHINE_BASE

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["Built", "MachineField", "built", "collect_machine_fields", "resolve_machine_class"]

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
    machine's initial-state callbacks receive the orchestrator too: on 3.x the
    factory is called with the orchestrator as its only keyword argument (named
    after ``orchestrator_name``), which the machine's constructor hands to those
    callbacks, so a factory other than a machine class must accept and forward
    it; on 2.x a machine class is wired as soon as it creates its engine, and
    any other factory is called with no arguments (its initial callbacks then
    run without the orchestrator).

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
        scope: Local names of the function whose body defined ``owner``, kept
            only while the annotation is unresolved.
        machine_class: The resolved machine class, or ``None`` while unresolved.
        expected_class: The class a machine given for this field must be an
            instance of: ``machine_class``, or any machine while unresolved.
        inline_class: What the generated ``__init__`` checks machines against on
            its inline path: ``expected_class``, except while the annotation
            waits for its first resolution (at the first instantiation), when
            it is a class with no instances, so that the general path runs.
        built: The factory marker when the orchestrator may build the machine.
    """

    __slots__ = (
        "annotation",
        "built",
        "expected_class",
        "inline_class",
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
        scope: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.annotation = annotation
        self.owner = owner
        self.machine_class = machine_class
        self.expected_class: type[Any] = machine_class or MACHINE_BASE
        self.inline_class: type[Any] = machine_class or _Unresolved
        self.built = built
        self.scope = scope

    def __repr__(self) -> str:
        return (
            f"MachineField(name={self.name!r}, machine_class={self.machine_class!r}, "
            f"built={self.built!r})"
        )

    def resolved(self, machine_class: type[Any] | None) -> None:
        """Record the machine class a pending annotation resolved to.

        ``None`` records that it did not resolve at the first instantiation:
        the field accepts any machine from then on.
        """
        if machine_class is not None:
            self.machine_class = self.expected_class = machine_class
            self.scope = None
        self.inline_class = self.expected_class


class _Unresolved:
    """No machine is an instance of this: see :attr:`MachineField.inline_class`."""


def resolve_machine_class(
    cls_name: str,
    name: str,
    annotation: object,
    owner: type,
    scope: Mapping[str, Any] | None = None,
) -> Any:
    """Resolve a field's annotation to its machine class.

    Returns:
        The machine class, or :data:`~statemachines_orchestrator.annotations.UNRESOLVED`
        when a name in the annotation is not defined yet.

    Raises:
        AnnotationIsNotAStateMachineError: It resolves to a class that is not a machine class.
        UnexpectedAnnotationTypeError: It resolves to something that is not a class.
    """
    value = resolve(annotation, owner, scope)
    if value is UNRESOLVED:
        return UNRESOLVED
    if isinstance(value, type):
        if issubclass(value, MACHINE_BASE):
            return value
        msg = (
            f"{cls_name}.{name} is annotated with {value.__qualname__}, which is not a "
            f"{MACHINE_BASE.__name__} subclass. Annotate machine fields with a "
            f"python-statemachine machine class, or mark other attributes as ClassVar[...]."
        )
        raise AnnotationIsNotAStateMachineError(msg)
    msg = (
        f"{cls_name}.{name} is annotated with {value!r}, which is not a class. Annotate "
        f"machine fields with a single {MACHINE_BASE.__name__} subclass (no unions, "
        f"Optional or generics), or mark other attributes as ClassVar[...]."
    )
    raise UnexpectedAnnotationTypeError(msg)


def collect_machine_fields(
    cls: type,
    inherited: Iterable[Mapping[str, MachineField]],
    reserved: frozenset[str],
    scope: Mapping[str, Any] | None = None,
    *,
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
        scope: Local names where the class statement ran, when it ran in a
            function: string annotations may name local classes.
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
        machine_class = resolve_machine_class(cls.__qualname__, name, annotation, cls, scope)
        unresolved = machine_class is UNRESOLVED
        fields[name] = MachineField(
            name=name,
            annotation=annotation,
            owner=cls,
            machine_class=None if unresolved else machine_class,
            built=default if isinstance(default, Built) else None,
            scope=scope if unresolved else None,
        )

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

    if not fields and not abstract:
        msg = (
            f"{cls.__qualname__} declares no machine fields. Annotate at least one "
            f"attribute with a machine class, e.g. `order: OrderMachine`, or declare "
            f"`class {cls.__name__}(..., abstract=True)` for a base class that subclasses fill."
        )
        raise NoMachinesOnOrchestratorError(msg)
    return fields

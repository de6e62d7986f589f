"""Queries over groups of machines, fan-in, and which member a machine is.

Queries (:func:`all_in`, :func:`any_in`, :func:`count_in`, :func:`members_in`,
:func:`all_final`) take either machines (a collection such as ``orc.items``,
any iterable of machines, or a dict of them) and answer at once, or the name of
a field of the orchestrator (or a tuple of names) and return a condition for a
transition of another machine of the same orchestrator
(``cond=all_in("items", "shipped")``), evaluated against that orchestrator
whenever python-statemachine checks the guard.

:func:`when_all` declares, on an orchestrator class, an event sent to a machine
as soon as every machine of a group has reached a state (or finished), without
polling. :func:`member_key` tells a member's index or key.

Example:
    >>> from statemachine import State, StateMachine
    >>> from statemachines_orchestrator import Orchestrator, built
    >>> from statemachines_orchestrator.coordination import all_in, count_in, when_all
    >>> class Item(StateMachine):
    ...     packed = State(initial=True)
    ...     shipped = State(final=True)
    ...     ship = packed.to(shipped)
    >>> class Order(StateMachine):
    ...     open = State(initial=True)
    ...     complete = State(final=True)
    ...     finish = open.to(complete, cond=all_in("items", "shipped"))
    >>> class Shop(Orchestrator):
    ...     order: Order
    ...     items: list[Item] = built(factory=list)
    ...     done = when_all("items", "shipped", send=("order", "finish"))
    >>> shop = Shop(Order(), [Item(), Item()])
    >>> shop.items[0].ship()
    >>> count_in(shop.items, "shipped"), shop.order.current_state_value
    (1, 'open')
    >>> shop.items[1].ship()
    >>> shop.order.current_state_value
    'complete'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Callable, Protocol, TypeVar, Union, cast, overload

from . import _psm
from ._fan_in import FanIn
from .exceptions import NotAMemberError, UnknownFieldError, UnknownStateError

if TYPE_CHECKING:
    from .orchestrator import Orchestrator

__all__ = [
    "Condition",
    "FanIn",
    "all_final",
    "all_in",
    "any_in",
    "count_in",
    "member_key",
    "members_in",
    "when_all",
]


class _Machine(Protocol):
    """What the queries need of a machine (any python-statemachine machine has it)."""

    @property
    def state_field(self) -> str: ...


_M = TypeVar("_M", bound=_Machine)

Condition = Callable[..., Any]
"""A guard for ``cond=`` / ``unless=``: python-statemachine calls it with the machine."""

FieldNames = Union[str, "tuple[str, ...]"]
"""One field name, or several: their machines (members of collections included) form the group."""

Machines = Union[Iterable[_M], Mapping[Any, _M]]


def _machines(source: Iterable[Any] | Mapping[Any, Any]) -> Iterable[Any]:
    if isinstance(source, Mapping):
        entries: Mapping[Any, Any] = source  # pyright: ignore[reportUnknownVariableType]
        return entries.values()
    return source


def _names(source: object) -> FieldNames | None:
    """The field names of a query's source, or ``None`` when it is machines."""
    if isinstance(source, str):
        return source
    if isinstance(source, tuple):
        return cast("tuple[str, ...]", source)
    return None


def _in(machine: Any, state: str) -> bool:
    machine_class: type[Any] = machine.__class__
    try:
        return _psm.state_test(machine_class, state)(machine)
    except _psm.UnknownState as exc:
        raise UnknownStateError(str(exc)) from None


def _group(orc: Orchestrator, names: tuple[str, ...], what: str) -> list[Any]:
    from ._collections import members  # noqa: PLC0415 - keeps this module light to import

    fields = type(orc).__machine_fields__
    own = vars(orc)
    machines: list[Any] = []
    for name in names:
        if name not in fields:
            msg = (
                f"{what} on {type(orc).__qualname__}: it has no machine field {name!r} (its "
                f"fields: {', '.join(map(repr, fields))})"
            )
            raise UnknownFieldError(msg)
        value = own.get(name)
        if value is not None:
            machines += members(value)
    return machines


def _condition(what: str, names: FieldNames, query: Callable[[Iterable[Any]], Any]) -> Condition:
    """A guard: ``query`` on the machines of ``names`` in the guarded machine's orchestrator."""
    fields = (names,) if isinstance(names, str) else tuple(names)

    def condition(machine: Any) -> Any:
        orc = _psm.owner_of(machine)
        if orc is None:
            msg = (
                f"{what}: the {type(machine).__qualname__} whose guard it is belongs to no "
                f"orchestrator, so there are no {fields[0]!r} to ask"
            )
            raise NotAMemberError(msg)
        return query(_group(orc, fields, what))

    condition.__name__ = condition.__qualname__ = what
    return condition


def _answer(source: Any, query: Callable[[Iterable[Any]], Any], call: str, *args: str) -> Any:
    """``query`` on ``source``'s machines now, or a condition asking it (``source`` names fields).

    ``call`` and ``args`` spell the query's call, for the condition's name and errors.
    """
    names = _names(source)
    if names is None:
        return query(_machines(source))
    what = f"{call}({', '.join(map(repr, (source, *args)))})"
    return _condition(what, names, query)


@overload
def all_in(source: FieldNames, state: str) -> Condition: ...
@overload
def all_in(source: Machines[_M], state: str) -> bool: ...
def all_in(source: Any, state: str) -> Any:
    """Whether every machine is in ``state`` (true for no machine at all, like :func:`all`).

    Args:
        source: Machines (``orc.items``, a dict or any iterable of them), or the
            name(s) of fields of the orchestrator, for a condition.
        state: A state id.

    Returns:
        The answer, or a condition answering it for ``cond=``.

    Raises:
        UnknownStateError: A machine's class has no state ``state``.
    """
    return _answer(source, lambda ms: all(_in(m, state) for m in ms), "all_in", state)


@overload
def any_in(source: FieldNames, state: str) -> Condition: ...
@overload
def any_in(source: Machines[_M], state: str) -> bool: ...
def any_in(source: Any, state: str) -> Any:
    """Whether at least one machine is in ``state``; see :func:`all_in` for the arguments."""
    return _answer(source, lambda ms: any(_in(m, state) for m in ms), "any_in", state)


@overload
def count_in(source: FieldNames, state: str) -> Condition: ...
@overload
def count_in(source: Machines[_M], state: str) -> int: ...
def count_in(source: Any, state: str) -> Any:
    """How many machines are in ``state``; see :func:`all_in` for the arguments.

    As a condition, it holds when at least one is.
    """
    return _answer(source, lambda ms: sum(_in(m, state) for m in ms), "count_in", state)


@overload
def members_in(source: FieldNames, state: str) -> Condition: ...
@overload
def members_in(source: Machines[_M], state: str) -> list[_M]: ...
def members_in(source: Any, state: str) -> Any:
    """The machines in ``state``, in order; see :func:`all_in` for the arguments.

    As a condition, it holds when at least one is.
    """
    return _answer(source, lambda ms: [m for m in ms if _in(m, state)], "members_in", state)


@overload
def all_final(source: FieldNames) -> Condition: ...
@overload
def all_final(source: Machines[_M]) -> bool: ...
def all_final(source: Any) -> Any:
    """Whether every machine has reached a final state (true for no machine at all).

    Args:
        source: Machines, or the name(s) of fields of the orchestrator, for a condition.
    """
    return _answer(source, lambda ms: all(_psm.is_final(m) for m in ms), "all_final")


def when_all(source: FieldNames, state: str | None = None, *, send: tuple[str, str]) -> FanIn:
    """Declare, in an orchestrator class, an event sent when a group of machines all reach a state.

    Assign the result to a class attribute (no annotation). After each transition
    of a machine of the group, and whenever members join or leave a collection
    of the group, the orchestrator checks the condition (at the cost of a set
    operation: no polling, nothing to count by hand); when it becomes true, the
    event is sent to the target machine (to each member, if the target is a
    collection). It fires again only if the condition became false in between.

    The condition is false for an empty group, and a condition already true
    when the orchestrator is built does not fire. The event is sent like any
    event sent from a callback: right away to an idle machine, queued on a
    machine in the middle of a step (run-to-completion), and awaited on async
    machines.

    Args:
        source: A field name (a single machine or a collection), or a tuple of them.
        state: The state id every machine must be in; ``None`` (the default)
            waits for every machine to reach a final state.
        send: The target field and the event to send it.

    Returns:
        The declaration, checked when the class is created.

    Raises:
        InvalidFanInError: (when the class is created) A field it names does not
            exist, a machine class has no such state, or the target defines no
            such event.
    """
    sources = (source,) if isinstance(source, str) else tuple(source)
    target, event = send
    return FanIn(sources, state, target, event)


def member_key(orc: Orchestrator, machine: object) -> tuple[str, int | str]:
    """Which member ``machine`` is: its collection's field name and its index (or key).

    A callback finds itself with ``member_key(orc, self)``. The index is the
    machine's position now: it changes when members before it are removed.

    Raises:
        NotAMemberError: ``machine`` is no member of a collection of ``orc``.
    """
    from ._collections import labelled_machines  # noqa: PLC0415

    for name, key, other in labelled_machines(orc):
        if other is machine and key is not None:
            return name, key
    msg = (
        f"{type(machine).__qualname__} {machine!r} is no member of a collection of "
        f"{type(orc).__qualname__}"
    )
    raise NotAMemberError(msg)

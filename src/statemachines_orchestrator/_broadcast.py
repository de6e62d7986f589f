"""What :meth:`Orchestrator.send` does: deliver one event to every machine that defines it.

Machines are reached in declaration order, the members of a collection in
their order (a snapshot taken as each field is reached: members added by a
callback during the broadcast are not reached). A machine is called exactly as
a caller would (``machine.<event>(*args, **kwargs)``), so each follows its own
rule for an event it cannot take in its current state: a ``StateMachine``
raises ``TransitionNotAllowed``, a 3.x ``StateChart`` ignores it. An exception
stops the broadcast: the machines before have taken the event, the ones after
are not reached, and the exception propagates unchanged (with a note saying
where it stopped, on Python 3.11+). When a machine returns an awaitable (an
async machine), the rest of the broadcast becomes a coroutine that awaits each
delivery in turn.
"""

from __future__ import annotations

from functools import partial
from itertools import count, repeat
from typing import TYPE_CHECKING, Any, Callable, Union

from . import _psm
from ._fields import LIST, SINGLE
from .exceptions import UnknownEventError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from .orchestrator import Orchestrator

__all__ = ["Batch", "ResultKey", "deliver", "send"]

ResultKey = Union[str, "tuple[str, int | str]"]
"""A field name, or a field name and a member's index or key."""


def _plan(cls: type[Orchestrator], event: str) -> tuple[tuple[tuple[str, str, bool], ...], bool]:
    """Each field's name, kind, and whether its class defines ``event``; whether any does."""
    plans: dict[str, tuple[tuple[tuple[str, str, bool], ...], bool]] | None = cls.__dict__.get(
        "__orchestrator_broadcast__"
    )
    if plans is None:
        # A field still unresolved expects any machine: its members are asked one by one.
        plans = {}
        type.__setattr__(cls, "__orchestrator_broadcast__", plans)
    plan = plans.get(event)
    if plan is None:
        fields = tuple(
            (name, field.kind, event in _psm.events_of(field.expected_class))
            for name, field in cls.__machine_fields__.items()
        )
        plan = plans[event] = (fields, any(certain for _name, _kind, certain in fields))
    return plan


Batch = tuple[Union[str, list[ResultKey]], list[Any]]
"""Machines to deliver to, with their keys in the results: a list of keys, or the
name of a list field whose members are keyed ``(name, index)``, in order."""


def _targets(
    orc: Orchestrator, plan: tuple[tuple[str, str, bool], ...], event: str
) -> Iterator[Batch]:
    """The machines of ``orc`` that define ``event``, a field at a time, as each is reached."""
    own: dict[str, Any] = vars(orc)
    defines = _defines
    for name, kind, certain in plan:
        value: Any = own.get(name)
        if value is None:
            continue
        if kind == SINGLE:
            if certain or defines(value, event):
                yield [name], [value]
        elif kind == LIST:
            members: list[Any] = list(value)
            if certain:  # the common case: keyed by index, the keys made at the end, in C
                yield name, members
                continue
            found = [(index, m) for index, m in enumerate(members) if defines(m, event)]
            yield [(name, index) for index, _m in found], [m for _index, m in found]
        else:
            entries: list[tuple[str, Any]] = list(value.items())
            found_keyed = [(key, m) for key, m in entries if certain or defines(m, event)]
            yield [(name, key) for key, _m in found_keyed], [m for _key, m in found_keyed]


def _defines(machine: Any, event: str) -> bool:
    machine_class: type[Any] = machine.__class__
    return event in _psm.events_of(machine_class)


def _refuse_unknown(orc: Orchestrator, event: str) -> None:
    classes = sorted({type(m).__qualname__ for m in _all_machines(orc)})
    msg = (
        f"{type(orc).__qualname__}.send({event!r}): no machine of this orchestrator defines the "
        f"event {event!r} (its machine classes: {', '.join(classes) or 'none'}); check the "
        f"event's name"
    )
    raise UnknownEventError(msg)


def _all_machines(orc: Orchestrator) -> Iterator[Any]:
    from ._collections import labelled_machines  # noqa: PLC0415 - one-off, on an error path

    for _name, _key, machine in labelled_machines(orc):
        yield machine


def _note(exc: BaseException, origin: str, key: ResultKey, done: int) -> None:
    add_note = getattr(exc, "add_note", None)
    if add_note is not None:  # Python 3.11+
        where = key if isinstance(key, str) else f"{key[0]}[{key[1]!r}]"
        add_note(
            f"raised by {where} during {origin}, after {done} "
            f"deliver{'y' if done == 1 else 'ies'}; the machines after it were not reached"
        )


def send(orc: Orchestrator, event: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Deliver ``event`` to every machine of ``orc`` that defines it; see the module doc."""
    plan, defined = _plan(type(orc), event)
    if not defined and not any(_defines(m, event) for m in _all_machines(orc)):
        _refuse_unknown(orc, event)
    return deliver(partial(_origin, orc, event), _targets(orc, plan, event), event, args, kwargs)


def _origin(orc: Orchestrator, event: str) -> str:
    return f"{type(orc).__qualname__}.send({event!r})"


def deliver(
    origin: Callable[[], str],
    batches: Iterable[Batch],
    event: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Send ``event`` to each machine of each batch in turn; go async at the first awaitable.

    Each machine is called as a caller would: ``machine.<event>(...)``
    (``getattr``, for dotted event ids too). ``origin()`` names what delivers, for the note
    an exception gets.
    """
    results: dict[ResultKey, Any] = {}
    batches = iter(batches)
    for keys, machines in batches:
        # Results are keyed once a batch is done, in C: making the keys and
        # growing the dict between deliveries, which touch each machine's
        # memory, cost about two points of a broadcast to 10,000 members.
        values: list[Any] = []
        for machine in machines:
            # python-statemachine sets an attribute for every event id, dotted ones too.
            trigger = getattr(machine, event)
            try:
                # Without arguments, a plain call: unpacking empty ones costs a copy per call.
                result = trigger(*args, **kwargs) if args or kwargs else trigger()
            except BaseException as exc:
                _note(exc, origin(), _key(keys, len(values)), len(results) + len(values))
                raise
            values.append(result)
            if result is not None and hasattr(result, "__await__"):
                results.update(_keyed(keys, values))
                done = len(values)
                rest = _pairs(keys, machines, done, batches)
                first = (_key(keys, done - 1), result)
                return _rest(origin, results, first, rest, event, (args, kwargs))
        results.update(_keyed(keys, values))
    return results


def _key(keys: str | list[ResultKey], index: int) -> ResultKey:
    """The key of a batch's ``index``-th machine."""
    return (keys, index) if isinstance(keys, str) else keys[index]


def _keyed(keys: str | list[ResultKey], values: list[Any]) -> Iterable[tuple[ResultKey, Any]]:
    """A batch's results with their keys."""
    if isinstance(keys, str):
        return zip(zip(repeat(keys), count()), values)
    return zip(keys, values)


def _pairs(
    keys: str | list[ResultKey], machines: list[Any], start: int, batches: Iterator[Batch]
) -> Iterator[tuple[ResultKey, Any]]:
    """(key, machine) for the machines left: a batch's from ``start``, then the next batches'."""
    for index in range(start, len(machines)):
        yield _key(keys, index), machines[index]
    for more, group in batches:
        for index, machine in enumerate(group):
            yield _key(more, index), machine


async def _rest(  # noqa: PLR0913, PLR0917 - the state of a broadcast turned async
    origin: Callable[[], str],
    results: dict[ResultKey, Any],
    first: tuple[ResultKey, Any],
    targets: Iterator[tuple[ResultKey, Any]],
    event: str,
    arguments: tuple[tuple[Any, ...], dict[str, Any]],
) -> dict[ResultKey, Any]:
    """The rest of a broadcast once a machine returned an awaitable (``first``)."""
    key, pending = first
    args, kwargs = arguments
    while True:
        try:
            results[key] = await pending
        except BaseException as exc:
            _note(exc, origin(), key, len(results) - 1)
            raise
        for next_key, machine in targets:
            try:
                pending = getattr(machine, event)(*args, **kwargs)
            except BaseException as exc:
                _note(exc, origin(), next_key, len(results))
                raise
            if pending is not None and hasattr(pending, "__await__"):
                key = next_key
                break
            results[next_key] = pending
        else:
            return results

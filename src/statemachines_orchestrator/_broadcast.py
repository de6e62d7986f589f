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
    from collections.abc import Iterator

    from .orchestrator import Orchestrator

__all__ = ["ResultKey", "deliver", "send"]

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


def _targets(
    orc: Orchestrator, plan: tuple[tuple[str, str, bool], ...], event: str
) -> Iterator[tuple[ResultKey, Any]]:
    own: dict[str, Any] = vars(orc)
    defines = _defines
    for name, kind, certain in plan:
        value: Any = own.get(name)
        if value is None:
            continue
        if kind == SINGLE:
            if certain or defines(value, event):
                yield name, value
        elif kind == LIST:
            members: list[Any] = list(value)
            if certain:  # the common case, in C: ((name, index), machine) pairs
                yield from zip(zip(repeat(name), count()), members)
                continue
            for index, machine in enumerate(members):
                if defines(machine, event):
                    yield (name, index), machine
        else:
            yield from _keyed(name, value, event, certain=certain)


def _keyed(name: str, value: Any, event: str, *, certain: bool) -> Iterator[tuple[ResultKey, Any]]:
    """The members of a dict field that define ``event``."""
    entries: list[tuple[str, Any]] = list(value.items())
    for key, machine in entries:
        if certain or _defines(machine, event):
            yield (name, key), machine


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
    targets: Iterator[tuple[ResultKey, Any]],
    event: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Send ``event`` to each target in turn; switch to a coroutine at the first awaitable.

    Each target is called as a caller would: ``machine.<event>(...)``
    (``getattr``, for dotted event ids too). ``origin()`` names what delivers, for the note
    an exception gets.
    """
    results: dict[ResultKey, Any] = {}
    for key, machine in targets:
        # python-statemachine sets an attribute for every event id, dotted ones too.
        trigger = getattr(machine, event)
        try:
            # Without arguments, a plain call: unpacking empty ones costs a copy per call.
            result = trigger(*args, **kwargs) if args or kwargs else trigger()
        except BaseException as exc:
            _note(exc, origin(), key, len(results))
            raise
        results[key] = result
        if result is not None and hasattr(result, "__await__"):
            return _rest(origin, results, (key, result), targets, event, (args, kwargs))
    return results


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

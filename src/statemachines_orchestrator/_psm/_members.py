"""What coordinating many machines needs from python-statemachine (2.5 to 3.2).

Claiming and wiring a batch of machines at once, the events a machine class
defines, whether a machine is in a state or has finished, and attaching a
listener once. Everything here reads public attributes, except the callback
registry (:mod:`._binding`, :mod:`._ownership`) and the listener mapping
(``machine._listeners``: a ``dict`` keyed by listener on 2.x, by ``id`` of the
listener on 3.x), both pinned by ``tests/test_psm_members.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import statemachine

from . import _deferred, _listening
from ._binding import unwire
from ._ownership import RegistryOwners

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ._ownership import FallbackOwners, Mark

__all__ = [
    "add_listener_once",
    "events_of",
    "is_final",
    "join_all",
    "join_registries",
    "state_test",
]

_IS_V3 = hasattr(statemachine, "StateChart")


def join_all(  # noqa: PLR0913, PLR0917 - the batch, its owner and the two ways to wire it
    machines: Sequence[Any],
    mark: Mark,
    orc: object,
    name: str,
    owners: FallbackOwners,
    wire: Callable[[Any, object, str], None],
) -> int:
    """Claim every machine of ``machines`` for ``mark``'s orchestrator and wire them all.

    With marks kept beside the machines (:class:`._ownership.FallbackOwners`);
    :func:`join_registries` is the fast path's.

    Returns:
        ``-1`` when every machine was claimed and wired; otherwise the index of
        the first machine that another live orchestrator owns, after unwiring
        and freeing those claimed here.
    """
    for index, machine in enumerate(machines):
        if not owners.claim(machine, mark):
            for claimed in machines[:index]:
                owners.free(claimed)
            return index
    try:
        for machine in machines:
            wire(machine, orc, name)
    except BaseException:
        for machine in machines:
            owners.free(machine)
        raise
    return -1


_OWNERS = RegistryOwners()


def join_registries(machines: Sequence[Any], mark: Mark, orc: object, name: str) -> int:
    """:func:`join_all` on the fast path: one pass, each registry claimed as it is wired.

    A free machine is claimed with one ``dict.setdefault`` right before its
    registry is wired (or left to wire on its first use, :mod:`._deferred`),
    while it is in the CPU's cache (the generated ``__init__`` does the same
    for single fields). Listeners added later are wired too.
    """
    done = 0
    try:
        while True:
            done = _deferred.join(machines, done, mark, orc, name)
            if done == len(machines):
                return -1
            # Its registry holds another mark: another live orchestrator's (refused), or
            # a collected one's (claimed now, and wired with the rest).
            if not _OWNERS.claim(machines[done], mark):
                _undo(machines[:done])
                return done
    except BaseException:
        _undo([m for m in machines if _OWNERS.owner_of(m) is orc])
        raise


def _undo(machines: Iterable[Any]) -> None:
    for machine in machines:
        _deferred.cancel(machine)
        unwire(machine)
        _listening.disown(machine)
        _OWNERS.free(machine)


_EVENTS: dict[type, frozenset[str]] = {}


def events_of(cls: type[Any]) -> frozenset[str]:
    """The ids of the events machine class ``cls`` defines (cached per class)."""
    events = _EVENTS.get(cls)
    if events is None:
        events = _EVENTS[cls] = frozenset(str(event) for event in cls.events)
    return events


_TESTS: dict[tuple[type, str], Callable[[Any], bool]] = {}


class UnknownState(LookupError):  # noqa: N818 - re-raised with the orchestrator's words
    """The machine class has no state of that id."""


def state_test(cls: type[Any], state_id: str) -> Callable[[Any], bool]:
    """A predicate telling whether a machine of class ``cls`` is in state ``state_id``.

    For a class whose states are all atomic (every 2.x class), it compares the
    machine's current state value; for a 3.x class with compound or parallel
    states, it looks the state up in the configuration (parents included).
    Nested states are found by their id too.

    Raises:
        UnknownState: ``cls`` has no state ``state_id``.
    """
    cached = _TESTS.get((cls, state_id))
    if cached is not None:
        return cached
    states_map: dict[Any, Any] = cls.states_map
    state = next((s for s in states_map.values() if s.id == state_id), None)
    if state is None:
        known = ", ".join(sorted(repr(s.id) for s in states_map.values()))
        msg = f"{cls.__qualname__} has no state {state_id!r} (its states: {known})"
        raise UnknownState(msg)
    if any(getattr(s, "states", None) for s in states_map.values()):

        def test(machine: Any) -> bool:
            return state in machine.configuration

    else:
        value = state.value

        def test(machine: Any) -> bool:
            return bool(machine.current_state_value == value)

    _TESTS[(cls, state_id)] = test
    return test


def is_final(machine: Any) -> bool:
    """Whether ``machine`` has reached a top-level final state."""
    if _IS_V3:
        # Read from the configuration, not ``is_terminated`` (the engine's running
        # flag): a copy or unpickled machine sits in its final state with a running
        # engine, as python-statemachine's __setstate__ starts a new one.
        finals = machine.final_states
        return bool(finals) and any(state in finals for state in machine.configuration)
    # 2.x: an async machine whose initial state is not entered yet has no state at all.
    value = machine.current_state_value
    return value is not None and bool(machine.states_map[value].final)


def add_listener_once(machine: Any, listener: object) -> None:
    """Add ``listener`` to ``machine`` unless it listens already (no line can remove one)."""
    listeners = machine._listeners  # noqa: SLF001 - see the module docstring
    if (id(listener) if _IS_V3 else listener) not in listeners:
        machine.add_listener(listener)

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

from . import _binding
from ._ownership import KEY, RegistryOwners

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._ownership import FallbackOwners, OwnerMark

__all__ = ["add_listener_once", "events_of", "is_final", "join_all", "state_test"]

_IS_V3 = hasattr(statemachine, "StateChart")


def join_all(  # noqa: PLR0913, PLR0917, C901, PLR0912 - one pass per batch, no call per machine
    machines: Sequence[Any],
    mark: OwnerMark,
    orc: object,
    name: str,
    owners: RegistryOwners | FallbackOwners,
    wire: Callable[[Any, object, str], None],
) -> int:
    """Claim every machine of ``machines`` for ``mark``'s orchestrator and wire them all.

    Returns:
        ``-1`` when every machine was claimed and wired; otherwise the index of
        the first machine that another live orchestrator owns, after freeing
        those claimed here (nothing is wired then).
    """
    fast = isinstance(owners, RegistryOwners)
    claim = owners.claim
    claimed = 0
    registries: list[Any] = []
    if fast:
        for machine in machines:
            registry = machine._callbacks._registry  # noqa: SLF001 - see _binding.REGISTRY_PATH
            # One dict.setdefault for a free machine, as the generated __init__ does.
            if registry.setdefault(KEY, mark) is not mark and not claim(machine, mark):
                break
            registries.append(registry)
            claimed += 1
    else:
        for machine in machines:
            if not claim(machine, mark):
                break
            claimed += 1
    if claimed < len(machines):
        for machine in machines[:claimed]:
            owners.free(machine)
        return claimed
    try:
        if fast:
            _binding.wire_registries(registries, orc, name)
        else:
            for machine in machines:
                wire(machine, orc, name)
    except BaseException:
        for machine in machines:
            owners.free(machine)
        raise
    return -1


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
        return bool(machine.is_terminated)
    # 2.x: an async machine whose initial state is not entered yet has no state at all.
    value = machine.current_state_value
    return value is not None and bool(machine.states_map[value].final)


def add_listener_once(machine: Any, listener: object) -> None:
    """Add ``listener`` to ``machine`` unless it listens already (no line can remove one)."""
    listeners = machine._listeners  # noqa: SLF001 - see the module docstring
    if (id(listener) if _IS_V3 else listener) not in listeners:
        machine.add_listener(listener)

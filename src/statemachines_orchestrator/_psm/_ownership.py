"""Which orchestrator each machine belongs to.

A machine belongs to at most one live orchestrator. On the fast path the mark is
kept in the machine's per-instance callback registry (``machine._callbacks._registry``,
the mapping :mod:`._binding` rewrites anyway), under a key python-statemachine
never looks up, as an executor that holds no callback and is itself a weak
reference to the orchestrator. It lives and dies with the machine, is dropped
when the machine is pickled or copied, keeps no orchestrator alive (a machine
whose orchestrator was collected is free again), and costs one object and one
dictionary store per machine: every orchestrator built pays for it.

When python-statemachine's internals are not recognised, the marks live in a
weak mapping keyed by machine instead (:class:`FallbackOwners`).

Claiming is atomic: two threads building orchestrators around one machine at
the same moment cannot both own it. A claim on a free key is one
``dict.setdefault`` (atomic in CPython); replacing the mark of a collected
orchestrator happens under a lock, so no ``setdefault`` can slip in between.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import MutableMapping

__all__ = ["KEY", "MARK_PROBLEM", "FallbackOwners", "Mark", "OwnerMark", "RegistryOwners"]

KEY = "statemachines_orchestrator.owner"
"""The key of the mark in a machine's callback registry."""


class Mark(weakref.ref[Any]):
    """A weak reference to an orchestrator: the type of every ownership mark.

    Kept beside the machine (:class:`FallbackOwners`) where the registry
    cannot hold it; :data:`OwnerMark` is the class marks are made of.
    """

    __slots__ = ()


def _registry_mark() -> type[Mark]:
    """The mark class for the fast path: a weak reference that is an empty executor.

    python-statemachine iterates the executors of a registry (to tell async
    callbacks apart); this one yields nothing. Being the weak reference itself,
    rather than holding one, makes the mark a single object built in C: one is
    made for every orchestrator built.
    """
    from statemachine.callbacks import CallbacksExecutor  # noqa: PLC0415 - may be gone

    class OwnerMark(Mark, CallbacksExecutor):
        """A weak reference to an orchestrator that python-statemachine takes for an executor."""

        __slots__ = ()

        items: Any = ()
        """Always empty: read by the base class's ``__iter__``."""

    return OwnerMark


def _owner_mark() -> tuple[type[Mark], str | None]:
    try:
        return _registry_mark(), None
    except Exception as exc:  # noqa: BLE001 - a renamed or reshaped executor class
        # Kept beside the machines instead (FallbackOwners), and the fast path
        # is off: _psm reports why.
        return Mark, f"the ownership mark cannot derive from CallbacksExecutor ({exc})"


OwnerMark, MARK_PROBLEM = _owner_mark()
"""The class ownership marks are made of, and why it cannot be the fast path's (or ``None``)."""


_REPLACING = threading.Lock()


def _claim_in(marks: MutableMapping[Any, Any], key: object, mark: Mark) -> bool:
    current = marks.setdefault(key, mark)
    if current is mark:
        return True
    with _REPLACING:
        current = marks.get(key)
        owner = None if current is None else current()
        if owner is None:  # the previous owner was collected: free again
            marks[key] = mark
            return True
        return owner is mark()


class RegistryOwners:
    """Ownership marks kept in each machine's callback registry (the fast path)."""

    __slots__ = ()

    @staticmethod
    def claim(machine: Any, mark: Mark) -> bool:
        """Make ``machine`` belong to ``mark``'s orchestrator, unless another live one owns it.

        Returns:
            Whether the machine now belongs to that orchestrator.
        """
        return _claim_in(machine._callbacks._registry, KEY, mark)  # noqa: SLF001 - module doc

    @staticmethod
    def free(machine: Any) -> None:
        """Forget the owner of ``machine``, if any."""
        machine._callbacks._registry.pop(KEY, None)  # noqa: SLF001

    @staticmethod
    def owner_of(machine: Any) -> Any:
        """Return the live orchestrator ``machine`` belongs to, or ``None``."""
        mark = machine._callbacks._registry.get(KEY)  # noqa: SLF001
        return None if mark is None else mark()


class FallbackOwners:
    """Ownership marks kept beside the machines, for internals that are not recognised."""

    __slots__ = ("_marks",)

    def __init__(self) -> None:
        self._marks: weakref.WeakKeyDictionary[Any, Mark] = weakref.WeakKeyDictionary()

    def claim(self, machine: Any, mark: Mark) -> bool:
        """See :meth:`RegistryOwners.claim`."""
        return _claim_in(self._marks, machine, mark)

    def free(self, machine: Any) -> None:
        """See :meth:`RegistryOwners.free`."""
        self._marks.pop(machine, None)

    def owner_of(self, machine: Any) -> Any:
        """See :meth:`RegistryOwners.owner_of`."""
        mark = self._marks.get(machine)
        return None if mark is None else mark()

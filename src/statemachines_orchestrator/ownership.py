"""Which orchestrator each machine belongs to.

A machine belongs to at most one live orchestrator. The mark is kept in the
machine's per-instance callback registry (``machine._callbacks._registry``, the
mapping :mod:`.callback_binding` rewrites anyway), under a key
python-statemachine never looks up, as an executor that holds no callback and is
itself a weak reference to the orchestrator. It lives and dies with the machine,
is dropped when the machine is pickled or copied, keeps no orchestrator alive (a
machine whose orchestrator was collected is free again), and costs one object
and one dictionary store per machine: every orchestrator built pays for it.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable

from statemachine.callbacks import CallbacksExecutor

__all__ = ["KEY", "OwnerMark", "claim", "free", "owner_of"]

KEY = "statemachines_orchestrator.owner"
"""The key of the mark in a machine's callback registry."""


class OwnerMark(weakref.ref[Any], CallbacksExecutor):
    """A weak reference to an orchestrator that python-statemachine takes for an empty executor.

    python-statemachine iterates the executors of a registry (to tell async
    callbacks apart); this one yields nothing. Being the weak reference itself,
    rather than holding one, makes the mark a single object built in C: one is
    made for every orchestrator built.
    """

    __slots__ = ()

    items: Any = ()
    """Always empty: read by the base class's ``__iter__``."""

    if TYPE_CHECKING:
        # What runs is weakref.ref's constructor, which comes first in the MRO
        # (a Python __init__ would cost a call for every orchestrator built).
        def __init__(
            self, orchestrator: Any, callback: Callable[[OwnerMark], Any] | None = None, /
        ) -> None: ...


def claim(machine: Any, mark: OwnerMark) -> None:
    """Record that ``machine`` belongs to the orchestrator ``mark`` refers to."""
    machine._callbacks._registry[KEY] = mark  # noqa: SLF001 - see the module docstring


def free(machine: Any) -> None:
    """Forget the owner of ``machine``, if any."""
    machine._callbacks._registry.pop(KEY, None)  # noqa: SLF001


def owner_of(machine: Any) -> Any:
    """Return the live orchestrator ``machine`` belongs to, or ``None``."""
    mark = machine._callbacks._registry.get(KEY)  # noqa: SLF001
    return None if mark is None else mark()

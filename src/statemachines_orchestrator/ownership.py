"""Which orchestrator each machine belongs to.

A machine belongs to at most one live orchestrator. The mark is kept in the
machine's per-instance callback registry (``machine._callbacks._registry``, the
mapping :mod:`.callback_binding` rewrites anyway), under a key
python-statemachine never looks up, as an executor that holds no callback and a
weak reference to the orchestrator. It lives and dies with the machine, is
dropped when the machine is pickled or copied, keeps no orchestrator alive (a
machine whose orchestrator was collected is free again), and costs one
dictionary store per machine: every orchestrator built pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from statemachine.callbacks import CallbacksExecutor

if TYPE_CHECKING:
    import weakref

__all__ = ["OwnerMark", "claim", "free", "owner_of"]

_KEY = "statemachines_orchestrator.owner"


class OwnerMark(CallbacksExecutor):
    """An executor with no callbacks, marking the orchestrator a machine belongs to.

    python-statemachine iterates the executors of a registry (to tell async
    callbacks apart); this one yields nothing.
    """

    items: Any = ()
    """Always empty: read by the base class's ``__iter__``."""

    def __init__(self, ref: weakref.ref[Any]) -> None:
        # No callbacks, so none of the base class's bookkeeping (a deque and a set).
        self.ref = ref


def claim(machine: Any, mark: OwnerMark) -> None:
    """Record that ``machine`` belongs to the orchestrator ``mark`` refers to."""
    machine._callbacks._registry[_KEY] = mark  # noqa: SLF001 - see the module docstring


def free(machine: Any) -> None:
    """Forget the owner of ``machine``, if any."""
    machine._callbacks._registry.pop(_KEY, None)  # noqa: SLF001


def owner_of(machine: Any) -> Any:
    """Return the live orchestrator ``machine`` belongs to, or ``None``."""
    mark = machine._callbacks._registry.get(_KEY)  # noqa: SLF001
    return None if mark is None else mark.ref()

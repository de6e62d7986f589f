"""Which orchestrator each machine belongs to.

A machine belongs to at most one live orchestrator. The mark is a weak
reference to the orchestrator, kept on the machine's callback registry (the
per-instance ``machine._callbacks`` that :mod:`.callback_binding` rewrites
anyway): it lives and dies with the machine, is dropped when the machine is
pickled or copied, keeps no orchestrator alive, and costs one attribute store.
A machine whose orchestrator was collected is free again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import weakref

__all__ = ["claim", "free", "owner_of"]

_MARK = "_statemachines_orchestrator_owner"


def claim(machine: Any, orc: weakref.ref[Any]) -> None:
    """Record that ``machine`` belongs to the orchestrator ``orc`` refers to."""
    setattr(machine._callbacks, _MARK, orc)  # noqa: SLF001 - see the module docstring


def free(machine: Any) -> None:
    """Forget the owner of ``machine``, if any."""
    setattr(machine._callbacks, _MARK, None)  # noqa: SLF001


def owner_of(machine: Any) -> Any:
    """Return the live orchestrator ``machine`` belongs to, or ``None``."""
    ref = getattr(machine._callbacks, _MARK, None)  # noqa: SLF001
    return None if ref is None else ref()

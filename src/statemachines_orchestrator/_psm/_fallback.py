"""Injection through python-statemachine's public extension point, for unknown internals.

Used only when the installed release's private structure is not the one
:mod:`._binding` rewrites. On 3.x, each machine gets one listener whose
``prepare_event`` adds the orchestrator to the keyword arguments of every
callback of the event (python-statemachine's documented hook; slower, see the
benchmarks). 2.x has no public hook: building an orchestrator there raises
:class:`~statemachines_orchestrator.EngineNotSupportedError`.

python-statemachine has no ``remove_listener``: a machine keeps its injector
for life, and unwiring makes it supply nothing. A machine that joins another
orchestrator reuses it.
"""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["Injector", "unwire", "wire"]


class Injector:
    """A listener that hands one orchestrator to the callbacks of every event.

    Attributes:
        orchestrator: The orchestrator the callbacks receive, or ``None`` once unwired.
        name: The keyword they receive it under.
    """

    __slots__ = ("__weakref__", "name", "orchestrator")

    def __init__(self) -> None:
        self.orchestrator: Any = None
        self.name = ""

    def prepare_event(self) -> dict[str, Any]:
        """Return the keyword arguments python-statemachine adds to the event's callbacks."""
        orc = self.orchestrator
        return {} if orc is None else {self.name: orc}


_INJECTORS: weakref.WeakKeyDictionary[Any, Injector] = weakref.WeakKeyDictionary()


def wire(machine: Any, orc: object, name: str) -> None:
    """Make every callback of ``machine`` that asks for ``name`` receive ``orc``."""
    injector = _INJECTORS.get(machine)
    if injector is None:
        injector = _INJECTORS[machine] = Injector()
        machine.add_listener(injector)
    injector.orchestrator = orc
    injector.name = name


def unwire(machine: Any) -> None:
    """Undo :func:`wire`: the machine's callbacks no longer receive an orchestrator."""
    injector = _INJECTORS.get(machine)
    if injector is not None:
        injector.orchestrator = None

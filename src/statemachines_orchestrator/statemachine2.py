"""What differs on python-statemachine 2.5 and 2.6: the machine base class and building.

A 2.x machine enters its initial state inside its constructor, right after it
creates its engine (``_get_engine``), and its constructor takes no extra keyword
arguments. To let the initial-state callbacks of a machine the orchestrator
builds receive the orchestrator, :func:`build` wires the machine's callbacks at
that moment, through an instance attribute shadowing ``_get_engine`` for the
duration of the constructor. ``tests/test_engine_adapters.py`` pins this.
"""

from __future__ import annotations

from typing import Any, Callable

from statemachine import StateMachine

from .callback_binding import wire

__all__ = ["MACHINE_BASE", "build"]

MACHINE_BASE: type[Any] = StateMachine
"""The class every machine field's class must derive from on this line."""


def build(factory: Callable[..., Any], orc: object, name: str) -> Any:
    """Build a machine whose initial-state callbacks receive the orchestrator.

    When the factory is a machine class, the machine is wired before it enters
    its initial state. Any other factory is called with no arguments, and its
    machine is wired once built.
    """
    if not (isinstance(factory, type) and issubclass(factory, StateMachine)):
        return factory()
    machine: Any = factory.__new__(factory)

    def get_engine_wired(*args: Any, **kwargs: Any) -> Any:
        # The callbacks are registered by now; the initial state is entered next.
        wire(machine, orc, name)
        return machine.__class__._get_engine(machine, *args, **kwargs)  # noqa: SLF001

    machine._get_engine = get_engine_wired  # noqa: SLF001
    try:
        machine.__init__()
    finally:
        del machine._get_engine  # noqa: SLF001
    return machine

"""What differs on python-statemachine 3.0 to 3.2: the machine base class and building.

A 3.x machine enters its initial state inside its constructor and hands the
constructor's extra keyword arguments to the callbacks of that state, which
:func:`build` uses to give them the orchestrator.
"""

from __future__ import annotations

from typing import Any, Callable

from statemachine import StateChart  # type: ignore[attr-defined, unused-ignore]

__all__ = ["MACHINE_BASE", "build"]

MACHINE_BASE: type[Any] = StateChart
"""The class every machine field's class must derive from on this line."""


def build(factory: Callable[..., Any], orc: object, name: str) -> Any:
    """Build a machine whose initial-state callbacks receive the orchestrator.

    The factory is called with the orchestrator as its only keyword argument.
    """
    return factory(**{name: orc})

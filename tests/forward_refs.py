"""An orchestrator whose machines are declared after it, in a module without
``from __future__ import annotations``: the annotations are plain strings."""

from typing import TYPE_CHECKING, Any

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator

if TYPE_CHECKING:
    from .machines import OrderMachine


class Early(Orchestrator):
    """Declared before its machine class exists."""

    later: "LaterMachine"


FIELDS_AT_DEFINITION: Any = {
    name: field.machine_class for name, field in Early.__machine_fields__.items()
}


class TypeCheckingOnly(Orchestrator):
    """Names a machine class imported only under TYPE_CHECKING: it never resolves."""

    order: "OrderMachine"


class LaterMachine(StateMachine):
    """Declared after the orchestrator that names it."""

    a = State(initial=True)
    b = State(final=True)
    go = a.to(b)

    def on_go(self, orc: Early) -> None:
        self.got = orc


class Wrong(Orchestrator):
    """Names a class, declared later, that is not a machine class."""

    thing: "NotAMachine"


class NotAMachine:
    """Not a python-statemachine machine."""

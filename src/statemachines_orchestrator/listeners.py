"""Listeners of a whole orchestrator.

:meth:`Orchestrator.add_listener <statemachines_orchestrator.Orchestrator.add_listener>`
attaches python-statemachine listeners to every machine of an orchestrator,
and to every machine that joins it later. Their callbacks (``after_transition``,
``on_enter_state``, ``after_<event>``, ``on_enter_<state>``, ...) are found and
called as python-statemachine finds and calls a listener's, with its usual
parameters, plus the orchestrator (under the class's ``orchestrator_name``,
``orc`` by default) and the machine's field name (``field``; for a member of
a collection field, the collection's name, and
:func:`~statemachines_orchestrator.coordination.member_key` tells which member):

>>> from statemachine import State, StateMachine
>>> from statemachines_orchestrator import Orchestrator
>>> class Lamp(StateMachine):
...     off = State(initial=True)
...     on = State()
...     toggle = off.to(on) | on.to(off)
>>> class Room(Orchestrator):
...     desk: Lamp
...     ceiling: Lamp
>>> class Printer:
...     def after_transition(self, field, event, source, target, orc):
...         print(f"{type(orc).__name__}.{field}: {event} {source.id} -> {target.id}")
>>> room = Room(desk=Lamp(), ceiling=Lamp())
>>> handle = room.add_listener(Printer())
>>> room.desk.toggle()
Room.desk: toggle off -> on
>>> handle.remove()
>>> room.ceiling.toggle()

A handle is also a context manager that removes its listeners on exit, and
:func:`remove_listener` removes a listener given the orchestrator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _attachments

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

    from .orchestrator import Orchestrator

__all__ = ["ListenerHandle", "remove_listener"]


class ListenerHandle:
    """The listeners one call to ``add_listener`` attached; :meth:`remove` detaches them.

    Attributes:
        orchestrator: The orchestrator they are attached to.
        listeners: The listeners, in the order given.
    """

    __slots__ = ("listeners", "orchestrator")

    def __init__(self, orchestrator: Orchestrator, listeners: tuple[object, ...]) -> None:
        self.orchestrator = orchestrator
        self.listeners = listeners

    def remove(self) -> None:
        """Detach the listeners from every machine; removing twice does nothing.

        Raises:
            MachineBusyError: A machine is processing an event (called from a callback).
        """
        remove_listener(self.orchestrator, *self.listeners)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<ListenerHandle {type(self.orchestrator).__name__} {list(self.listeners)!r}>"


def add_listener(orc: Orchestrator, listeners: tuple[object, ...]) -> ListenerHandle:
    """What :meth:`Orchestrator.add_listener` does."""
    _attachments.add_listeners(orc, listeners)
    return ListenerHandle(orc, listeners)


def remove_listener(orc: Orchestrator, *listeners: object) -> None:
    """Detach ``listeners`` from every machine of ``orc``.

    Listeners that are not attached to ``orc`` are ignored.

    Raises:
        MachineBusyError: A machine is processing an event (called from a callback).
    """
    _attachments.remove_listeners(orc, listeners)

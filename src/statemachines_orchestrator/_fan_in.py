"""Fan-in without polling: an event sent when a group of machines all reach a state.

An orchestrator class declares a fan-in with
:func:`~statemachines_orchestrator.coordination.when_all`. For each instance,
one tracker per fan-in keeps the ids of the machines of its group and of those
that meet its condition; a listener (one object for every machine, attached
once per machine: python-statemachine cannot remove a listener) tells the
trackers after each transition of a machine of the group, and collections tell
them when members come and go. When the condition becomes true (it was false
before), the event is sent to the target; it fires again only after it was
false in between. Orchestrators whose class declares no fan-in attach no
listener and keep no tracker.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING, Any

from . import _psm
from .exceptions import InvalidFanInError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from .orchestrator import Orchestrator

__all__ = ["FanIn", "changed", "declared", "on_transition", "paused", "released", "start"]


class FanIn:
    """A fan-in declared on an orchestrator class; made by :func:`~.coordination.when_all`.

    Attributes:
        sources: The fields (single machines or collections) whose machines are watched.
        state: The state id every machine must be in, or ``None`` for a final state.
        target: The field the event is sent to (to each member, for a collection).
        event: The event sent when the condition becomes true.
        name: The class attribute the fan-in is declared under.
    """

    __slots__ = ("event", "name", "sources", "state", "target")

    def __init__(
        self, sources: tuple[str, ...], state: str | None, target: str, event: str
    ) -> None:
        self.sources = sources
        self.state = state
        self.target = target
        self.event = event
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        source = self.sources[0] if len(self.sources) == 1 else self.sources
        state = "" if self.state is None else f", {self.state!r}"
        return f"when_all({source!r}{state}, send=({self.target!r}, {self.event!r}))"

    def test(self, machine: Any) -> bool:
        """Whether ``machine`` meets this fan-in's condition."""
        if self.state is None:
            return _psm.is_final(machine)
        machine_class: type[Any] = machine.__class__
        return _psm.state_test(machine_class, self.state)(machine)


def declared(cls: type[Orchestrator]) -> tuple[FanIn, ...]:
    """The fan-ins ``cls`` declares or inherits, checked (cached on the class)."""
    cached: tuple[FanIn, ...] | None = cls.__dict__.get("__orchestrator_fan_ins__")
    if cached is not None:
        return cached
    found: dict[str, FanIn] = {}
    for base in reversed(cls.__mro__):
        for name, value in vars(base).items():
            if isinstance(value, FanIn):
                found[name] = value
            elif name in found:
                del found[name]  # a subclass hid it
    fan_ins = tuple(found.values())
    for fan_in in fan_ins:
        _check(cls, fan_in)
    type.__setattr__(cls, "__orchestrator_fan_ins__", fan_ins)
    return fan_ins


def _check(cls: type[Orchestrator], fan_in: FanIn) -> None:
    fields = cls.__machine_fields__
    where = f"{cls.__qualname__}.{fan_in.name} = {fan_in!r}"
    for name in (*fan_in.sources, fan_in.target):
        if name not in fields:
            msg = (
                f"{where}: {cls.__qualname__} has no machine field {name!r} (its fields: "
                f"{', '.join(map(repr, fields)) or 'none'})"
            )
            raise InvalidFanInError(msg)
    for name in fan_in.sources:
        machine_class = fields[name].machine_class
        if machine_class is not None and fan_in.state is not None:
            try:
                _psm.state_test(machine_class, fan_in.state)
            except _psm.UnknownState as exc:
                msg = f"{where}: {exc}"
                raise InvalidFanInError(msg) from None
    target_class = fields[fan_in.target].machine_class
    if target_class is not None and fan_in.event not in _psm.events_of(target_class):
        msg = (
            f"{where}: {target_class.__qualname__} (field {fan_in.target!r}) defines no event "
            f"{fan_in.event!r}"
        )
        raise InvalidFanInError(msg)


class _Tracker:
    """One fan-in of one orchestrator: who is in its group, who meets it, and its last value."""

    __slots__ = ("done", "fan_in", "last", "members")

    def __init__(self, fan_in: FanIn) -> None:
        self.fan_in = fan_in
        self.members: set[int] = set()
        self.done: set[int] = set()
        self.last = False

    def add(self, machine: Any) -> None:
        self.members.add(id(machine))
        if self.fan_in.test(machine):
            self.done.add(id(machine))
        else:
            self.done.discard(id(machine))

    def remove(self, machine: Any) -> None:
        self.members.discard(id(machine))
        self.done.discard(id(machine))

    def holds(self) -> bool:
        # An empty group has not "all" reached anything: nothing fires for it.
        return bool(self.members) and len(self.done) == len(self.members)


_TRACKERS: weakref.WeakKeyDictionary[Any, list[_Tracker]] = weakref.WeakKeyDictionary()


class _Watcher:
    """The listener every watched machine shares; it reports transitions to the owner's fan-ins."""

    __slots__ = ()

    def after_transition(self, machine: Any) -> Any:
        """Tell the fan-ins of ``machine``'s orchestrator; return what firing returned."""
        return on_transition(machine)

    def __reduce__(self) -> str:
        return "WATCHER"  # pickled as a reference to the module's one instance

    def __copy__(self) -> _Watcher:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Watcher:
        return self


WATCHER = _Watcher()
"""The one listener attached to every machine a fan-in watches."""


def _group(orc: Orchestrator, fan_in: FanIn) -> Iterable[Any]:
    from ._collections import members  # noqa: PLC0415 - _collections imports this module

    own = vars(orc)
    for name in fan_in.sources:
        value = own.get(name)
        if value is not None:
            yield from members(value)


def start(orc: Orchestrator) -> None:
    """Track the fan-ins of a newly built (or copied) orchestrator; nothing fires now."""
    trackers: list[_Tracker] = []
    for fan_in in declared(type(orc)):
        tracker = _Tracker(fan_in)
        for machine in _group(orc, fan_in):
            _psm.add_listener_once(machine, WATCHER)
            tracker.add(machine)
        tracker.last = tracker.holds()
        trackers.append(tracker)
    _TRACKERS[orc] = trackers


def paused(orc: Orchestrator) -> bool:
    """Stop tracking ``orc``'s fan-ins until :func:`start`; whether it had any.

    An atomic rollback pauses them: machines going back to where they were, and
    members leaving or returning, must send nothing.
    """
    return _TRACKERS.pop(orc, None) is not None


def released(orc: Orchestrator) -> None:
    """Forget the trackers of an orchestrator that handed its machines back."""
    _TRACKERS.pop(orc, None)


def changed(orc: Orchestrator, name: str, joined: Sequence[Any], left: Sequence[Any]) -> None:
    """Members joined or left field ``name``: update the trackers, and fire what became true."""
    trackers = _TRACKERS.get(orc)
    if trackers is None:
        start(orc)
        return
    fired: list[Any] = []
    for tracker in trackers:
        if name not in tracker.fan_in.sources:
            continue
        for machine in left:
            tracker.remove(machine)
        for machine in joined:
            _psm.add_listener_once(machine, WATCHER)
            tracker.add(machine)
        fired.append(_settle(orc, tracker))
    for result in fired:
        if result is not None:
            _schedule(result)


def on_transition(machine: Any) -> Any:
    """A watched machine made a transition: update its orchestrator's trackers."""
    orc = _psm.owner_of(machine)
    if orc is None:
        return None  # released, or removed from its collection: the listener stays, idle
    trackers = _TRACKERS.get(orc)
    if not trackers:
        return None
    key = id(machine)
    results: list[Any] = []
    for tracker in trackers:
        if key in tracker.members:
            if tracker.fan_in.test(machine):
                tracker.done.add(key)
            else:
                tracker.done.discard(key)
            result = _settle(orc, tracker)
            if result is not None:
                results.append(result)
    if not results:
        return None
    return results[0] if len(results) == 1 else _in_turn(results)


def _settle(orc: Orchestrator, tracker: _Tracker) -> Any:
    holds = tracker.holds()
    if holds == tracker.last:
        return None
    tracker.last = holds  # before firing: the event may change the group again
    if not holds:
        return None
    return _fire(orc, tracker.fan_in)


def _fire(orc: Orchestrator, fan_in: FanIn) -> Any:
    from . import _broadcast  # noqa: PLC0415 - only when a fan-in fires
    from ._collections import labelled_machines  # noqa: PLC0415

    targets = [
        ((name if key is None else (name, key)), machine)
        for name, key, machine in labelled_machines(orc)
        if name == fan_in.target
    ]

    def origin() -> str:
        return f"the fan-in {type(orc).__qualname__}.{fan_in.name}"

    batch: _broadcast.Batch = ([key for key, _m in targets], [m for _key, m in targets])
    results = _broadcast.deliver(origin, [batch], fan_in.event, (), {})
    if hasattr(results, "__await__"):
        return results
    return None


async def _in_turn(awaitables: list[Any]) -> None:
    for awaitable in awaitables:
        await awaitable


_PENDING: set[asyncio.Future[Any]] = set()


def _schedule(awaitable: Any) -> None:
    """Run an event fired outside any machine's step (a collection changed) on the running loop."""
    task = asyncio.ensure_future(awaitable)
    _PENDING.add(task)
    task.add_done_callback(_PENDING.discard)

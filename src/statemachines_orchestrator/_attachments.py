"""What is attached to an orchestrator: its listeners and its observers (traces, spans).

Kept beside the orchestrators, in a table keyed by ``id`` and emptied when an
orchestrator is collected, rather than in the orchestrator's ``__dict__``: a
copy or an unpickled orchestrator starts with nothing attached, and the
orchestrator's own attributes stay what its class declares. An orchestrator
with nothing attached has no entry, and its machines pay nothing.

Every machine of the orchestrator gets what is attached; so does a machine
that joins it later (:func:`joined`, called by :func:`._joining.attach`), and
a machine that leaves it loses everything (``_psm.unwire``). The members of a
collection field (``list[Machine]``, ``dict[str, Machine]``) are machines of
the orchestrator too: each listener receives the collection's field name as
``field``, and each trace record names the member (``items[0]``,
``items['a']``); members that join later get what is attached
(:func:`members_changed`, called by :mod:`._collections`).
"""

from __future__ import annotations

import logging
import weakref
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from . import _joining, _psm
from .exceptions import InvalidOrchestratorNameError, ObservationNotSupportedError

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

    from ._records import TraceRecord
    from .orchestrator import Orchestrator

__all__ = [
    "ATTACHED",
    "Attachable",
    "Attachments",
    "Observer",
    "add_listeners",
    "add_observer",
    "joined",
    "log_events_if_debug",
    "members_changed",
    "remove_listeners",
    "remove_observer",
]

logger = logging.getLogger(__name__)

_EVENTS = logging.getLogger("statemachines_orchestrator._psm._observe")
"""The logger of the events watched machines process (see :mod:`._psm._observe`)."""


class Observer:
    """Something told about every event the orchestrator's machines process.

    Attributes:
        begin: Called with each record when its machine begins processing the event.
        end: Called with each record, and the exception a callback raised, when it is done.
    """

    __slots__ = ("begin", "end")

    def __init__(
        self,
        begin: Callable[[TraceRecord], None],
        end: Callable[[TraceRecord, BaseException | None], None] | None = None,
    ) -> None:
        self.begin = begin
        self.end = end


class Attachments:
    """The listeners and observers of one orchestrator."""

    __slots__ = ("listeners", "observers")

    def __init__(self) -> None:
        self.listeners: list[object] = []
        self.observers: list[Observer] = []


ATTACHED: dict[int, Attachments] = {}
"""Orchestrator ``id`` to what is attached to it; only orchestrators with something."""


def _attachments(orc: Orchestrator) -> Attachments:
    found = ATTACHED.get(id(orc))
    if found is None:
        found = ATTACHED[id(orc)] = Attachments()
        weakref.finalize(orc, ATTACHED.pop, id(orc), None)
    return found


def _forget_if_empty(orc: Orchestrator) -> None:
    found = ATTACHED.get(id(orc))
    if found is not None and not found.listeners and not found.observers:
        del ATTACHED[id(orc)]


def _check_supported(orc: Orchestrator, what: str) -> None:
    if not _psm.FAST:
        msg = (
            f"{type(orc).__qualname__}: cannot attach {what}: statemachines-orchestrator does "
            f"not recognise the internals of the installed python-statemachine {_psm.VERSION} "
            f"({_psm.UNRECOGNISED}); install a supported release (pip install "
            f"'python-statemachine>=2.5,<3.3'), or upgrade statemachines-orchestrator"
        )
        raise ObservationNotSupportedError(msg)


def _labelled(orc: Orchestrator) -> list[tuple[str, str, Any]]:
    """Every machine of ``orc``: field name, label (``items[0]`` for a member), machine."""
    from ._collections import label, labelled_machines  # noqa: PLC0415 - imports this module

    return [(name, label(name, key), machine) for name, key, machine in labelled_machines(orc)]


def _listen(orc: Orchestrator, name: str, machine: Any, listener: object) -> None:
    _psm.listen(machine, listener, orc, type(orc).orchestrator_name, name)


def _watch(orc: Orchestrator, name: str, machine: Any, observer: Observer) -> None:
    try:
        hook = _psm.watch(machine, name)
    except LookupError as exc:
        msg = (
            f"{type(orc).__qualname__}: cannot watch machine {name!r}: its engine is not one "
            f"statemachines-orchestrator knows ({exc}; python-statemachine {_psm.VERSION})"
        )
        raise ObservationNotSupportedError(msg) from exc
    hook.begins = (*hook.begins, observer.begin)
    if observer.end is not None:
        hook.ends = (*hook.ends, observer.end)


def _unwatch(machine: Any, observer: Observer) -> None:
    hook = _psm.watched(machine)
    assert hook is not None  # noqa: S101 - every machine of the orchestrator is watched
    hook.begins = tuple(b for b in hook.begins if b is not observer.begin)
    hook.ends = tuple(e for e in hook.ends if e is not observer.end)
    if not hook.begins:  # every observer has a begin: nothing watches any more
        _psm.unwatch(machine)


def add_listeners(orc: Orchestrator, listeners: tuple[object, ...]) -> None:
    """Attach ``listeners`` to every machine of ``orc``, now and later."""
    _check_supported(orc, "listeners")
    if type(orc).orchestrator_name == _psm.FIELD_PARAMETER:
        msg = (
            f"{type(orc).__qualname__}: cannot attach listeners: its orchestrator_name is "
            f"{_psm.FIELD_PARAMETER!r}, the keyword under which listeners receive the "
            f"machine's field name; choose another orchestrator_name, such as 'orc'"
        )
        raise InvalidOrchestratorNameError(msg)
    _joining.refuse_busy(orc, type(orc).__machine_fields__, "add a listener")
    machines = _labelled(orc)
    attached = _attachments(orc)
    new = [
        listener
        for i, listener in enumerate(listeners)
        if not any(listener is other for other in attached.listeners)
        and not any(listener is other for other in listeners[:i])
    ]
    for listener in new:
        for name, _label, machine in machines:
            _listen(orc, name, machine, listener)
        attached.listeners.append(listener)
    logger.debug("%s: listeners added: %r", type(orc).__qualname__, new)


def remove_listeners(orc: Orchestrator, listeners: tuple[object, ...]) -> None:
    """Detach ``listeners`` from every machine of ``orc``; unknown ones are ignored."""
    attached = ATTACHED.get(id(orc))
    if attached is None:
        return
    _joining.refuse_busy(orc, type(orc).__machine_fields__, "remove a listener")
    machines = _labelled(orc)
    for listener in listeners:
        for i, other in enumerate(attached.listeners):
            if other is listener:
                del attached.listeners[i]
                for _name, _label, machine in machines:
                    _psm.unlisten(machine, listener)
                break
    _forget_if_empty(orc)
    logger.debug("%s: listeners removed: %r", type(orc).__qualname__, listeners)


def add_observer(orc: Orchestrator, observer: Observer, what: str) -> None:
    """Tell ``observer`` about every event of every machine of ``orc``, now and later."""
    _check_supported(orc, what)
    done: list[Any] = []
    try:
        for _name, label, machine in _labelled(orc):
            _watch(orc, label, machine, observer)
            done.append(machine)
    except BaseException:
        for machine in done:
            _unwatch(machine, observer)
        raise
    _attachments(orc).observers.append(observer)
    logger.debug("%s: %s attached", type(orc).__qualname__, what)


def remove_observer(orc: Orchestrator, observer: Observer) -> None:
    """Stop telling ``observer`` (attached with :func:`add_observer`) about ``orc``'s events."""
    _joining.refuse_busy(orc, type(orc).__machine_fields__, "detach a trace or an instrumentation")
    ATTACHED[id(orc)].observers.remove(observer)
    for _name, _label, machine in _labelled(orc):
        _unwatch(machine, observer)
    _forget_if_empty(orc)


class Attachable:
    """What traces and instrumentations share: an observer attached to one orchestrator.

    Subclasses set ``orchestrator`` and ``_observer`` in ``__init__`` and name
    themselves in ``_what`` (for the error raised when attaching is not
    supported).
    """

    _what: ClassVar[str] = "an observer"
    orchestrator: Orchestrator
    _observer: Observer
    _attached: bool = False

    def attach(self) -> Self:
        """Start observing the orchestrator's machines; attaching twice does nothing.

        Raises:
            ObservationNotSupportedError: The installed python-statemachine's
                internals are not the ones this release knows.
        """
        if not self._attached:
            add_observer(self.orchestrator, self._observer, self._what)
            self._attached = True
        return self

    def detach(self) -> None:
        """Stop observing; what was recorded or exported stays.

        Raises:
            MachineBusyError: A machine is processing an event (called from a callback).
        """
        if self._attached:
            remove_observer(self.orchestrator, self._observer)
            self._attached = False

    @property
    def attached(self) -> bool:
        """Whether it is attached."""
        return self._attached

    def __enter__(self) -> Self:
        return self.attach()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.detach()


def joined(orc: Orchestrator, name: str, machine: Any) -> None:
    """Give a machine that joined ``orc`` as ``name`` what is attached to ``orc``."""
    attached = ATTACHED.get(id(orc))
    if attached is None:
        return
    for listener in attached.listeners:
        _listen(orc, name, machine, listener)
    for observer in attached.observers:
        _watch(orc, name, machine, observer)


def members_changed(orc: Orchestrator, name: str, joined: list[Any]) -> None:
    """After a change of field ``name`` of ``orc``: give the ``joined`` machines what is attached.

    The watched machines of the field are named again, as an index shifts when
    members before it leave or enter.
    """
    attached = ATTACHED.get(id(orc))
    if attached is None:
        return
    new = {id(m) for m in joined}
    for field, label, machine in _labelled(orc):
        if field != name:
            continue
        if id(machine) in new:
            for listener in attached.listeners:
                _listen(orc, name, machine, listener)
            for observer in attached.observers:
                _watch(orc, label, machine, observer)
        elif attached.observers:
            hook = _psm.watched(machine)
            assert hook is not None  # noqa: S101 - every machine of the orchestrator is watched
            hook.field = label


def _ignore(_record: TraceRecord) -> None:
    """An observer's begin that does nothing: watching is what logs."""


_LOGGING = Observer(begin=_ignore)
"""The observer of orchestrators built while DEBUG is on for the event logger."""


events_debug_enabled: Callable[[], bool] = partial(_EVENTS.isEnabledFor, logging.DEBUG)
"""Whether DEBUG is on for the event logger: generated ``__init__``s ask before
calling :func:`log_events_if_debug` (one Python call fewer per orchestrator built)."""


def log_events_if_debug(orc: Orchestrator) -> None:
    """Watch ``orc``'s machines if DEBUG is on for the event logger, so that its events log.

    Called once for every orchestrator built: one level check when DEBUG is off.
    """
    if _EVENTS.isEnabledFor(logging.DEBUG) and _psm.FAST:
        try:
            add_observer(orc, _LOGGING, "event logging")
        except ObservationNotSupportedError as exc:  # logging never stops a build
            logger.debug("%s: events not logged: %s", type(orc).__qualname__, exc)

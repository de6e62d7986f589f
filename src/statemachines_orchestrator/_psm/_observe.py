"""Watch the events a machine processes, and what sent them (python-statemachine 2.5 to 3.2).

A watched machine's engine gets, for as long as something watches it, a
subclass of its own class (assigned to ``engine.__class__``; the engine is
dropped when a machine is pickled or copied) that overrides:

- ``put``, through which every event reaches the machine's queues: the
  record of the event being processed where the event is *sent* (a context
  variable, so that it follows asyncio tasks) is kept on the event's trigger
  as its cause, also when the event waits in a queue;
- on 2.x, ``_trigger`` and ``_activate``, which process one event and try one
  transition;
- on 3.x, ``select_transitions``, where processing an event begins (its
  guards run there), and ``microstep``, where it ends when it took a
  transition.

Each processed event becomes a :class:`~.._records.TraceRecord`, handed to
the observers of the machine when it begins and when it ends. Unwatched
machines keep python-statemachine's own engine class: nothing is added to
their events.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import reprlib
import time
import weakref
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Callable

import statemachine

from statemachines_orchestrator._records import NOT_ALLOWED, RAISED, TAKEN, TraceRecord

if TYPE_CHECKING:
    from contextvars import Token

__all__ = ["CURRENT", "Hook", "recognise", "unwatch", "watch", "watched"]

logger = logging.getLogger(__name__)

_IS_V3 = hasattr(statemachine, "StateChart")

CURRENT: ContextVar[TraceRecord | None] = ContextVar(
    "statemachines_orchestrator.current_event", default=None
)
"""The record of the event whose callbacks are running in this context."""

_CAUSE = "_statemachines_orchestrator_cause"
"""The attribute of a trigger that keeps the record current when it was sent."""

_ERROR_EXECUTION = "error.execution"
_INITIAL = "__initial__"
_ACTIVATING = "activating"
"""A 2.x record's outcome while one of its transitions runs its callbacks."""

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_MAX_ARGUMENTS = 200
"""The longest ``arguments`` text a record keeps, in characters."""

Observer = Callable[[TraceRecord], None]
EndObserver = Callable[[TraceRecord, "BaseException | None"], None]


class Hook:
    """What a watched machine's engine reports to: its field name and observers.

    Attributes:
        field: The machine's field name in its orchestrator.
        begins: Called with each record when the machine begins processing its event.
        ends: Called with each record, and the exception a callback raised, when it is done.
    """

    __slots__ = ("begins", "ends", "field", "finalizer")

    def __init__(self, field: str, engine: Any) -> None:
        self.field = field
        self.begins: tuple[Observer, ...] = ()
        self.ends: tuple[EndObserver, ...] = ()
        # Forgets the hook if its engine is collected while watched.
        self.finalizer = weakref.finalize(engine, _HOOKS.pop, id(engine), None)


def _arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [_repr.repr(a) for a in args]
    parts += [f"{k}={_repr.repr(v)}" for k, v in kwargs.items()]
    text = f"({', '.join(parts)})"
    if len(text) > _MAX_ARGUMENTS:
        text = f"{text[: _MAX_ARGUMENTS - 4]}...)"
    return text


_SCALARS = (str, int, type(None))
_SETS = (set, frozenset)


def _state(machine: Any) -> Any:
    value: Any = machine.current_state_value
    kind: Any = value.__class__
    if kind in _SCALARS:
        return value
    if kind in _SETS or kind.__name__ == "OrderedSet":  # several active states
        return tuple(value)
    return value


def _begin(engine: Any, trigger: Any) -> TraceRecord:
    # Only a watched engine calls this, with a real event (3.x selects
    # eventless transitions elsewhere): its hook is there.
    hook = _HOOKS[id(engine)]
    record: Any = TraceRecord()  # Any: its private slots are this module's
    record.field = hook.field
    record.event = str(trigger.event)
    args, kwargs = trigger.args, trigger.kwargs
    record.arguments = _arguments(args, kwargs) if args or kwargs else "()"
    record.source = record.target = _state(engine.sm)
    record.outcome = ""
    record.error = record._exception = None  # noqa: SLF001
    cause = trigger.__dict__.get(_CAUSE)  # kept by the trigger until now
    record._cause = None if cause is None else weakref.ref(cause)  # noqa: SLF001
    record._engine = engine  # noqa: SLF001
    record.started = record.ended = time.monotonic()
    if cause is not None and cause.field != record.field and logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s.%s%s sent by %s.%s", record.field, record.event, record.arguments,
            cause.field, cause.event,
        )  # fmt: skip
    for begin in hook.begins:
        begin(record)
    record._token = CURRENT.set(record)  # noqa: SLF001
    begun: TraceRecord = record
    return begun


def _end(record: Any, outcome: str, error: BaseException | None = None) -> None:
    token: Token[TraceRecord | None] = record._token  # noqa: SLF001
    engine = record._engine  # noqa: SLF001
    caught: BaseException | None = record._exception  # noqa: SLF001
    record._engine = record._token = record._exception = None  # noqa: SLF001
    # Begun and ended in one context on every line; should an engine ever end
    # an event in another, the context it began in keeps its value.
    with contextlib.suppress(ValueError):
        CURRENT.reset(token)
    record.ended = time.monotonic()
    record.target = _state(engine.sm)
    if error is not None:
        record.outcome = RAISED
        record.error = repr(error)
    elif record.error is not None:  # a statechart turned it into error.execution
        record.outcome = RAISED
    else:
        record.outcome = outcome
    # Detaching is refused while a machine is busy: the hook is still there.
    for end in _HOOKS[id(engine)].ends:
        end(record, error or caught)


def _sent(engine: Any, trigger: Any) -> None:
    """Keep, on an event being put on ``engine``'s queues, the record that sent it."""
    attributes = trigger.__dict__
    if _CAUSE in attributes:  # put again (a delayed event not due yet): keep the first
        return
    current: Any = CURRENT.get()
    attributes[_CAUSE] = current
    if (
        current is not None
        and current._engine is engine  # noqa: SLF001
        and str(trigger.event) == _ERROR_EXECUTION
    ):
        # A statechart caught an exception of this very event's callbacks.
        error = trigger.kwargs.get("error")
        current.error = repr(error)
        current._exception = error  # noqa: SLF001


# --------------------------------------------------------------------------- 2.x
#
# Each factory makes a subclass of one engine class; the overridden methods
# call the engine class's own through names bound here (no super() lookup).


def _v2_sync(base: type[Any]) -> type[Any]:
    put: Any = base.put
    trigger: Any = base._trigger  # noqa: SLF001
    activate: Any = base._activate  # noqa: SLF001

    class Watched2(base):  # type: ignore[misc]
        def put(self, trigger_data: Any, *args: Any, **kwargs: Any) -> Any:
            _sent(self, trigger_data)
            return put(self, trigger_data, *args, **kwargs)

        def _trigger(self, trigger_data: Any) -> Any:
            # A sync machine enters its initial state in its constructor,
            # before anything can watch it: every event here is a real one.
            record = _begin(self, trigger_data)
            try:
                result = trigger(self, trigger_data)
            except BaseException as exc:
                _end_v2(record, exc)
                raise
            _end(record, TAKEN if record.outcome == TAKEN else NOT_ALLOWED)
            return result

        def _activate(self, trigger_data: Any, transition: Any) -> Any:
            record: Any = CURRENT.get()  # the one _trigger began
            record.outcome = _ACTIVATING
            executed, result = activate(self, trigger_data, transition)
            record.outcome = TAKEN if executed else ""
            return executed, result

    return Watched2


def _v2_async(base: type[Any]) -> type[Any]:
    put: Any = base.put
    trigger: Any = base._trigger  # noqa: SLF001
    activate: Any = base._activate  # noqa: SLF001

    class Watched2Async(base):  # type: ignore[misc]
        def put(self, trigger_data: Any, *args: Any, **kwargs: Any) -> Any:
            _sent(self, trigger_data)
            return put(self, trigger_data, *args, **kwargs)

        async def _trigger(self, trigger_data: Any) -> Any:
            if trigger_data.event == _INITIAL:  # activate_initial_state(), once watched
                return await trigger(self, trigger_data)
            record = _begin(self, trigger_data)
            try:
                result = await trigger(self, trigger_data)
            except BaseException as exc:
                _end_v2(record, exc)
                raise
            _end(record, TAKEN if record.outcome == TAKEN else NOT_ALLOWED)
            return result

        async def _activate(self, trigger_data: Any, transition: Any) -> Any:
            record: Any = CURRENT.get()
            if record is None:  # the initial state's transition
                return await activate(self, trigger_data, transition)
            record.outcome = _ACTIVATING
            executed, result = await activate(self, trigger_data, transition)
            record.outcome = TAKEN if executed else ""
            return executed, result

    return Watched2Async


def _end_v2(record: Any, exc: BaseException) -> None:
    from statemachine.exceptions import TransitionNotAllowed  # noqa: PLC0415

    if isinstance(exc, TransitionNotAllowed) and record.outcome != _ACTIVATING:
        _end(record, NOT_ALLOWED)
    else:
        _end(record, RAISED, exc)


# --------------------------------------------------------------------------- 3.x


def _v3_sync(base: type[Any]) -> type[Any]:
    put: Any = base.put
    select: Any = base.select_transitions
    microstep: Any = base.microstep

    class Watched3(base):  # type: ignore[misc]
        def put(self, trigger_data: Any, *args: Any, **kwargs: Any) -> Any:
            _sent(self, trigger_data)
            return put(self, trigger_data, *args, **kwargs)

        def select_transitions(self, trigger_data: Any) -> Any:
            record = _begin(self, trigger_data)
            try:
                transitions = select(self, trigger_data)
            except BaseException as exc:
                _end(record, RAISED, exc)
                raise
            if transitions:
                trigger_data.__dict__[_RECORD] = record
            else:
                _end(record, NOT_ALLOWED)
            return transitions

        def microstep(self, transitions: Any, trigger_data: Any) -> Any:
            record = trigger_data.__dict__.pop(_RECORD, None)
            if record is None:  # eventless transitions
                return microstep(self, transitions, trigger_data)
            try:
                result = microstep(self, transitions, trigger_data)
            except BaseException as exc:
                _end(record, RAISED, exc)
                raise
            _end(record, TAKEN)
            return result

    return Watched3


def _v3_async(base: type[Any]) -> type[Any]:
    put: Any = base.put
    select: Any = base.select_transitions
    microstep: Any = base.microstep

    class Watched3Async(base):  # type: ignore[misc]
        def put(self, trigger_data: Any, *args: Any, **kwargs: Any) -> Any:
            _sent(self, trigger_data)
            return put(self, trigger_data, *args, **kwargs)

        async def select_transitions(self, trigger_data: Any) -> Any:
            record = _begin(self, trigger_data)
            try:
                transitions = await select(self, trigger_data)
            except BaseException as exc:
                _end(record, RAISED, exc)
                raise
            if transitions:
                trigger_data.__dict__[_RECORD] = record
            else:
                _end(record, NOT_ALLOWED)
            return transitions

        async def microstep(self, transitions: Any, trigger_data: Any) -> Any:
            record = trigger_data.__dict__.pop(_RECORD, None)
            if record is None:  # eventless transitions
                return await microstep(self, transitions, trigger_data)
            try:
                result = await microstep(self, transitions, trigger_data)
            except BaseException as exc:
                _end(record, RAISED, exc)
                raise
            _end(record, TAKEN)
            return result

    return Watched3Async


_RECORD = "_statemachines_orchestrator_record"
"""The attribute of a 3.x trigger that keeps its record between its selection and its microstep."""

_HOOKS: dict[int, Hook] = {}
"""The hooks of watched engines, by ``id`` of engine (nothing is stored on an engine: an
attribute added to it would cost its events something even after it is unwatched)."""

_WATCHED: dict[type[Any], type[Any]] = {}
"""Engine class to its watched subclass."""

_ORIGINAL: dict[type[Any], type[Any]] = {}
"""Watched subclass to the engine class it was made from."""


def _required() -> tuple[str, ...]:
    return (
        ("put", "select_transitions", "microstep") if _IS_V3 else ("put", "_trigger", "_activate")
    )


def recognise(engine_class: type[Any]) -> str | None:
    """Why engines of ``engine_class`` cannot be watched, or ``None`` when they can."""
    missing = [name for name in _required() if not callable(getattr(engine_class, name, None))]
    if missing:
        return f"{engine_class.__qualname__} has no {', '.join(missing)}"
    return None


def _watched_class(engine_class: type[Any]) -> type[Any]:
    watched = _WATCHED.get(engine_class)
    if watched is None:
        step = "select_transitions" if _IS_V3 else "_trigger"
        is_async = inspect.iscoroutinefunction(getattr(engine_class, step))
        if _IS_V3:
            watched = _v3_async(engine_class) if is_async else _v3_sync(engine_class)
        else:
            watched = _v2_async(engine_class) if is_async else _v2_sync(engine_class)
        watched.__name__ = watched.__qualname__ = f"Watched{engine_class.__name__}"
        _WATCHED[engine_class] = watched
        _ORIGINAL[watched] = engine_class
    return watched


def watched(machine: Any) -> Hook | None:
    """The hook of ``machine``'s engine, or ``None`` when nothing watches it."""
    engine = getattr(machine, "_engine", None)
    if engine is None or type(engine) not in _ORIGINAL:
        return None
    return _HOOKS.get(id(engine))


def watch(machine: Any, field: str) -> Hook:
    """Watch ``machine`` (its field name is ``field``) and return its hook, new or not.

    Raises:
        LookupError: The machine's engine is not of a kind this module knows.
    """
    engine = machine._engine  # noqa: SLF001
    hook = watched(machine)
    if hook is not None:
        hook.field = field
        return hook
    cls: Any = engine.__class__
    why = recognise(cls)
    if why is not None:
        raise LookupError(why)
    hook = _HOOKS[id(engine)] = Hook(field, engine)
    engine.__class__ = _watched_class(cls)
    return hook


def unwatch(machine: Any) -> None:
    """Stop watching ``machine``: its engine is python-statemachine's own again."""
    engine = getattr(machine, "_engine", None)
    cls: Any = None if engine is None else engine.__class__
    original = _ORIGINAL.get(cls)
    if original is None:
        return
    engine.__class__ = original
    _HOOKS.pop(id(engine)).finalizer.detach()

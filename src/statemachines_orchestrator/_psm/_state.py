"""Reading and setting a machine's configuration, history and finished flag, running nothing.

Snapshots and atomic steps need to put a machine back into a configuration
without running any callback. Every supported line keeps the active state
value(s) in the model's state field (2.x: one scalar, checked by
``current_state_value``'s setter; 3.x: ``None``, a scalar, or an
``OrderedSet`` of values), the history of a 3.x chart in the machine's
``history_values`` (history pseudo-state id to the instance states recorded,
in configuration order), and whether a 3.x chart has finished in its engine's
``running`` flag (cleared when a top-level final state is entered). A machine
constructed on a model whose state field already holds a value skips the
initial transition on every line (the engine's ``start()`` returns early).
"""

from __future__ import annotations

import importlib
import weakref
from collections.abc import MutableSet
from typing import TYPE_CHECKING, Any, Callable

import statemachine
import statemachine.model

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "ChartShape",
    "StateShape",
    "build_in_state",
    "build_with_value",
    "capture",
    "clear_queues",
    "has_queued_events",
    "illegal_configuration",
    "is_idle",
    "read_state",
    "restore_captured",
    "shape_of",
    "write_history",
    "write_state",
]

IS_V3 = hasattr(statemachine, "StateChart")

_Model: Any = statemachine.model.Model


def _own_methods(name: str) -> frozenset[object]:
    methods: set[object] = set()
    for base_name in ("StateChart", "StateMachine"):
        base: Any = getattr(statemachine, base_name, None)
        own: dict[str, object] = {} if base is None else dict(base.__dict__)
        if name in own:
            methods.add(own[name])
    return frozenset(methods)


_PLAIN_INITS = _own_methods("__init__")
"""python-statemachine's own ``__init__`` methods, which take a ``model``."""

_PLAIN_SETSTATES: frozenset[object] = _own_methods("__setstate__") if IS_V3 else frozenset()
"""python-statemachine 3.x's own ``__setstate__`` methods (see :func:`build_with_value`)."""


def _ordered_set_factory() -> Callable[[Iterable[Any]], Any]:
    if IS_V3:
        module = importlib.import_module("statemachine.orderedset")
        factory: Callable[[Iterable[Any]], Any] = module.OrderedSet
        return factory
    return list  # 2.x keeps one scalar: no set is ever built


_ordered_set = _ordered_set_factory()


class StateShape:
    """What a snapshot needs to know of one state of a machine class."""

    __slots__ = ("children", "compound", "final", "history", "id", "parallel", "parent", "value")

    def __init__(self, state: Any) -> None:
        self.id: str = state.id
        self.value: Any = state.value
        parent = getattr(state, "parent", None)
        self.parent: str | None = None if parent is None else parent.id
        children = list(getattr(state, "states", ()) or ())
        self.children: tuple[str, ...] = tuple(child.id for child in children)
        self.parallel: bool = bool(getattr(state, "parallel", False))
        self.compound: bool = bool(children) and not self.parallel
        self.final: bool = bool(state.final)
        self.history: tuple[str, ...] = tuple(h.id for h in getattr(state, "history", ()) or ())


class ChartShape:
    """The states of one machine class, by id and by value, and its history pseudo-states."""

    __slots__ = (
        "__weakref__",
        "by_value",
        "flat",
        "history",
        "plain_init",
        "states",
        "top",
        "top_final",
        "top_parallel",
        "unpickled",
    )

    def __init__(self, cls: type[Any]) -> None:
        self.states: dict[str, StateShape] = {}
        self.by_value: dict[Any, str] = {}
        for state in cls.states_map.values():
            shape = StateShape(state)
            self.states[shape.id] = shape
            self.by_value[shape.value] = shape.id
        self.top: tuple[str, ...] = tuple(s.id for s in cls.states)
        # History pseudo-state id -> the id of the state whose history it keeps.
        self.history: dict[str, str] = {
            h: shape.id for shape in self.states.values() for h in shape.history
        }
        self.flat: bool = all(not s.children for s in self.states.values())
        # Whether the class keeps python-statemachine's own __init__ (then it is
        # built on a model holding its state, with no other argument).
        self.plain_init: bool = cls.__init__ in _PLAIN_INITS
        # Whether it is built as unpickling builds it (python-statemachine 3.x's own
        # __setstate__, no class-level listener to set up): see build_with_value.
        self.unpickled: bool = (
            self.plain_init
            and cls.__setstate__ in _PLAIN_SETSTATES
            and not getattr(cls, "_class_listeners", None)
        )
        self.top_final: frozenset[str] = frozenset(i for i in self.top if self.states[i].final)
        self.top_parallel: frozenset[str] = frozenset(
            i for i in self.top if self.states[i].parallel
        )


_SHAPES: weakref.WeakKeyDictionary[type[Any], ChartShape] = weakref.WeakKeyDictionary()


def shape_of(cls: type[Any]) -> ChartShape:
    """The (cached) shape of a machine class."""
    shape = _SHAPES.get(cls)
    if shape is None:
        shape = _SHAPES[cls] = ChartShape(cls)
    return shape


def illegal_configuration(shape: ChartShape, ids: Sequence[str]) -> str | None:
    """Why ``ids`` (known state ids, no duplicates) is no legal configuration, or ``None``.

    Legal: empty (what 3.2 leaves after entering an empty history), or closed
    under parents, one top-level state, one child of each active compound state
    and every child of each active parallel state.
    """
    if not ids:
        return None
    states = shape.states
    active = set(ids)
    tops = [i for i in ids if states[i].parent is None]
    if len(tops) != 1:
        return f"it has {len(tops)} top-level states ({', '.join(tops)}), not one"
    for i in ids:
        state = states[i]
        if state.parent is not None and state.parent not in active:
            return f"{i!r} is active but its parent {state.parent!r} is not"
        if state.children:
            on = [c for c in state.children if c in active]
            if state.parallel and len(on) != len(state.children):
                off = [c for c in state.children if c not in active]
                return f"parallel state {i!r} is active but its regions {off} are not"
            if not state.parallel and len(on) != 1:
                return f"compound state {i!r} has {len(on)} active children, not one"
    return None


def read_state(
    machine: Any, shape: ChartShape
) -> tuple[list[str], dict[str, list[str]], bool] | None:
    """The machine's configuration (state ids), history values and finished flag.

    Returns ``None`` when the machine is not idle (see :func:`is_idle`): it is
    processing an event or holds queued events.

    Raises:
        KeyError: The model holds a value that is no state of the machine's class
            (the unknown value is the exception's argument).
    """
    engine = machine._engine  # noqa: SLF001
    # The common case (no lock held, empty queues) is read inline; is_idle() decides
    # the rest (a finished 3.x chart's dead queue, cancelled delayed events).
    quiet = (
        not engine.external_queue.queue.queue and not engine.internal_queue.queue.queue
        if IS_V3
        else not engine._external_queue  # noqa: SLF001
    )
    if (engine._processing.locked() or not quiet) and not is_idle(machine):  # noqa: SLF001
        return None
    raw: Any = getattr(machine.model, machine.state_field, None)
    by_value = shape.by_value
    try:
        ids = [by_value[raw]]
    except KeyError:
        if raw is not None:
            raise
        ids = []
    except TypeError:  # unhashable: the set of values of a 3.x chart
        ids = [by_value[value] for value in raw]
    if not IS_V3:
        # A 2.x engine never stops; a machine in a final state is finished all the same
        # (3.x stops it there), so that a snapshot means the same on every line.
        return ids, {}, not shape.top_final.isdisjoint(ids)
    values = machine.history_values
    history = {key: [s.id for s in states] for key, states in values.items()} if values else {}
    return ids, history, not machine._engine.running  # noqa: SLF001


def _raw_value(shape: ChartShape, ids: Sequence[str]) -> Any:
    states = shape.states
    if not ids:
        return None
    if len(ids) == 1:
        return states[ids[0]].value
    return _ordered_set(states[i].value for i in ids)


def _instance_state(machine: Any, value: Any) -> Any:
    config = getattr(machine, "_config", None)
    if config is not None:  # 3.1 and later
        return config._instance_states[value]  # noqa: SLF001
    state: Any = machine.__class__.states_map[value]  # 3.0
    return state.for_instance(machine=machine, cache=machine._states_for_instance)  # noqa: SLF001


def write_state(
    machine: Any,
    shape: ChartShape,
    ids: Sequence[str],
    history: Mapping[str, Sequence[str]],
    *,
    finished: bool,
) -> None:
    """Put ``machine`` in a checked configuration, history and finished flag, running nothing."""
    setattr(machine.model, machine.state_field, _raw_value(shape, ids))
    write_history(machine, shape, history, finished=finished)


def write_history(
    machine: Any, shape: ChartShape, history: Mapping[str, Sequence[str]], *, finished: bool
) -> None:
    """Set a machine's checked history values and finished flag (3.x; nothing on 2.x)."""
    if not IS_V3:
        return
    states = shape.states
    machine.history_values = {
        key: [_instance_state(machine, states[i].value) for i in values]
        for key, values in history.items()
    }
    machine._engine.running = not finished  # noqa: SLF001


def build_in_state(cls: type[Any], shape: ChartShape, ids: Sequence[str]) -> Any:
    """Build a machine of ``cls`` with no arguments, already in configuration ``ids``.

    The model's state field is set between the constructor's set-up and its
    engine's start (the same seam :func:`._build_before_start` wires through),
    so the initial transition is skipped and no callback runs. An empty
    configuration is reached through its initial state's value, replaced once
    built.
    """
    initial: Any = cls.initial_state
    raw = _raw_value(shape, ids) if ids else initial.value
    machine = build_with_value(cls, shape, raw)
    if not ids:
        setattr(machine.model, machine.state_field, None)
    return machine


def build_with_value(cls: type[Any], shape: ChartShape, raw: Any) -> Any:
    """:func:`build_in_state`, given the raw value of the state field (never ``None``)."""
    factory: Any = cls
    if shape.unpickled:
        # What pickle.loads does for a machine (python-statemachine's own
        # __getstate__ keeps these five attributes): the same set-up as __init__
        # minus what a fresh machine without listeners or arguments skips.
        # tests/test_engine_adapters.py pins the five names.
        model = _Model()
        model.state = raw
        machine: Any = factory.__new__(factory)
        machine.__setstate__(
            {
                "model": model,
                "history_values": {},
                "state_field": "state",
                "start_configuration_values": list(factory.start_configuration_values),
                "_listeners": {},
            }
        )
    elif shape.plain_init:
        # python-statemachine's own __init__: given a model that holds the state, it
        # skips the initial transition itself, and costs less than the seam below.
        model = _Model()
        model.state = raw
        machine = factory(model=model)
    else:
        machine = _built_through_seam(factory, raw)
    return machine


def _built_through_seam(factory: Any, raw: Any) -> Any:
    """Build a machine whose class has an ``__init__`` of its own, set to ``raw``."""
    machine: Any = factory.__new__(factory)

    def get_engine_in_state(*args: Any, **kwargs: Any) -> Any:
        setattr(machine.model, machine.state_field, raw)
        return factory._get_engine(machine, *args, **kwargs)  # noqa: SLF001

    machine._get_engine = get_engine_in_state  # noqa: SLF001
    try:
        init: Callable[[], None] = machine.__init__
        init()
    finally:
        del machine._get_engine  # noqa: SLF001
    return machine


def is_idle(machine: Any) -> bool:
    """Whether the machine is neither processing an event nor holding queued events."""
    engine = machine._engine  # noqa: SLF001
    if engine._processing.locked():  # noqa: SLF001
        return False
    return not has_queued_events(machine)


def has_queued_events(machine: Any) -> bool:
    """Whether events wait in the machine's queues (3.x: delayed ones included)."""
    engine = machine._engine  # noqa: SLF001
    if IS_V3:
        if not engine.running:
            # A finished chart never processes an event again; 3.0 and 3.1 leave the
            # events sent to it in its queue for good (3.2 drops them).
            return False
        # The heaps are read without their lock: only an empty one answers at once.
        external, internal = engine.external_queue, engine.internal_queue
        if not external.queue.queue and not internal.queue.queue:
            return False
        return not (external.is_empty() and internal.is_empty())
    return bool(engine._external_queue)  # noqa: SLF001


def clear_queues(machine: Any) -> None:
    """Drop every event waiting in the machine's queues."""
    engine = machine._engine  # noqa: SLF001
    if IS_V3:
        engine.clear()
    else:
        engine._external_queue.clear()  # noqa: SLF001


def capture(machine: Any) -> tuple[Any, dict[str, list[Any]] | None, bool]:
    """What :func:`restore_captured` needs to put the machine back as it is now."""
    raw = getattr(machine.model, machine.state_field, None)
    if isinstance(raw, MutableSet):
        raw = _ordered_set(raw)  # pyright: ignore[reportUnknownArgumentType]
    if not IS_V3:
        return raw, None, True
    history = {key: list(states) for key, states in machine.history_values.items()}
    return raw, history, machine._engine.running  # noqa: SLF001


def restore_captured(
    machine: Any, captured: tuple[Any, dict[str, list[Any]] | None, bool]
) -> None:
    """Put the machine back as :func:`capture` saw it, dropping queued events."""
    raw, history, running = captured
    clear_queues(machine)
    setattr(machine.model, machine.state_field, raw)
    if history is not None:
        machine.history_values = {key: list(states) for key, states in history.items()}
        machine._engine.running = running  # noqa: SLF001

"""Orchestrator class or instance -> :class:`OrchestratorGraph`.

States and transitions come from python-statemachine's public class API
(``states``, ``state.transitions``, ``state.states`` on 3.x), so the same code
reads 2.x machines (flat) and 3.x statecharts (compound and parallel states).

Cross-machine edges come from two places:

- statically, from the source of the machine classes' methods that declare a
  parameter ``orc``: calls written ``orc.<field>.<event>(...)`` or
  ``orc.<field>.send("<event>", ...)``, read with :mod:`ast` (nothing is
  executed);
- from a recorded trace: each record caused by a record of another machine.

What cannot be drawn (a field the orchestrator does not have, an event the
machine does not have, a source that cannot be read) becomes a
:class:`Problem`, not an edge.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from statemachines_orchestrator import Orchestrator
from statemachines_orchestrator._collections import label, labelled_machines
from statemachines_orchestrator._fields import LIST, SINGLE

from ._errors import NotAnOrchestratorError
from ._model import (
    CrossEdge,
    MachineCluster,
    OrchestratorGraph,
    Problem,
    StateNode,
    TransitionEdge,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

ORC = "orc"
"""The parameter name through which callbacks receive the orchestrator."""

# Classes of these top-level packages are python-statemachine's (or Python's)
# own: their methods are not the user's callbacks.
_LIBRARY_PACKAGES = frozenset({"builtins", "statemachine", "typing", "typing_extensions"})

# Callback name prefixes that tie a callback to one state of its machine.
_STATE_CALLBACK_PREFIXES = ("on_enter_", "on_exit_")


class TraceRecordLike(Protocol):
    """What the diagram reads from one record of a trace.

    :class:`statemachines_orchestrator.trace.Trace` records satisfy it; so does
    any object with these three attributes.
    """

    @property
    def field(self) -> str:
        """The machine field that processed the event."""
        ...

    @property
    def event(self) -> str:
        """The event's id."""
        ...

    @property
    def cause(self) -> TraceRecordLike | None:
        """The record whose callback sent this event, or None for an outside call."""
        ...


class TraceLike(Protocol):
    """What the diagram reads from a trace: its records, in order."""

    @property
    def records(self) -> Sequence[TraceRecordLike]:
        """Every record of the trace."""
        ...


def orchestrator_class_of(obj: object) -> tuple[type[Orchestrator], Orchestrator | None]:
    """The orchestrator class of ``obj``, and ``obj`` itself if it is an instance.

    Raises:
        NotAnOrchestratorError: ``obj`` is neither an orchestrator class nor an
            orchestrator instance.
    """
    if isinstance(obj, type) and issubclass(obj, Orchestrator):
        return obj, None
    if isinstance(obj, Orchestrator):
        return type(obj), obj
    described = obj.__name__ if isinstance(obj, type) else type(obj).__name__
    kind = "class" if isinstance(obj, type) else "object of type"
    msg = (
        f"cannot draw the {kind} {described!r}: "
        "expected an Orchestrator subclass or an instance of one"
    )
    raise NotAnOrchestratorError(msg)


def extract(obj: object, *, trace: TraceLike | None = None) -> OrchestratorGraph:
    """Read an orchestrator class or instance (and a trace) into an :class:`OrchestratorGraph`.

    Raises:
        NotAnOrchestratorError: ``obj`` is neither an orchestrator class nor an
            orchestrator instance.
    """
    orc_class, instance = orchestrator_class_of(obj)
    declared = dict(orc_class.machine_classes)
    live: Mapping[str, Any] = instance.machines if instance is not None else {}
    kinds = {name: field.kind for name, field in orc_class.__machine_fields__.items()}
    classes: dict[str, type[Any]] = {}  # cluster name -> the machine class it draws
    clusters: list[MachineCluster] = []
    members_of: dict[str, list[tuple[int | str, Any]]] = {}
    if instance is not None:
        for name, key, machine in labelled_machines(instance):
            if key is not None:
                members_of.setdefault(name, []).append((key, machine))
    for name, declared_class in declared.items():
        kind = kinds[name]
        value: Any = live.get(name)
        if kind == SINGLE:
            # A live machine may be of a subclass of the declared class: draw what runs.
            machine_class: type[Any] = declared_class if value is None else value.__class__
            classes[name] = machine_class
            clusters.append(_cluster(name, machine_class, _active_ids(value)))
        elif not value:  # a class's collection, or an empty one: its machine class
            classes[name] = declared_class
            shown = declared_class.__name__
            shown = f"list[{shown}]" if kind == LIST else f"dict[str, {shown}]"
            clusters.append(replace(_cluster(name, declared_class, frozenset()), class_name=shown))
        else:  # an instance's collection: one cluster per member, items[0] or items['a']
            for key, member in members_of[name]:
                member_name = label(name, key)
                classes[member_name] = member.__class__
                clusters.append(_cluster(member_name, member.__class__, _active_ids(member)))
    problems: dict[Problem, None] = {}  # an ordered set
    targets = {**declared, **classes}
    edges = [
        edge
        for edge in _static_edges(orc_class, classes, targets, problems)
        if edge.target_field in classes  # orc.items.<event>() reaches no one member
    ]
    if trace is not None:
        edges = _merge_traced(edges, _traced_keys(orc_class, classes, trace, problems))
    return OrchestratorGraph(
        name=orc_class.__name__,
        machines=tuple(clusters),
        cross_edges=tuple(edges),
        problems=tuple(problems),
        is_instance=instance is not None,
    )


# ------------------------------------------------------------------ states


def _active_ids(machine: Any) -> frozenset[str]:
    """The ids of the states a machine is in (none for a class or an unstarted machine)."""
    if machine is None:
        return frozenset()
    configuration = getattr(machine, "configuration", None)  # 3.x: parents included
    if configuration is not None:
        return frozenset(str(state.id) for state in configuration)
    # 2.x: one state; an async machine not yet started has no state value.
    if getattr(machine, "current_state_value", None) is None:
        return frozenset()
    return frozenset({str(machine.current_state.id)})


def _children(state: Any) -> Sequence[Any]:
    """The states nested in ``state`` (3.x compound or parallel); none on 2.x."""
    return tuple(getattr(state, "states", None) or ())


def _state_node(state: Any, active: frozenset[str]) -> StateNode:
    return StateNode(
        id=str(state.id),
        name=str(state.name),
        initial=bool(state.initial),
        final=bool(state.final),
        parallel=bool(getattr(state, "parallel", False)),
        active=str(state.id) in active,
        children=tuple(_state_node(child, active) for child in _children(state)),
    )


def _event_ids(transition: Any) -> list[str]:
    """The ids of the events of a transition, without 3.x's dotted aliases."""
    ids = [str(getattr(event, "id", event)) for event in transition.events]
    # 3.x registers `done.state.x` beside `done_state_x`: keep the Python name.
    return list(dict.fromkeys(i for i in ids if not ("." in i and i.replace(".", "_") in ids)))


def _walk_states(states: Iterable[Any]) -> Iterable[Any]:
    for state in states:
        yield state
        yield from _walk_states(_children(state))


def _descendant_ids(state: Any) -> frozenset[str]:
    return frozenset(str(child.id) for child in _walk_states(_children(state)))


def _transitions(machine_class: type[Any]) -> tuple[TransitionEdge, ...]:
    edges: list[TransitionEdge] = []
    for state in _walk_states(machine_class.states):
        inner = _descendant_ids(state)
        for transition in state.transitions:
            events = _event_ids(transition)
            targets = list(getattr(transition, "targets", None) or ())
            if not targets and transition.target is not None:
                targets = [transition.target]  # 2.x has `target` only
            target_ids = [str(target.id) for target in targets] or [str(state.id)]
            for target_id in target_ids:
                if not events and target_id in inner:
                    # 3.x's implicit transition into a compound or parallel
                    # state's initial children: drawn as the initial marker.
                    continue
                edges.append(
                    TransitionEdge(
                        source=str(transition.source.id),
                        target=target_id,
                        event=" ".join(events),
                        internal=bool(getattr(transition, "internal", False)),
                    )
                )
    return tuple(edges)


def _cluster(name: str, machine_class: type[Any], active: frozenset[str]) -> MachineCluster:
    return MachineCluster(
        field=name,
        class_name=machine_class.__name__,
        states=tuple(_state_node(state, active) for state in machine_class.states),
        transitions=_transitions(machine_class),
    )


# ------------------------------------------------------------------ static edges


@dataclass(frozen=True)
class _Call:
    """One ``orc.<field>.<member>(...)`` call found in a callback's source."""

    origin: str  # Class.method
    method: str
    field: str
    member: str
    sent: str | None  # the literal event of `send("...")`, else None


def _event_set(machine_class: type[Any]) -> frozenset[str]:
    return frozenset(str(event.id) for event in machine_class.events)


def _user_functions(machine_class: type[Any]) -> Iterable[tuple[str, str, Any]]:
    """(origin, name, function) for every method the user wrote, most derived first."""
    seen: set[str] = set()
    for klass in machine_class.__mro__:
        if klass.__module__.partition(".")[0] in _LIBRARY_PACKAGES:
            continue
        for name, value in vars(klass).items():
            function = getattr(value, "__func__", value)  # staticmethod, classmethod
            if name in seen or not inspect.isfunction(function):
                continue
            seen.add(name)
            yield f"{klass.__name__}.{name}", name, function


def _takes_orc(function: Any) -> bool:
    try:
        return ORC in inspect.signature(function).parameters
    except (TypeError, ValueError):  # pragma: no cover - functions always have one
        return False


def _calls_in(function: Any) -> ast.AST:
    """The parsed source of ``function``.

    Raises:
        OSError: Its source is not available.
        SyntaxError: Its source cannot be parsed on its own.
    """
    return ast.parse(textwrap.dedent(inspect.getsource(function)))


def _orc_calls(tree: ast.AST, origin: str, method: str) -> Iterable[_Call]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        if not (
            isinstance(owner, ast.Attribute)
            and isinstance(owner.value, ast.Name)
            and owner.value.id == ORC
        ):
            continue
        member = node.func.attr
        sent: str | None = None
        if member == "send":
            if not (
                node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                continue  # an event computed at run time: nothing to check
            sent = node.args[0].value
        yield _Call(origin=origin, method=method, field=owner.attr, member=member, sent=sent)


def _calls_of(machine_class: type[Any], problems: dict[Problem, None]) -> list[_Call]:
    calls: list[_Call] = []
    for origin, name, function in _user_functions(machine_class):
        if not _takes_orc(function):
            continue
        try:
            tree = _calls_in(function)
        except (OSError, TypeError, SyntaxError) as error:
            reason = f"its source cannot be read ({error.__class__.__name__})"
            problems[Problem(origin, f"{reason}: its calls to other machines are not drawn")] = (
                None
            )
            continue
        calls.extend(_orc_calls(tree, origin, name))
    return calls


def _source_state(method: str, state_ids: frozenset[str]) -> str | None:
    for prefix in _STATE_CALLBACK_PREFIXES:
        if method.startswith(prefix) and method[len(prefix) :] in state_ids:
            return method[len(prefix) :]
    return None


def _static_edges(
    orc_class: type[Orchestrator],
    classes: Mapping[str, type[Any]],
    targets: Mapping[str, type[Any]],
    problems: dict[Problem, None],
) -> list[CrossEdge]:
    edges: dict[tuple[str, str | None, str, str], list[str]] = {}
    calls_by_class: dict[type[Any], list[_Call]] = {}
    for source_field, machine_class in classes.items():
        if machine_class not in calls_by_class:
            calls_by_class[machine_class] = _calls_of(machine_class, problems)
        state_ids = frozenset(str(s.id) for s in _walk_states(machine_class.states))
        for call in calls_by_class[machine_class]:
            event = _checked_event(orc_class, targets, call, problems)
            if event is None or call.field == source_field:
                continue  # not an event, or not a call to *another* machine
            key = (source_field, _source_state(call.method, state_ids), call.field, event)
            origins = edges.setdefault(key, [])
            if call.origin not in origins:
                origins.append(call.origin)
    return [
        CrossEdge(
            source_field=source,
            source_state=state,
            target_field=target,
            event=event,
            static=True,
            origins=tuple(origins),
        )
        for (source, state, target, event), origins in edges.items()
    ]


def _checked_event(
    orc_class: type[Orchestrator],
    classes: Mapping[str, type[Any]],
    call: _Call,
    problems: dict[Problem, None],
) -> str | None:
    """The event ``call`` sends, or None (with a problem if it is unknown)."""
    written = (
        f"orc.{call.field}.send({call.sent!r})"
        if call.sent is not None
        else f"orc.{call.field}.{call.member}()"
    )
    target_class = classes.get(call.field)
    if target_class is None:
        if not hasattr(orc_class, call.field):  # orc.machines, a property, ...
            owner = orc_class.__name__
            message = f"calls {written}, but {owner} has no machine field {call.field!r}"
            problems[Problem(call.origin, message)] = None
        return None
    event = call.sent if call.sent is not None else call.member
    if event in _event_set(target_class):
        return event
    if call.sent is None and hasattr(target_class, call.member):
        return None  # a method or attribute of the machine, not an event
    message = f"calls {written}, but {target_class.__name__} has no event {event!r}"
    problems[Problem(call.origin, message)] = None
    return None


# ------------------------------------------------------------------ traced edges


def _traced_keys(
    orc_class: type[Orchestrator],
    classes: Mapping[str, type[Any]],
    trace: TraceLike,
    problems: dict[Problem, None],
) -> list[tuple[str, str, str]]:
    keys: dict[tuple[str, str, str], None] = {}
    for record in trace.records:
        cause = record.cause
        if cause is None or cause.field == record.field:
            continue
        source, target = _drawn(cause.field, classes), _drawn(record.field, classes)
        if source is None or target is None:
            for name, drawn in ((cause.field, source), (record.field, target)):
                if drawn is None:
                    owner = orc_class.__name__
                    message = f"a record names the field {name!r}, which {owner} does not have"
                    problems[Problem("trace", message)] = None
            continue
        if source != target:
            keys[(source, target, record.event)] = None
    return list(keys)


def _drawn(name: str, classes: Mapping[str, type[Any]]) -> str | None:
    """The cluster a record's field is drawn in: a member's, or its collection's."""
    if name in classes:
        return name
    collection = name.partition("[")[0]
    return collection if collection != name and collection in classes else None


def _merge_traced(
    edges: list[CrossEdge], traced: Iterable[tuple[str, str, str]]
) -> list[CrossEdge]:
    """Mark the static edges a trace observed; add the traced ones found nowhere else."""
    merged = list(edges)
    extra: list[CrossEdge] = []
    for source, target, event in traced:
        matched = False
        for index, edge in enumerate(merged):
            if (edge.source_field, edge.target_field, edge.event) == (source, target, event):
                merged[index] = replace(edge, traced=True)
                matched = True
        if not matched:
            extra.append(
                CrossEdge(source_field=source, target_field=target, event=event, traced=True)
            )
    return merged + extra

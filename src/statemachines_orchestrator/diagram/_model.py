"""The diagram's intermediate representation: plain data, independent of any output.

:func:`~statemachines_orchestrator.diagram.extract` fills it from an orchestrator
class or instance; the Mermaid and DOT writers only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StateNode:
    """One state of a machine, with its children if it is compound or parallel.

    Attributes:
        id: The state's id, unique within its machine (``created``).
        name: The state's display name (python-statemachine's ``State.name``).
        initial: Whether it is the initial state of its machine or of its parent.
        final: Whether it is a final state.
        parallel: Whether it is a parallel state (3.x): its children are regions
            that are all active at once.
        active: Whether it is in the machine's current configuration (only ever
            true in a diagram of an orchestrator instance).
        children: The states nested in it (3.x compound and parallel states).
    """

    id: str
    name: str
    initial: bool = False
    final: bool = False
    parallel: bool = False
    active: bool = False
    children: tuple[StateNode, ...] = ()

    def walk(self) -> tuple[StateNode, ...]:
        """This state and every state nested in it, parents before children."""
        nodes: list[StateNode] = [self]
        for child in self.children:
            nodes.extend(child.walk())
        return tuple(nodes)


@dataclass(frozen=True)
class TransitionEdge:
    """One transition of one machine, between two of its states.

    Attributes:
        source: The id of the state it leaves.
        target: The id of the state it enters (the source itself for a self
            transition or a targetless one).
        event: The events that trigger it, space separated (empty for an
            eventless transition).
        internal: Whether it is an internal transition (3.x): no exit, no entry.
    """

    source: str
    target: str
    event: str
    internal: bool = False


@dataclass(frozen=True)
class MachineCluster:
    """One machine field of the orchestrator: its states and transitions.

    Attributes:
        field: The orchestrator's field name (``order``); for a member of a
            collection of an instance, its label (``items[0]``, ``items['a']``).
        class_name: The machine class's name (``OrderMachine``); for a
            collection drawn as its machine class, ``list[Item]`` or
            ``dict[str, Item]``.
        states: The machine's top-level states, in declaration order.
        transitions: Every transition of the machine, nested states included,
            without the implicit ones that enter a compound or parallel state's
            initial children.
    """

    field: str
    class_name: str
    states: tuple[StateNode, ...]
    transitions: tuple[TransitionEdge, ...]

    def all_states(self) -> tuple[StateNode, ...]:
        """Every state of the machine, nested ones included, parents first."""
        nodes: list[StateNode] = []
        for state in self.states:
            nodes.extend(state.walk())
        return tuple(nodes)

    def states_by_id(self) -> dict[str, StateNode]:
        """Every state of the machine by its id."""
        return {state.id: state for state in self.all_states()}

    @property
    def active_states(self) -> tuple[str, ...]:
        """The ids of the states in the machine's current configuration."""
        return tuple(state.id for state in self.all_states() if state.active)


@dataclass(frozen=True)
class CrossEdge:
    """A call from one machine to another: one event sent from one field to another.

    Attributes:
        source_field: The field whose callback sends the event.
        target_field: The field that receives the event.
        event: The event sent (``authorize``).
        source_state: The state whose entry or exit callback sends it
            (``on_enter_authorized``), or None when it is not tied to one state.
        static: Whether it was found in the source code of the machine class's
            callbacks (drawn dashed when it was not also traced).
        traced: Whether a recorded trace observed it (drawn solid).
        origins: Where it was found: ``Class.method`` names for static edges.
    """

    source_field: str
    target_field: str
    event: str
    source_state: str | None = None
    static: bool = False
    traced: bool = False
    origins: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Problem:
    """Something found that the diagram does not draw, and why.

    Attributes:
        origin: Where it was found (``PaymentMachine.on_enter_declined``, or
            ``trace`` for a trace record).
        message: What is wrong, in one sentence.
    """

    origin: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


@dataclass(frozen=True)
class OrchestratorGraph:
    """The whole diagram of one orchestrator class or instance.

    Attributes:
        name: The orchestrator class's name (``Shop``).
        machines: One cluster per machine field, in field order.
        cross_edges: The calls between machines, static and traced.
        problems: What the extraction found but does not draw (unknown fields
            or events in the callbacks, unreadable sources, trace records
            about fields the orchestrator does not have).
        is_instance: Whether it was extracted from an orchestrator instance
            (whose current states are marked active).
    """

    name: str
    machines: tuple[MachineCluster, ...]
    cross_edges: tuple[CrossEdge, ...] = ()
    problems: tuple[Problem, ...] = ()
    is_instance: bool = False

    def machine(self, field_name: str) -> MachineCluster:
        """The cluster of one machine field.

        Raises:
            KeyError: No machine has that field name.
        """
        for cluster in self.machines:
            if cluster.field == field_name:
                return cluster
        raise KeyError(field_name)

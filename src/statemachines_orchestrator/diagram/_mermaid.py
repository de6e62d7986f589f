""":class:`OrchestratorGraph` -> Mermaid ``stateDiagram-v2`` text (no dependency).

One composite state per machine, nested composites for compound states, ``--``
between the regions of a parallel state, ``classDef active`` for the states an
instance is in, and the cross-machine calls as transitions between the
machines' composites. Mermaid cannot dash a state diagram's transition, so a
call that was found in the source but not traced says ``(static)`` in its label.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._names import MachineWriter, NodeIds, scope_of

if TYPE_CHECKING:
    from ._model import CrossEdge, MachineCluster, OrchestratorGraph, StateNode, TransitionEdge

ACTIVE_STYLE = "fill:#40E0D0,stroke:#333"
"""How the states an instance is in are filled (python-statemachine's colour)."""

_INDENT = "    "


_ENTITIES = {"#": "#35;", '"': "#quot;", ";": "#59;", "\r": " ", "\n": " "}
_SPECIAL = re.compile('[#";\r\n]')


def _text(label: str) -> str:
    """A label Mermaid reads literally: its entity codes for the characters it parses."""
    return _SPECIAL.sub(lambda match: _ENTITIES[match.group()], label)


def cross_edge_label(edge: CrossEdge) -> str:
    """A cross edge's label: its event, marked ``(static)`` when no trace observed it."""
    return edge.event if edge.traced else f"{edge.event} (static)"


class _MachineWriter(MachineWriter):
    """Writes one machine's composite state."""

    def __init__(self, cluster: MachineCluster, ids: NodeIds, lines: list[str]) -> None:
        super().__init__(cluster, ids, lines)
        self.parallel_ids = {s.id for s in cluster.all_states() if s.parallel}

    def endpoint(self, state_id: str) -> str:
        # mermaid-js/mermaid#4052: an edge ending on a composite inside a
        # parallel region breaks the layout; aim at its initial child instead.
        state = self.by_id[state_id]
        inside_parallel = any(p in self.parallel_ids for p in self.paths[state_id])
        while inside_parallel and state.children and not state.parallel:
            initial = next((c for c in state.children if c.initial), state.children[0])
            state = initial
        return self.node(state.id)

    def scope(self, transition: TransitionEdge) -> tuple[str, ...]:
        scope = scope_of(self.paths[transition.source], self.paths[transition.target])
        # Lines after a parallel state's last `--` belong to its last region:
        # a transition between regions is written in the parallel state's parent.
        while scope and scope[-1] in self.parallel_ids:
            scope = scope[:-1]
        return scope

    def write(self) -> None:
        cluster = self.cluster
        label = _text(f"{cluster.field}: {cluster.class_name}")
        self.lines.append(f'{_INDENT}state "{label}" as {self.ids.machine(cluster.field)} {{')
        self.level(cluster.states, (), 2, parallel=False)
        self.lines.append(f"{_INDENT}}}")

    def level(
        self, states: tuple[StateNode, ...], scope: tuple[str, ...], depth: int, *, parallel: bool
    ) -> None:
        pad = _INDENT * depth
        if not parallel and states:
            initial = next((s for s in states if s.initial), states[0])
            self.lines.append(f"{pad}[*] --> {self.endpoint(initial.id)}")
        for index, state in enumerate(states):
            if parallel and index:
                self.lines.append(f"{pad}--")
            self.state(state, scope, depth)
        for transition in self.cluster.transitions:
            if self.scope(transition) == scope:
                source = self.endpoint(transition.source)
                target = self.endpoint(transition.target)
                label = f" : {_text(transition.event)}" if transition.event else ""
                self.lines.append(f"{pad}{source} --> {target}{label}")
        for state in states:
            if state.final and not state.children:
                self.lines.append(f"{pad}{self.node(state.id)} --> [*]")

    def state(self, state: StateNode, scope: tuple[str, ...], depth: int) -> None:
        pad = _INDENT * depth
        declaration = f'{pad}state "{_text(state.name)}" as {self.node(state.id)}'
        if not state.children:
            self.lines.append(declaration)
            return
        self.lines.append(f"{declaration} {{")
        self.level(state.children, (*scope, state.id), depth + 1, parallel=state.parallel)
        self.lines.append(f"{pad}}}")


def render(graph: OrchestratorGraph, *, direction: str = "LR") -> str:
    """The Mermaid ``stateDiagram-v2`` text of a graph.

    Args:
        graph: What to draw.
        direction: Mermaid's layout direction (``LR``, ``TB``, ``RL`` or ``BT``).
    """
    ids = NodeIds(graph)
    lines = ["stateDiagram-v2", f"{_INDENT}direction {direction}"]
    for cluster in graph.machines:
        _MachineWriter(cluster, ids, lines).write()
    for edge in graph.cross_edges:
        source = ids.machine(edge.source_field)
        target = ids.machine(edge.target_field)
        lines.append(f"{_INDENT}{source} --> {target} : {_text(cross_edge_label(edge))}")
    active = [
        ids.state(cluster.field, state.id)
        for cluster in graph.machines
        for state in cluster.all_states()
        if state.active and not state.children
    ]
    if active:
        lines.append(f"{_INDENT}classDef active {ACTIVE_STYLE}")
        lines.append(f"{_INDENT}class {', '.join(active)} active")
    return "\n".join(lines) + "\n"


def render_markdown(graph: OrchestratorGraph, *, direction: str = "LR") -> str:
    """The Mermaid text of a graph in a Markdown ``mermaid`` code fence."""
    return f"```mermaid\n{render(graph, direction=direction)}```\n"

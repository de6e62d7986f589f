""":class:`OrchestratorGraph` -> Graphviz DOT text (no dependency).

One ``cluster_`` subgraph per machine, nested clusters for compound and
parallel states, a filled node for each state an instance is in, and the
cross-machine calls between clusters: dashed when found only in the source,
solid when a trace observed them. An edge to or from a cluster is drawn
through the cluster's anchor node (its initial dot) with ``lhead``/``ltail``,
which needs ``compound=true``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._names import MachineWriter, NodeIds

if TYPE_CHECKING:
    from ._model import CrossEdge, OrchestratorGraph, StateNode

ACTIVE_FILL = "#40E0D0"
"""Fill colour of the states an instance is in (python-statemachine's colour)."""

CROSS_COLOR = "#1f5fa8"
"""Colour of the cross-machine edges, to tell them from a machine's own transitions."""

_INDENT = "  "
_FONT = "Helvetica"


def quote(text: str) -> str:
    """A DOT double-quoted string holding ``text`` literally."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "")
    return '"' + escaped.replace("\n", "\\n") + '"'


def _attributes(**attributes: str) -> str:
    return "[" + ", ".join(f"{key}={quote(value)}" for key, value in attributes.items()) + "]"


def _cluster_name(node_id: str) -> str:
    return f"cluster_{node_id}"


def _anchor(node_id: str) -> str:
    return f"{node_id}__anchor"


class _MachineWriter(MachineWriter):
    """Writes one machine's cluster."""

    def write(self) -> None:
        cluster = self.cluster
        machine_id = self.ids.machine(cluster.field)
        self.block(machine_id, f"{cluster.field}: {cluster.class_name}", cluster.states, 1)
        for transition in cluster.transitions:
            source, target = transition.source, transition.target
            attributes: dict[str, str] = {}
            if transition.event:
                attributes["label"] = transition.event
            if transition.internal:
                attributes["style"] = "dotted"
            tail = self.endpoint(source, target, "ltail", attributes)
            head = self.endpoint(target, source, "lhead", attributes)
            self.lines.append(
                f"{_INDENT}{quote(tail)} -> {quote(head)} {_attributes(**attributes)}"
            )

    def endpoint(self, state_id: str, other_id: str, key: str, attributes: dict[str, str]) -> str:
        """The node an edge touches for ``state_id``, setting ltail/lhead for a cluster."""
        state = self.by_id[state_id]
        if not state.children:
            return self.node(state_id)
        node_id = self.node(state_id)
        # Clipping at a cluster that contains the other end makes dot warn.
        if other_id != state_id and state_id not in self.paths[other_id]:
            attributes[key] = _cluster_name(node_id)
        return _anchor(node_id)

    def block(
        self,
        node_id: str,
        label: str,
        states: tuple[StateNode, ...],
        depth: int,
        *,
        parallel: bool = False,
    ) -> None:
        pad = _INDENT * depth
        inner = _INDENT * (depth + 1)
        self.lines.append(f"{pad}subgraph {quote(_cluster_name(node_id))} {{")
        style = "dashed,rounded" if parallel else "rounded"
        self.lines.append(f"{inner}graph {_attributes(label=label, style=style)}")
        anchor = quote(_anchor(node_id))
        if parallel or not states:
            # Every region starts at once: no initial dot, an invisible anchor.
            self.lines.append(f'{inner}{anchor} [shape="point", style="invis", width="0"]')
        else:
            initial = next((s for s in states if s.initial), states[0])
            self.lines.append(f'{inner}{anchor} [shape="point", width="0.12", label=""]')
            target = quote(
                self.node(initial.id) if not initial.children else _anchor(self.node(initial.id))
            )
            extra = (
                f' [lhead="{_cluster_name(self.node(initial.id))}"]' if initial.children else ""
            )
            self.lines.append(f"{inner}{anchor} -> {target}{extra}")
        for state in states:
            if state.children:
                self.block(
                    self.node(state.id),
                    state.name,
                    state.children,
                    depth + 1,
                    parallel=state.parallel,
                )
                continue
            attributes = {"label": state.name}
            if state.final:
                attributes["peripheries"] = "2"
            if state.active:
                attributes["style"] = "rounded,filled"
                attributes["fillcolor"] = ACTIVE_FILL
            self.lines.append(f"{inner}{quote(self.node(state.id))} {_attributes(**attributes)}")
        self.lines.append(f"{pad}}}")


def _cross_edge(edge: CrossEdge, graph: OrchestratorGraph, ids: NodeIds) -> str:
    attributes = {"label": edge.event, "color": CROSS_COLOR, "fontcolor": CROSS_COLOR}
    if not edge.traced:
        attributes["style"] = "dashed"
    if (
        edge.source_state is not None
        and not graph.machine(edge.source_field).states_by_id()[edge.source_state].children
    ):
        tail = ids.state(edge.source_field, edge.source_state)
    else:
        machine_or_state = (
            ids.state(edge.source_field, edge.source_state)
            if edge.source_state is not None
            else ids.machine(edge.source_field)
        )
        tail = _anchor(machine_or_state)
        attributes["ltail"] = _cluster_name(machine_or_state)
    target = ids.machine(edge.target_field)
    attributes["lhead"] = _cluster_name(target)
    return f"{_INDENT}{quote(tail)} -> {quote(_anchor(target))} {_attributes(**attributes)}"


def render(graph: OrchestratorGraph, *, direction: str = "LR") -> str:
    """The DOT text of a graph.

    Args:
        graph: What to draw.
        direction: Graphviz's ``rankdir`` (``LR``, ``TB``, ``RL`` or ``BT``).
    """
    ids = NodeIds(graph)
    lines = [
        f"digraph {quote(graph.name)} {{",
        _INDENT
        + "graph "
        + _attributes(
            compound="true", rankdir=direction, label=graph.name, labelloc="t", fontname=_FONT
        ),
        _INDENT
        + "node "
        + _attributes(shape="box", style="rounded", fontname=_FONT, fontsize="11"),
        _INDENT + "edge " + _attributes(fontname=_FONT, fontsize="10"),
    ]
    for cluster in graph.machines:
        _MachineWriter(cluster, ids, lines).write()
    lines.extend(_cross_edge(edge, graph, ids) for edge in graph.cross_edges)
    lines.append("}")
    return "\n".join(lines) + "\n"

"""Node ids for the writers: unique across machines, safe in Mermaid and DOT.

Two machines may both have a state ``pending``, and a field or state may be
named like a Mermaid keyword (``note``, ``state``, ``end``): every id is
prefixed with its machine's field, and kept to ASCII letters, digits and
underscores.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._model import MachineCluster, OrchestratorGraph, StateNode

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _safe(text: str) -> str:
    return _UNSAFE.sub(lambda match: f"_u{ord(match.group()):x}_", text)


class NodeIds:
    """The id of every machine and state of one graph, allocated once.

    Args:
        graph: The graph whose machines and states get ids.
    """

    def __init__(self, graph: OrchestratorGraph) -> None:
        self._taken: set[str] = set()
        self._machines: dict[str, str] = {}
        self._states: dict[tuple[str, str], str] = {}
        for cluster in graph.machines:
            self._machines[cluster.field] = self._allocate(f"m_{_safe(cluster.field)}")
        for cluster in graph.machines:
            for state in cluster.all_states():
                candidate = f"{_safe(cluster.field)}__{_safe(state.id)}"
                self._states[(cluster.field, state.id)] = self._allocate(candidate)

    def _allocate(self, candidate: str) -> str:
        allocated, number = candidate, 1
        while allocated in self._taken:
            number += 1
            allocated = f"{candidate}_{number}"
        self._taken.add(allocated)
        return allocated

    def machine(self, field: str) -> str:
        """The id of a machine field's cluster."""
        return self._machines[field]

    def state(self, field: str, state_id: str) -> str:
        """The id of one state of one machine field."""
        return self._states[(field, state_id)]


def parents(cluster: MachineCluster) -> dict[str, tuple[str, ...]]:
    """Each state id of a machine -> the ids of its ancestors, outermost first."""
    result: dict[str, tuple[str, ...]] = {}

    def visit(states: tuple[StateNode, ...], path: tuple[str, ...]) -> None:
        for state in states:
            result[state.id] = path
            visit(state.children, (*path, state.id))

    visit(cluster.states, ())
    return result


def scope_of(path_a: tuple[str, ...], path_b: tuple[str, ...]) -> tuple[str, ...]:
    """The innermost compound state that contains both paths (``()``: the machine)."""
    common: list[str] = []
    for a, b in zip(path_a, path_b):
        if a != b:
            break
        common.append(a)
    return tuple(common)


class MachineWriter:
    """What the Mermaid and DOT writers of one machine share: its ids and its states.

    Args:
        cluster: The machine to write.
        ids: The graph's node ids.
        lines: The output, appended to.
    """

    def __init__(self, cluster: MachineCluster, ids: NodeIds, lines: list[str]) -> None:
        self.cluster = cluster
        self.ids = ids
        self.lines = lines
        self.paths = parents(cluster)
        self.by_id = {state.id: state for state in cluster.all_states()}

    def node(self, state_id: str) -> str:
        """The node id of one of this machine's states."""
        return self.ids.state(self.cluster.field, state_id)

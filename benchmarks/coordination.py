"""The collection and broadcast workloads the benchmarks compare.

Members are :class:`~scenarios.LampOrc` machines (one callback asks for the
orchestrator), so that wiring a member costs what wiring a single field costs.

- *construction, N members*: building N machines and an orchestrator holding
  them in a ``list[...]`` field, against building the N machines alone.
- *event on a member*: the toggle workload on the first member of a list,
  against the same machine wired by hand (as the injection rows do).
- *broadcast*: ``orc.send("toggle")`` to N members, against calling
  ``machine.toggle()`` on each of the same members in a loop.
- *memory*: what an orchestrator holding N members adds to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from measure import retained_bytes
from scenarios import InjectionScenario, LampByHand, LampOrc, _toggles

from statemachines_orchestrator import Orchestrator

if TYPE_CHECKING:
    from measure import Clock, Sampler

__all__ = [
    "MEMBER_EVENT",
    "broadcast_samplers",
    "construction_samplers",
    "members_memory",
]


class Lamps(Orchestrator):
    """A list of lamps."""

    lamps: list[LampOrc]


class LampBank(Orchestrator):
    """A list of lamps, the first of which the member-event workload drives."""

    lamps: list[LampOrc]


def construction_samplers(members: int) -> tuple[Sampler, Sampler]:
    """Building ``members`` machines alone, and with an orchestrator holding them."""

    def alone(n: int, clock: Clock) -> int:
        kept: list[object] = [None] * n
        start = clock()
        for i in range(n):
            kept[i] = [LampOrc() for _ in range(members)]
        return clock() - start

    def orchestrated(n: int, clock: Clock) -> int:
        kept: list[object] = [None] * n
        start = clock()
        for i in range(n):
            kept[i] = Lamps([LampOrc() for _ in range(members)])
        return clock() - start

    return alone, orchestrated


def broadcast_samplers(members: int) -> tuple[Sampler, Sampler]:
    """``members`` toggles by hand in a loop, and one ``orc.send("toggle")``, per iteration."""

    def by_hand(n: int, clock: Clock) -> int:
        lamps = Lamps([LampOrc() for _ in range(members)])
        machines = list(lamps.lamps)
        for machine in machines:
            machine.toggle()
        start = clock()
        for _ in range(n):
            for machine in machines:
                machine.toggle()
        return clock() - start

    def broadcast(n: int, clock: Clock) -> int:
        lamps = Lamps([LampOrc() for _ in range(members)])
        lamps.send("toggle")
        start = clock()
        for _ in range(n):
            lamps.send("toggle")
        return clock() - start

    return by_hand, broadcast


class _MemberScenario(InjectionScenario):
    """The toggle workload on the first member of a list field."""

    def orchestrated(self) -> Sampler:
        """The workload on the first of three members of a :class:`LampBank`."""
        from scenarios import _sampler  # noqa: PLC0415 - the shared sampler, private there

        def build() -> list[Any]:
            machines = [LampOrc() for _ in range(3)]
            LampBank(machines)
            return machines

        return _sampler(build, _toggles)


MEMBER_EVENT = _MemberScenario("toggle on a member, sync", _toggles, 1, (LampByHand,), LampBank)
"""An event on one member of a collection, against the same machine wired by hand."""


def members_memory(members: int) -> tuple[float, float]:
    """Bytes ``members`` machines hold, and bytes an orchestrator holding them adds.

    Call it in a fresh interpreter. The orchestrator is built once before the
    measured machines (a warm process), as :func:`scenarios.orchestrator_memory`
    explains.
    """
    Lamps([LampOrc()])

    def machines() -> list[LampOrc]:
        return [LampOrc() for _ in range(members)]

    def orchestrator(lamps: list[LampOrc]) -> object:
        return Lamps(lamps)

    machine_bytes, orchestrator_bytes = retained_bytes(machines, orchestrator)
    return machine_bytes, orchestrator_bytes

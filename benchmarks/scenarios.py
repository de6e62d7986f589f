"""The machines and workloads the benchmarks compare.

Every machine comes in two flavours whose callbacks are identical except for
the one parameter they bind: the *by hand* flavour declares ``machine`` (a
keyword python-statemachine passes to every callback anyway) and reaches its
peer through an attribute set by hand, the *orchestrated* flavour declares
``orc`` and reaches its peer through the orchestrator. Both callbacks make
python-statemachine bind one keyword argument, so the difference between the
two is the cost of injecting the orchestrator and nothing else.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable

import statemachine
from measure import retained_bytes
from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator
from statemachines_orchestrator._psm import _fallback

if TYPE_CHECKING:
    from measure import Clock, Sampler

__all__ = [
    "CONSTRUCTION",
    "HAS_PREPARE_EVENT",
    "INJECTION_SCENARIOS",
    "MEMORY_STATES",
    "InjectionScenario",
    "orchestrator_memory",
]

HAS_PREPARE_EVENT = hasattr(statemachine, "StateChart")
"""Whether this python-statemachine calls ``prepare_event`` on listeners (3.x does)."""

Build = Callable[[], "list[Any]"]
"""Builds the machines of a workload; the workload drives the first one."""


# --------------------------------------------------------------------------- machines


class _Lamp(StateMachine):
    """Two states and one event that flips between them."""

    off = State(initial=True)
    on = State()

    toggle = off.to(on) | on.to(off)

    seen: object = None
    """What the last callback received."""


class _Player(StateMachine):
    """One side of a rally: every hit flips its state."""

    ready = State(initial=True)
    swung = State()

    hit = ready.to(swung) | swung.to(ready)

    rally_left = 0
    """How many more times this player hits the ball back (the server only)."""

    peer: _Player
    """The other player, for machines wired by hand."""


class LampByHand(_Lamp):
    """Binds python-statemachine's own ``machine`` keyword."""

    def after_toggle(self, machine: LampByHand) -> None:
        """Record what the callback received."""
        self.seen = machine


class LampOrc(_Lamp):
    """Binds the injected orchestrator."""

    def after_toggle(self, orc: LampRoom) -> None:
        """Record what the callback received."""
        self.seen = orc


class ServerByHand(_Player):
    """Serves, then returns every ball until its rally is over."""

    def after_hit(self, machine: _Player) -> None:
        """Hit the ball to the peer, while the rally lasts."""
        if self.rally_left:
            self.rally_left -= 1
            machine.peer.hit()


class ServerOrc(_Player):
    """Serves, then returns every ball until its rally is over."""

    def after_hit(self, orc: Table) -> None:
        """Hit the ball to the receiver, while the rally lasts."""
        if self.rally_left:
            self.rally_left -= 1
            orc.receiver.hit()


class ReceiverByHand(_Player):
    """Returns every ball."""

    def after_hit(self, machine: _Player) -> None:
        """Hit the ball back to the peer."""
        machine.peer.hit()


class ReceiverOrc(_Player):
    """Returns every ball."""

    def after_hit(self, orc: Table) -> None:
        """Hit the ball back to the server."""
        orc.server.hit()


class AsyncLampByHand(_Lamp):
    """:class:`LampByHand` with an async callback."""

    async def after_toggle(self, machine: AsyncLampByHand) -> None:
        """Record what the callback received."""
        self.seen = machine


class AsyncLampOrc(_Lamp):
    """:class:`LampOrc` with an async callback."""

    async def after_toggle(self, orc: AsyncLampRoom) -> None:
        """Record what the callback received."""
        self.seen = orc


class AsyncServerByHand(_Player):
    """:class:`ServerByHand` with an async callback."""

    async def after_hit(self, machine: _Player) -> None:
        """Hit the ball to the peer, while the rally lasts."""
        if self.rally_left:
            self.rally_left -= 1
            await machine.peer.hit()


class AsyncServerOrc(_Player):
    """:class:`ServerOrc` with an async callback."""

    async def after_hit(self, orc: AsyncTable) -> None:
        """Hit the ball to the receiver, while the rally lasts."""
        if self.rally_left:
            self.rally_left -= 1
            await orc.receiver.hit()


class AsyncReceiverByHand(_Player):
    """:class:`ReceiverByHand` with an async callback."""

    async def after_hit(self, machine: _Player) -> None:
        """Hit the ball back to the peer."""
        await machine.peer.hit()


class AsyncReceiverOrc(_Player):
    """:class:`ReceiverOrc` with an async callback."""

    async def after_hit(self, orc: AsyncTable) -> None:
        """Hit the ball back to the server."""
        await orc.server.hit()


class LampRoom(Orchestrator):
    """One lamp."""

    lamp: LampOrc


class Table(Orchestrator):
    """A server and a receiver."""

    server: ServerOrc
    receiver: ReceiverOrc


class AsyncLampRoom(Orchestrator):
    """One async lamp."""

    lamp: AsyncLampOrc


class AsyncTable(Orchestrator):
    """An async server and receiver."""

    server: AsyncServerOrc
    receiver: AsyncReceiverOrc


# --------------------------------------------------------------------------- wiring


def _by_hand(*classes: type[Any]) -> Build:
    """Build the machines and set each one's ``peer`` to the next, round robin."""

    def build() -> list[Any]:
        machines = [cls() for cls in classes]
        if len(machines) > 1:
            for machine, peer in zip(machines, machines[1:] + machines[:1]):
                machine.peer = peer
        return machines

    return build


def _orchestrated(orchestrator: type[Orchestrator]) -> Build:
    """Build the machines of ``orchestrator``'s fields, and the orchestrator itself."""

    def build() -> list[Any]:
        machines = {name: cls() for name, cls in orchestrator.machine_classes.items()}
        # The orchestrator stays alive as long as its machines: their callbacks refer to it.
        orchestrator(**machines)
        return list(machines.values())

    return build


def _listened(orchestrator: type[Orchestrator]) -> Build:
    """Build the same machines, wired by the package's public-hook fallback.

    That is how the orchestrator is injected when python-statemachine's
    internals are not recognised (``_psm._fallback``): one listener per machine
    whose ``prepare_event`` returns it. A stand-in holds the machines.
    """

    def build() -> list[Any]:
        machines = {name: cls() for name, cls in orchestrator.machine_classes.items()}
        stand_in = SimpleNamespace(**machines)
        for machine in machines.values():
            _fallback.wire(machine, stand_in, "orc")
        return list(machines.values())

    return build


# --------------------------------------------------------------------------- workloads


def _toggles(machines: list[Any], n: int) -> None:
    """``n`` toggles of the lamp, one event each."""
    lamp = machines[0]
    for _ in range(n):
        lamp.toggle()


def _rally(machines: list[Any], n: int) -> None:
    """A rally of ``n`` volleys: ``2 * n + 1`` events, all started by one serve."""
    server = machines[0]
    server.rally_left = n
    server.hit()


async def _async_toggles(machines: list[Any], n: int) -> None:
    """:func:`_toggles`, awaiting each event."""
    lamp = machines[0]
    for _ in range(n):
        await lamp.toggle()


async def _async_rally(machines: list[Any], n: int) -> None:
    """:func:`_rally`, awaiting the serve."""
    server = machines[0]
    server.rally_left = n
    await server.hit()


Drive = Callable[["list[Any]", int], Any]
"""Runs ``n`` iterations of a workload on built machines (a coroutine function if async)."""


def _sampler(build: Build, drive: Drive) -> Sampler:
    """Time ``drive`` on fresh machines from ``build``, after one warm-up iteration.

    Fresh machines per sample keep one unlucky object layout from biasing a
    whole comparison; building them is not timed. An async ``drive`` runs in a
    new event loop per sample, whose setup is not timed either.
    """
    if not inspect.iscoroutinefunction(drive):

        def sample(n: int, clock: Clock) -> int:
            machines = build()
            drive(machines, 1)
            start = clock()
            drive(machines, n)
            return clock() - start

        return sample

    async def run(n: int, clock: Clock) -> int:
        machines = build()
        for machine in machines:
            await machine.activate_initial_state()
        await drive(machines, 1)
        start = clock()
        await drive(machines, n)
        return clock() - start

    return lambda n, clock: asyncio.run(run(n, clock))


@dataclass(frozen=True)
class InjectionScenario:
    """The same workload driven by hand-wired machines and by orchestrated ones.

    Attributes:
        name: How the report names the scenario.
        drive: The workload.
        events_per_iteration: Events the machines process per iteration of ``drive``.
        by_hand: The machine classes of the baseline, the driven one first.
        orchestrator: The orchestrator of the candidate, its driven machine first.
    """

    name: str
    drive: Drive
    events_per_iteration: int
    by_hand: tuple[type[Any], ...]
    orchestrator: type[Orchestrator]

    def baseline(self) -> Sampler:
        """The workload on machines wired by hand."""
        return _sampler(_by_hand(*self.by_hand), self.drive)

    def orchestrated(self) -> Sampler:
        """The workload on machines wired by an orchestrator."""
        return _sampler(_orchestrated(self.orchestrator), self.drive)

    def prepare_event(self) -> Sampler:
        """The workload on the orchestrated machines fed by a ``prepare_event`` listener."""
        return _sampler(_listened(self.orchestrator), self.drive)


INJECTION_SCENARIOS = (
    InjectionScenario("toggle, sync", _toggles, 1, (LampByHand,), LampRoom),
    InjectionScenario("ping-pong, sync", _rally, 2, (ServerByHand, ReceiverByHand), Table),
    InjectionScenario("toggle, async", _async_toggles, 1, (AsyncLampByHand,), AsyncLampRoom),
    InjectionScenario(
        "ping-pong, async", _async_rally, 2, (AsyncServerByHand, AsyncReceiverByHand), AsyncTable
    ),
)
"""The injection comparisons, sync first."""


# --------------------------------------------------------------------------- construction


def _constructions(build: Callable[[], object]) -> Sampler:
    """One ``build()`` per iteration; everything built stays alive until the clock stops."""

    def sample(n: int, clock: Clock) -> int:
        kept: list[object] = [None] * n
        start = clock()
        for i in range(n):
            kept[i] = build()
        return clock() - start

    return sample


def _two_machines() -> object:
    """The baseline of the construction comparison."""
    return ServerOrc(), ReceiverOrc()


def _two_machines_and_orchestrator() -> object:
    """The candidate of the construction comparison: the same machines, orchestrated."""
    return Table(server=ServerOrc(), receiver=ReceiverOrc())


CONSTRUCTION = (_constructions(_two_machines), _constructions(_two_machines_and_orchestrator))
"""Baseline and candidate samplers: two machines alone, then with their orchestrator."""


_Pairs = tuple[list[tuple[ServerOrc, ReceiverOrc]], list[object]]
"""Pairs of machines, and as many empty slots for their orchestrators."""


MEMORY_STATES = ("cold", "warm")
"""The process states :func:`orchestrator_memory` measures in; see there."""


def orchestrator_memory(count: int, state: str) -> tuple[float, float]:
    """Bytes a pair of machines holds, and bytes their live orchestrator adds to it.

    ``count`` pairs of machines are built first, then one orchestrator for each
    pair; both figures are averages over the ``count`` pairs. Call it in a fresh
    interpreter, once: what wiring costs depends on what the process did before.

    CPython 3.11+ stores an instance's attributes inline, in a layout shared by
    its class, and leaves less room in that layout for attributes added later
    with every instance it creates; a design that adds attributes to
    python-statemachine's objects then costs more in a ``"cold"`` process, whose
    first orchestrators wire a batch of machines built before them, than in a
    ``"warm"`` one, which built an orchestrator first. Both are measured so that
    such a difference shows.

    Args:
        count: How many pairs to measure.
        state: ``"warm"`` builds one orchestrator before the measured machines,
            ``"cold"`` does not.
    """

    def machines() -> _Pairs:
        # The slots are allocated here, so that only the orchestrators count as added.
        return [(ServerOrc(), ReceiverOrc()) for _ in range(count)], [None] * count

    def orchestrators(pairs_and_slots: _Pairs) -> object:
        pairs, slots = pairs_and_slots
        for i, (server, receiver) in enumerate(pairs):
            slots[i] = Table(server=server, receiver=receiver)
        return slots

    if state == "warm":
        Table(server=ServerOrc(), receiver=ReceiverOrc())
    pair_bytes, orchestrator_bytes = retained_bytes(machines, orchestrators)
    return pair_bytes / count, orchestrator_bytes / count

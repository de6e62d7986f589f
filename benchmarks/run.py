"""Measure what an orchestrator costs, against the same machines without one.

Run from the repository root, with the package installed or not::

    python benchmarks/run.py            # about half a minute
    python benchmarks/run.py --quick    # a second or two: a smoke test, not a measurement
    python benchmarks/run.py --check    # exit status 1 when a target is missed

Every timing is a ratio of two workloads measured side by side in the same
run (see ``measure.py``); ``docs/benchmarks.md`` explains the scenarios.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

try:
    import statemachines_orchestrator
except ImportError:  # not installed: use the source tree next to this script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import statemachines_orchestrator

from coordination import (
    MEMBER_EVENT,
    broadcast_samplers,
    construction_samplers,
    members_memory,
)
from measure import CLOCKS, Comparison, compare
from observe import TRACE_TARGET, otel_samplers, trace_samplers
from scenarios import (
    CONSTRUCTION,
    HAS_PREPARE_EVENT,
    INJECTION_SCENARIOS,
    MEMORY_STATES,
    orchestrator_memory,
)
from snapshot_scenarios import RESTORE, SNAPSHOT

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from measure import Sampler

INJECTION_TARGET = 1.03
"""Largest acceptable median time ratio per event, orchestrated over by hand."""

CONSTRUCTION_TARGET = 1.05
"""Largest acceptable median time ratio, two machines with their orchestrator over alone."""

MEMORY_TARGET = 1024
"""Largest acceptable number of bytes a live orchestrator adds to its machines."""

RESTORE_TARGET = 1.0
"""Largest acceptable median time ratio, ``restore(json.loads(text))`` over ``pickle.loads``."""

SNAPSHOT_TARGET = 0.1
"""Largest acceptable median time ratio, ``json.dumps(orc.snapshot())`` over restoring."""


@dataclass(frozen=True)
class Settings:
    """How long and how often to measure."""

    repeats: int
    sample_ms: float
    memory_count: int
    clock: str = "perf_counter"
    collection_sizes: tuple[int, ...] = (10, 10_000)

    @property
    def budget_ns(self) -> int:
        """About how long one baseline sample should take."""
        return round(self.sample_ms * 1_000_000)

    def compare(self, baseline: Sampler, candidates: list[Sampler]) -> list[Comparison]:
        """Time ``candidates`` against ``baseline`` with these settings."""
        return compare(
            baseline,
            candidates,
            repeats=self.repeats,
            budget_ns=self.budget_ns,
            clock=CLOCKS[self.clock],
        )


FULL = Settings(repeats=31, sample_ms=40, memory_count=200)
QUICK = Settings(repeats=3, sample_ms=2, memory_count=20, collection_sizes=(10, 100))

BIG_COLLECTION = 1_000
"""From this many members on, a sample lasts long: fewer repeats (see collection_rows)."""

BIG_REPEATS = 11

BROADCAST_TARGET = 1.05
"""Largest acceptable median time ratio, ``orc.send`` to N members over a loop by hand."""

MEMBER_BYTES_TARGET = 48
"""Bytes per member an orchestrator may add to its machines, beyond ``MEMORY_TARGET``."""


@dataclass(frozen=True)
class Row:
    """One line of the report; ``passed`` is ``None`` for reference rows without a target."""

    scenario: str
    baseline: str
    candidate: str
    measured: str
    target: str
    passed: bool | None


def _per_op(ns: float, unit: str) -> str:
    return f"{ns / 1000:.2f} us/{unit}"


def _ratio(comparison: Comparison) -> str:
    low, high = comparison.spread
    return f"{comparison.ratio:.3f} ({low:.3f}-{high:.3f})"


def _timed_row(
    scenario: str, comparison: Comparison, unit: str, per: int, target: float | None
) -> Row:
    return Row(
        scenario=scenario,
        baseline=_per_op(comparison.baseline_ns / per, unit),
        candidate=_per_op(comparison.candidate_ns / per, unit),
        measured=_ratio(comparison),
        target="-" if target is None else f"<= {target:.2f}",
        passed=None if target is None else comparison.ratio <= target,
    )


def injection_rows(settings: Settings) -> Iterator[Row]:
    """Orchestrated (and ``prepare_event``-fed) machines against machines wired by hand."""
    for scenario in INJECTION_SCENARIOS:
        candidates = [scenario.orchestrated()]
        if HAS_PREPARE_EVENT:
            candidates.append(scenario.prepare_event())
        comparisons = settings.compare(scenario.baseline(), candidates)
        per = scenario.events_per_iteration
        yield _timed_row(
            f"injection: {scenario.name}", comparisons[0], "event", per, INJECTION_TARGET
        )
        if HAS_PREPARE_EVENT:
            name = f"reference: prepare_event, {scenario.name}"
            yield _timed_row(name, comparisons[1], "event", per, None)


def observe_rows(settings: Settings) -> Iterator[Row]:
    """A trace against a plain recording listener; OpenTelemetry against nothing attached."""
    for scenario in INJECTION_SCENARIOS:
        per = scenario.events_per_iteration
        listened, traced = trace_samplers(scenario)
        (comparison,) = settings.compare(listened, [traced])
        yield _timed_row(f"trace: {scenario.name}", comparison, "event", per, TRACE_TARGET)
        otel = otel_samplers(scenario)
        if otel is not None:
            bare, instrumented = otel
            (comparison,) = settings.compare(bare, [instrumented])
            yield _timed_row(f"reference: otel, {scenario.name}", comparison, "event", per, None)


def construction_row(settings: Settings) -> Row:
    """Two machines and their orchestrator against the two machines alone."""
    baseline, candidate = CONSTRUCTION
    (comparison,) = settings.compare(baseline, [candidate])
    return _timed_row("construction: 2 machines", comparison, "pair", 1, CONSTRUCTION_TARGET)


def snapshot_rows(settings: Settings) -> Iterator[Row]:
    """Restoring against unpickling, and taking a snapshot against restoring (2 machines)."""
    baseline, candidate = RESTORE
    (comparison,) = settings.compare(baseline, [candidate])
    yield _timed_row("restore: 2 machines, vs pickle", comparison, "orc", 1, RESTORE_TARGET)
    baseline, candidate = SNAPSHOT
    (comparison,) = settings.compare(baseline, [candidate])
    yield _timed_row("snapshot: 2 machines, vs restore", comparison, "orc", 1, SNAPSHOT_TARGET)


def _probe_memory(state: str, count: int) -> tuple[float, float]:
    """Run :func:`orchestrator_memory` in a fresh interpreter, which it needs."""
    command = [sys.executable, __file__, "--memory-probe", state, "--memory-count", str(count)]
    # The command is this very script, run by this very interpreter.
    result = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    pair_bytes, orchestrator_bytes = result.stdout.split()
    return float(pair_bytes), float(orchestrator_bytes)


def memory_rows(settings: Settings) -> Iterator[Row]:
    """Bytes a live orchestrator adds to its two machines, in a cold and a warm process."""
    for state in MEMORY_STATES:
        pair_bytes, orchestrator_bytes = _probe_memory(state, settings.memory_count)
        yield Row(
            scenario=f"memory: live orchestrator, {state} process",
            baseline=f"{pair_bytes:,.0f} B/pair",
            candidate=f"{orchestrator_bytes:+,.0f} B",
            measured=f"{orchestrator_bytes:,.0f} B",
            target=f"<= {MEMORY_TARGET:,} B",
            passed=orchestrator_bytes <= MEMORY_TARGET,
        )


def store_rows(settings: Settings) -> Iterator[Row]:
    """A unit of work against a hand-written read-modify-write, per database (needs SQLAlchemy)."""
    try:
        from store_scenarios import store_scenarios  # noqa: PLC0415 - imports SQLAlchemy

        scenarios = store_scenarios()
    except ImportError as error:  # the extra's own error (StoreExtraMissingError) too
        print(f"store rows skipped: {error}")
        return
    for scenario in scenarios:
        try:
            (comparison,) = settings.compare(scenario.baseline, [scenario.candidate])
        finally:
            scenario.close()
        name = f"store: unit of work, {scenario.name}"
        yield _timed_row(name, comparison, "unit", 1, scenario.target)


def collection_rows(settings: Settings) -> Iterator[Row]:
    """Collections: building, an event on a member, broadcast, and memory, per size."""
    (member,) = settings.compare(MEMBER_EVENT.baseline(), [MEMBER_EVENT.orchestrated()])
    yield _timed_row(f"injection: {MEMBER_EVENT.name}", member, "event", 1, INJECTION_TARGET)
    for size in settings.collection_sizes:
        # A sample of a big collection lasts long already: fewer of them.
        big = size >= BIG_COLLECTION
        sized = (
            Settings(min(settings.repeats, BIG_REPEATS), settings.sample_ms, 0, settings.clock)
            if big
            else settings
        )
        alone, orchestrated = construction_samplers(size)
        (built,) = sized.compare(alone, [orchestrated])
        yield _timed_row(f"construction: {size:,} members", built, "build", 1, CONSTRUCTION_TARGET)
        by_hand, broadcast = broadcast_samplers(size)
        (sent,) = sized.compare(by_hand, [broadcast])
        yield _timed_row(f"broadcast: {size:,} members", sent, "send", 1, BROADCAST_TARGET)
        machine_bytes, orchestrator_bytes = _probe_members_memory(size)
        target = MEMORY_TARGET + MEMBER_BYTES_TARGET * size
        yield Row(
            scenario=f"memory: orchestrator of {size:,} members",
            baseline=f"{machine_bytes:,.0f} B",
            candidate=f"{orchestrator_bytes:+,.0f} B",
            measured=f"{orchestrator_bytes / size:,.1f} B/member",
            target=f"<= {target:,} B",
            passed=orchestrator_bytes <= target,
        )


def _probe_members_memory(size: int) -> tuple[float, float]:
    """Run :func:`coordination.members_memory` in a fresh interpreter."""
    command = [sys.executable, __file__, "--members-memory-probe", str(size)]
    result = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    machine_bytes, orchestrator_bytes = result.stdout.split()
    return float(machine_bytes), float(orchestrator_bytes)


def _versions() -> str:
    try:
        psm = version("python-statemachine")
    except PackageNotFoundError:  # pragma: no cover - imported from a source tree
        psm = "unknown"
    where = Path(statemachines_orchestrator.__file__).resolve().parent
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"python-statemachine {psm}, statemachines-orchestrator "
        f"{statemachines_orchestrator.__version__} ({where})"
    )


HEADERS = ("scenario", "by hand", "candidate", "median ratio (IQR)", "target", "result")


def format_table(rows: Sequence[Row]) -> str:
    """Lay the rows out as a Markdown table, columns padded to line up."""
    verdicts = {True: "pass", False: "MISS", None: "-"}
    cells = [HEADERS] + [
        (r.scenario, r.baseline, r.candidate, r.measured, r.target, verdicts[r.passed])
        for r in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths)) + " |" for line in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks, print the report, and return the exit status."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a smoke test of a second or two, not a measurement"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a target is missed"
    )
    parser.add_argument("--repeats", type=int, help="samples per workload (odd is best)")
    parser.add_argument("--sample-ms", type=float, help="duration of one baseline sample")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="perf_counter",
        help="thread_time leaves out the time other processes take (default: %(default)s)",
    )
    # Internal: how _probe_memory runs one measurement in a fresh interpreter.
    parser.add_argument("--memory-probe", choices=MEMORY_STATES, help=argparse.SUPPRESS)
    parser.add_argument("--memory-count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--members-memory-probe", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe is not None:
        print(*orchestrator_memory(args.memory_count, args.memory_probe))
        return 0
    if args.members_memory_probe is not None:
        print(*members_memory(args.members_memory_probe))
        return 0

    preset = QUICK if args.quick else FULL
    settings = Settings(
        repeats=args.repeats or preset.repeats,
        sample_ms=args.sample_ms or preset.sample_ms,
        memory_count=preset.memory_count,
        clock=args.clock,
        collection_sizes=preset.collection_sizes,
    )
    print(_versions())
    print(
        f"{settings.repeats} interleaved repeats of ~{settings.sample_ms:g} ms per workload, "
        f"clock {settings.clock}, gc disabled while timing; ratios are candidate / by hand"
    )
    rows = [*injection_rows(settings), construction_row(settings), *memory_rows(settings)]
    rows += snapshot_rows(settings)
    rows += observe_rows(settings)
    rows += store_rows(settings)
    rows += collection_rows(settings)
    print(format_table(rows))
    if args.quick:
        print("--quick: samples too short for the figures to mean anything")
    missed = [row.scenario for row in rows if row.passed is False]
    if missed:
        print(f"target missed: {'; '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())

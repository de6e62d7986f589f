"""Interleaved timing and allocation measurement for the benchmarks.

A *sampler* runs ``n`` iterations of one workload and returns the nanoseconds
they took, read from a clock around the iterations only (setup, event-loop
creation and teardown stay outside). The clock is :func:`time.perf_counter_ns`
unless told otherwise; :func:`time.thread_time_ns` counts only the CPU time of
the benchmark's own thread, which keeps other processes on a busy machine out
of the figures.

The samplers of one comparison are calibrated once, on the baseline, and then
run in turn in every repeat, the order rotating from repeat to repeat (AB, BA,
... or ABC, BCA, CAB, ...), so that drift in the machine's speed hits every
side alike. Each repeat yields one ratio per candidate; the medians of those
ratios are what the benchmarks report.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from typing import Callable, TypeVar

__all__ = ["CLOCKS", "Clock", "Comparison", "Sampler", "compare", "retained_bytes"]

Clock = Callable[[], int]
"""Returns nanoseconds from an arbitrary origin."""

CLOCKS: dict[str, Clock] = {
    "perf_counter": time.perf_counter_ns,
    "thread_time": time.thread_time_ns,
}
"""The clocks a comparison can be timed with, by name."""

Sampler = Callable[[int, Clock], int]
"""Runs ``n`` iterations of a workload and returns the nanoseconds ``clock`` saw pass."""

_T = TypeVar("_T")


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare` for one candidate against the baseline.

    Attributes:
        baseline_ns: Median nanoseconds per iteration of the baseline.
        candidate_ns: Median nanoseconds per iteration of the candidate.
        ratios: Candidate time over baseline time, one per repeat, sorted.
    """

    baseline_ns: float
    candidate_ns: float
    ratios: tuple[float, ...]

    @property
    def ratio(self) -> float:
        """The median of the per-repeat ratios."""
        return statistics.median(self.ratios)

    @property
    def spread(self) -> tuple[float, float]:
        """The lower and upper quartiles of the per-repeat ratios."""
        if len(self.ratios) < 2:  # noqa: PLR2004 - quantiles need two points
            return self.ratios[0], self.ratios[0]
        low, _, high = statistics.quantiles(self.ratios, n=4, method="inclusive")
        return low, high


def _timed(sampler: Sampler, n: int, clock: Clock) -> int:
    """Run ``sampler`` with the cyclic garbage collector off, after collecting."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return sampler(n, clock)
    finally:
        if was_enabled:
            gc.enable()


def _calibrate(sampler: Sampler, budget_ns: int, clock: Clock) -> int:
    """Find an iteration count for which ``sampler`` takes about ``budget_ns``."""
    n = 1
    while True:
        elapsed = _timed(sampler, n, clock)
        if elapsed >= budget_ns:
            return n
        if elapsed < budget_ns // 100:
            n *= 10
        else:
            # Aim a little past the budget so that the next try usually ends the search.
            return max(n + 1, round(n * budget_ns * 1.1 / elapsed))


def compare(
    baseline: Sampler,
    candidates: list[Sampler],
    *,
    repeats: int,
    budget_ns: int,
    clock: Clock = time.perf_counter_ns,
) -> list[Comparison]:
    """Time each candidate against ``baseline``, interleaved, and return their comparisons.

    Args:
        baseline: The reference workload.
        candidates: The workloads compared with it, in the order of the result.
        repeats: How many times every sampler runs; each run gives one ratio per candidate.
        budget_ns: About how long one baseline sample should take.
        clock: What the samplers time themselves with.

    Returns:
        One :class:`Comparison` per candidate.
    """
    n = _calibrate(baseline, budget_ns, clock)
    samplers = [baseline, *candidates]
    for sampler in samplers:  # warm-up: caches, lazily built callback tables
        _timed(sampler, n, clock)
    runs: list[list[int]] = [[] for _ in samplers]
    for repeat in range(repeats):
        for step in range(len(samplers)):
            index = (repeat + step) % len(samplers)
            runs[index].append(_timed(samplers[index], n, clock))
    base = runs[0]
    return [
        Comparison(
            baseline_ns=statistics.median(base) / n,
            candidate_ns=statistics.median(times) / n,
            ratios=tuple(sorted(t / b for t, b in zip(times, base))),
        )
        for times in runs[1:]
    ]


def retained_bytes(setup: Callable[[], _T], action: Callable[[_T], object]) -> tuple[int, int]:
    """Measure, with :mod:`tracemalloc`, what ``setup`` and then ``action`` leave allocated.

    Tracing starts before ``setup`` so that memory ``action`` frees or
    reallocates is accounted for as well. Whatever ``action`` returns is kept
    alive until the second measurement.

    Returns:
        The bytes still allocated after ``setup``, and those added by ``action``.
    """
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        state = setup()
        gc.collect()
        middle = tracemalloc.get_traced_memory()[0]
        kept = action(state)
        gc.collect()
        end = tracemalloc.get_traced_memory()[0]
        del kept
    finally:
        tracemalloc.stop()
    return middle - start, end - middle

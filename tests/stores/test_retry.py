"""retry() and retry_async(): run a unit of work again after a conflict, a bounded number
of times."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from statemachines_orchestrator import ConcurrentUpdateError, InvalidStoreArgumentError
from statemachines_orchestrator.store import _retry, retry, retry_async


class Flaky:
    """Conflicts ``conflicts`` times, then returns how many calls it took."""

    def __init__(self, conflicts: int) -> None:
        self.conflicts = conflicts
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.conflicts:
            msg = f"conflict {self.calls}"
            raise ConcurrentUpdateError(msg)
        return self.calls

    async def run_async(self) -> int:
        return self()


def test_retry_returns_the_first_result_that_does_not_conflict() -> None:
    flaky = Flaky(conflicts=2)
    seen: list[tuple[str, int]] = []
    result = retry(flaky, attempts=3, on_conflict=lambda e, n: seen.append((str(e), n)))
    assert result == 3
    assert seen == [("conflict 1", 1), ("conflict 2", 2)]


def test_retry_gives_up_after_the_last_attempt_and_reports_it() -> None:
    flaky = Flaky(conflicts=5)
    seen: list[int] = []
    with pytest.raises(ConcurrentUpdateError, match="conflict 3"):
        retry(flaky, attempts=3, on_conflict=lambda _e, n: seen.append(n))
    assert flaky.calls == 3
    assert seen == [1, 2, 3]


def test_retry_lets_other_errors_through_at_once() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        msg = "not a conflict"
        raise ValueError(msg)

    with pytest.raises(ValueError, match="not a conflict"):
        retry(broken, attempts=5)
    assert calls == [1]


def test_retry_with_one_attempt_does_not_retry() -> None:
    flaky = Flaky(conflicts=1)
    with pytest.raises(ConcurrentUpdateError):
        retry(flaky, attempts=1)
    assert flaky.calls == 1


def test_retry_pauses_with_growing_random_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    bounds: list[tuple[float, float]] = []
    monkeypatch.setattr(_retry.time, "sleep", pauses.append)

    def uniform(low: float, high: float) -> float:
        bounds.append((low, high))
        return high / 2

    monkeypatch.setattr(_retry.random, "uniform", uniform)
    assert retry(Flaky(conflicts=3), attempts=4, backoff=0.01) == 4
    assert bounds == [(0, 0.01), (0, 0.02), (0, 0.04)]
    assert pauses == [0.005, 0.01, 0.02]


def test_retry_without_backoff_never_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_seconds: float) -> None:
        raise AssertionError

    monkeypatch.setattr(_retry.time, "sleep", refuse)
    assert retry(Flaky(conflicts=2)) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempts": 0}, "retry(attempts=...) must be an int >= 1, got 0"),
        ({"attempts": 2.0}, "retry(attempts=...) must be an int >= 1, got 2.0"),
        ({"backoff": -1}, "retry(backoff=...) must be a number of seconds >= 0, got -1"),
        ({"backoff": "1"}, "retry(backoff=...) must be a number of seconds >= 0, got '1'"),
    ],
)
def test_retry_refuses_bad_settings(kwargs: dict[str, Any], message: str) -> None:
    flaky = Flaky(conflicts=0)
    with pytest.raises(InvalidStoreArgumentError) as info:
        retry(flaky, **kwargs)
    assert str(info.value) == message
    with pytest.raises(InvalidStoreArgumentError):
        asyncio.run(retry_async(flaky.run_async, **kwargs))
    assert flaky.calls == 0


def test_retry_async_retries_and_gives_up_like_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(_retry.asyncio, "sleep", fake_sleep)
    monkeypatch.setattr(_retry.random, "uniform", lambda _low, high: high)
    seen: list[int] = []
    flaky = Flaky(conflicts=2)
    result = asyncio.run(
        retry_async(
            flaky.run_async, attempts=3, backoff=0.5, on_conflict=lambda _e, n: seen.append(n)
        )
    )
    assert (result, seen, pauses) == (3, [1, 2], [0.5, 1.0])
    hopeless = Flaky(conflicts=9)
    with pytest.raises(ConcurrentUpdateError, match="conflict 2"):
        asyncio.run(retry_async(hopeless.run_async, attempts=2))
    assert hopeless.calls == 2

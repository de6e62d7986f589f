"""Run a unit of work again, on fresh state, when it loses to a concurrent writer."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import TYPE_CHECKING, Callable, TypeVar

from statemachines_orchestrator.exceptions import ConcurrentUpdateError, InvalidStoreArgumentError

if TYPE_CHECKING:
    from collections.abc import Awaitable

__all__ = ["retry", "retry_async"]

T = TypeVar("T")

_log = logging.getLogger("statemachines_orchestrator.store")

OnConflict = Callable[[ConcurrentUpdateError, int], object]
"""Called with the conflict and the number of the attempt that lost (1 for the first)."""


def _check_attempts(attempts: object, backoff: object) -> None:
    if type(attempts) is not int or attempts < 1:
        msg = f"retry(attempts=...) must be an int >= 1, got {attempts!r}"
        raise InvalidStoreArgumentError(msg)
    if not isinstance(backoff, (int, float)) or backoff < 0:
        msg = f"retry(backoff=...) must be a number of seconds >= 0, got {backoff!r}"
        raise InvalidStoreArgumentError(msg)


def _pause(backoff: float, attempt: int) -> float:
    # Full jitter: writers that collided once do not collide again in step.
    return random.uniform(0, backoff * 2 ** (attempt - 1))  # noqa: S311 - not cryptography


def retry(
    unit_of_work: Callable[[], T],
    *,
    attempts: int = 3,
    backoff: float = 0.0,
    on_conflict: OnConflict | None = None,
) -> T:
    """Call ``unit_of_work()`` and call it again when it raises ``ConcurrentUpdateError``.

    ``unit_of_work`` must open its unit of work itself (``with
    store.transaction(...)``), so that every attempt loads fresh state. Its
    callbacks run again on every attempt: see the docs on side effects.

    Args:
        unit_of_work: Runs one unit of work; its result is returned.
        attempts: How many calls in all, at most (at least 1).
        backoff: Upper bound, in seconds, of a random pause before the second
            call; it doubles before every further call. 0 retries at once.
        on_conflict: Called with each conflict and the number of the attempt
            that lost (for counting or logging), also for the last one.

    Returns:
        What the first call that did not conflict returned.

    Raises:
        ConcurrentUpdateError: The last attempt conflicted too.
    """
    _check_attempts(attempts, backoff)
    attempt = 1
    while True:
        try:
            return unit_of_work()
        except ConcurrentUpdateError as error:
            if on_conflict is not None:
                on_conflict(error, attempt)
            if attempt >= attempts:
                raise
            _log.debug("conflict on attempt %d of %d, retrying: %s", attempt, attempts, error)
        if backoff:
            time.sleep(_pause(backoff, attempt))
        attempt += 1


async def retry_async(
    unit_of_work: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    backoff: float = 0.0,
    on_conflict: OnConflict | None = None,
) -> T:
    """The asyncio twin of :func:`retry`: awaits ``unit_of_work()`` until it does not conflict.

    Args:
        unit_of_work: Returns an awaitable that runs one unit of work.
        attempts: How many calls in all, at most (at least 1).
        backoff: Upper bound, in seconds, of a random pause before the second
            call; it doubles before every further call.
        on_conflict: Called with each conflict and the number of the attempt that lost.

    Returns:
        What the first call that did not conflict returned.

    Raises:
        ConcurrentUpdateError: The last attempt conflicted too.
    """
    _check_attempts(attempts, backoff)
    attempt = 1
    while True:
        try:
            return await unit_of_work()
        except ConcurrentUpdateError as error:
            if on_conflict is not None:
                on_conflict(error, attempt)
            if attempt >= attempts:
                raise
            _log.debug("conflict on attempt %d of %d, retrying: %s", attempt, attempts, error)
        if backoff:
            await asyncio.sleep(_pause(backoff, attempt))
        attempt += 1

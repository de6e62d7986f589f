"""Async machines in the asyncio stores: ``async with store.transaction(...)``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from statemachines_orchestrator import ConcurrentUpdateError
from statemachines_orchestrator.store import retry_async

from .shop import AsyncShop, Counter, configuration

if TYPE_CHECKING:
    from .backends import Backend


def test_a_new_orchestrator_of_async_machines_enters_its_initial_states(
    async_backend: Backend,
) -> None:
    store = async_backend.store

    async def scenario() -> None:
        async with store.transaction(AsyncShop, "order-1") as shop:
            assert configuration(shop) == {"order": "created", "payment": "pending"}
            assert shop.order.entered == 1
            await shop.order.place(total=50)
        async with store.transaction(AsyncShop, "order-1") as shop:
            # Restored, not built: the initial state's entry action did not run again.
            assert shop.order.entered == 1
            assert configuration(shop) == {"order": "paid", "payment": "authorized"}
            assert shop.order.total == 50

    async_backend.run(scenario())


def test_an_exception_in_an_async_block_writes_nothing(async_backend: Backend) -> None:
    store = async_backend.store

    async def fail() -> None:
        async with store.transaction(AsyncShop, "k") as shop:
            await shop.order.place(total=50)
            raise LookupError

    async def scenario() -> None:
        with pytest.raises(LookupError):
            await fail()
        assert await store.read_document("tests.stores.shop:AsyncShop", "k") is None

    async_backend.run(scenario())


def test_concurrent_async_units_of_work_retried_lose_no_event(async_backend: Backend) -> None:
    """Tasks that may collide, each retried: every event lands once.

    Whether they collide depends on how the loop interleaves them (the driver,
    the machine's load); the next test makes a conflict for certain.
    """
    store = async_backend.store
    tasks, per_task = 4, 5

    async def add(event_id: str) -> None:
        async with store.transaction(Counter, "shared") as counter:
            await asyncio.sleep(0)  # let the other tasks load the same version
            counter.tally.add(event_id=event_id)

    async def work(index: int) -> None:
        for number in range(per_task):
            event_id = f"{index}-{number}"
            await retry_async(lambda event_id=event_id: add(event_id), attempts=100)

    async def scenario() -> list[str]:
        async with store.transaction(Counter, "shared"):
            pass
        await asyncio.gather(*(work(i) for i in range(tasks)))
        return (await store.load(Counter, "shared")).tally.seen

    seen = async_backend.run(scenario())
    assert sorted(seen) == sorted(f"{i}-{n}" for i in range(tasks) for n in range(per_task))


def test_an_async_unit_of_work_that_loses_writes_nothing(async_backend: Backend) -> None:
    store = async_backend.store
    peer = async_backend.peer()

    async def race() -> None:
        async with store.transaction(Counter, "k") as mine:
            mine.tally.add(event_id="lost")
            async with peer.transaction(Counter, "k") as theirs:
                theirs.tally.add(event_id="kept")

    async def scenario() -> list[str]:
        async with store.transaction(Counter, "k"):
            pass
        with pytest.raises(ConcurrentUpdateError):
            await race()
        return (await store.load(Counter, "k")).tally.seen

    assert async_backend.run(scenario()) == ["kept"]

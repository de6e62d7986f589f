"""What type checkers see of the stores; checked by mypy and pyright (strict).

Imported by ``tests/test_typing.py`` as well, so the happy path runs (on the
memory stores). Each statement under ``if TYPE_CHECKING:`` at the end must be
an error for both checkers (see ``check_orchestrator_types.py``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Optional

from statemachine import State, StateMachine
from typing_extensions import assert_type

from statemachines_orchestrator import Orchestrator, built
from statemachines_orchestrator.store import (
    AsyncMemoryStore,
    AsyncStore,
    AsyncUnitOfWork,
    Document,
    MemoryStore,
    Store,
    UnitOfWork,
    retry,
    retry_async,
)


class OrderMachine(StateMachine):
    pending = State(initial=True)
    paid = State(final=True)

    pay = pending.to(paid)


class Shop(Orchestrator):
    order: OrderMachine = built(factory=OrderMachine)


class Other(Orchestrator):
    order: OrderMachine = built(factory=OrderMachine)


store: Store = MemoryStore()

unit = store.transaction(Shop, "order-1")
assert_type(unit, UnitOfWork[Shop])
with unit as shop:
    assert_type(shop, Shop)
    assert_type(shop.order, OrderMachine)
    shop.order.pay()
assert_type(unit.saved_version, Optional[int])
assert_type(store.load(Shop, "order-1"), Shop)
with store.transaction(Shop, "order-2", create=Shop) as created:
    assert_type(created, Shop)
store.create(Other(), "order-1")
store.save(store.load(Other, "order-1"))
document = store.read_document("tests:Shop", "order-1")
assert_type(document, Optional[Document])


def pay(key: str) -> str:
    with store.transaction(Shop, key) as shop:
        shop.order.pay()
    return key


assert_type(retry(lambda: pay("order-3"), attempts=2), str)


async def main() -> int:
    async_store: AsyncStore = AsyncMemoryStore()
    async_unit = async_store.transaction(Shop, "a")
    assert_type(async_unit, AsyncUnitOfWork[Shop])
    async with async_unit as shop:
        assert_type(shop, Shop)
    assert_type(await async_store.load(Shop, "a"), Shop)

    async def count() -> int:
        async with async_store.transaction(Shop, "a"):
            return 1

    return await retry_async(count)


assert_type(asyncio.run(main()), int)


if TYPE_CHECKING:
    store.transaction(Shop, 1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    wrong: UnitOfWork[Shop] = store.transaction(Shop, "k", create=Other)  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
    store.load(OrderMachine, "k")  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]
    retry(pay)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

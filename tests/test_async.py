"""Async machines: awaited cross-machine calls and concurrent orchestrators."""

from __future__ import annotations

import asyncio
from typing import Any

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator

from .machines import state_of


class AsyncOrder(StateMachine):
    """An order whose async callback awaits the payment."""

    pending = State(initial=True)
    processing = State()
    completed = State(final=True)

    process = pending.to(processing)
    complete = processing.to(completed)

    async def on_enter_pending(self, orc: Any = None) -> None:
        self.entered_with = orc

    async def after_process(self, orc: Any) -> None:
        await orc.payment.authorize()

    async def before_complete(self, orc: Any) -> None:
        assert state_of(orc.payment) == "captured"


class AsyncPayment(StateMachine):
    """A payment that completes its order from an async callback."""

    waiting = State(initial=True)
    authorized = State()
    captured = State(final=True)

    authorize = waiting.to(authorized, cond="ready")
    capture = authorized.to(captured)

    async def ready(self, orc: Any) -> bool:
        return state_of(orc.order) == "processing"

    async def after_capture(self, orc: Any) -> None:
        await orc.order.complete()


class AsyncShop(Orchestrator):
    """Two async machines."""

    order: AsyncOrder
    payment: AsyncPayment


async def start(shop: AsyncShop) -> AsyncShop:
    """Activate the initial states, as python-statemachine asks of async machines."""
    for machine in shop.machines.values():
        await machine.activate_initial_state()
    return shop


def test_async_callbacks_receive_the_orchestrator() -> None:
    """Guards and actions, ``async def``, get ``orc`` and can await other machines."""

    async def scenario() -> AsyncShop:
        shop = await start(AsyncShop(order=AsyncOrder(), payment=AsyncPayment()))
        await shop.order.process()
        await shop.payment.capture()
        return shop

    shop = asyncio.run(scenario())
    assert state_of(shop.order) == "completed"
    assert state_of(shop.payment) == "captured"


def test_initial_state_of_async_machine_receives_the_orchestrator() -> None:
    """An async machine enters its initial state after wiring, so it gets ``orc``."""

    async def scenario() -> tuple[AsyncShop, Any]:
        shop = await start(AsyncShop(order=AsyncOrder(), payment=AsyncPayment()))
        return shop, shop.order.entered_with

    shop, entered_with = asyncio.run(scenario())
    assert entered_with is shop


def test_many_orchestrators_under_gather() -> None:
    """Concurrent orchestrators never see each other's machines."""

    async def scenario() -> list[AsyncShop]:
        shops = [
            await start(AsyncShop(order=AsyncOrder(), payment=AsyncPayment())) for _ in range(20)
        ]
        await asyncio.gather(*(shop.order.process() for shop in shops[::2]))
        await asyncio.gather(*(shop.payment.capture() for shop in shops[::2]))
        return shops

    shops = asyncio.run(scenario())
    assert [state_of(s.order) for s in shops] == ["completed", "pending"] * 10
    assert [state_of(s.payment) for s in shops] == ["captured", "waiting"] * 10

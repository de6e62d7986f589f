"""Machines for the listener, trace and instrumentation tests; module level so they pickle.

``order.place`` makes the order's callback authorize the payment, whose callback
releases the shipping, whose callback finishes the order (queued: the order is
still busy placing); the order's own callback then queues ``order.archive``.
"""

from __future__ import annotations

from typing import Any

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator


class Order(StateMachine):
    """Places, then is finished by the shipping and archived by itself."""

    cart = State(initial=True)
    placed = State()
    finished = State()
    archived = State(final=True)

    place = cart.to(placed)
    finish = placed.to(finished)
    archive = finished.to(archived)

    def after_place(self, orc: Shop, amount: int = 0) -> None:
        orc.payment.authorize(amount=amount)
        orc.order.archive()


class Payment(StateMachine):
    """Authorizes, and releases the shipping."""

    pending = State(initial=True)
    authorized = State(final=True)
    refused = State()

    authorize = pending.to(authorized, cond="enough") | pending.to(refused)
    retry = refused.to(pending)

    def enough(self, amount: int = 0) -> bool:
        return amount > 0

    def after_authorize(self, orc: Shop) -> None:
        if self.authorized.is_active:
            orc.shipping.release()


class Shipping(StateMachine):
    """Released by the payment; finishes the order."""

    waiting = State(initial=True)
    released = State(final=True)
    broken = State(final=True)

    release = waiting.to(released)
    crash = waiting.to(broken, on="explode")

    def after_release(self, orc: Shop) -> None:
        orc.order.finish()

    def explode(self) -> None:
        msg = "the truck broke down"
        raise RuntimeError(msg)


class Shop(Orchestrator):
    """Three machines that call one another."""

    order: Order
    payment: Payment
    shipping: Shipping


def shop() -> Shop:
    """A new shop."""
    return Shop(order=Order(), payment=Payment(), shipping=Shipping())


class AsyncOrder(StateMachine):
    """:class:`Order` with async callbacks."""

    cart = State(initial=True)
    placed = State()
    finished = State(final=True)

    place = cart.to(placed)
    finish = placed.to(finished)

    async def after_place(self, orc: Any) -> None:
        await orc.payment.authorize()


class AsyncPayment(StateMachine):
    """Authorizes, then releases the shipping in a task of its own."""

    pending = State(initial=True)
    authorized = State(final=True)

    authorize = pending.to(authorized)

    tasks: list[Any]

    async def after_authorize(self, orc: Any) -> None:
        import asyncio

        self.tasks = [asyncio.ensure_future(orc.shipping.release())]


class AsyncShipping(StateMachine):
    """Released by the payment's task; finishes the order."""

    waiting = State(initial=True)
    released = State(final=True)

    release = waiting.to(released)

    async def after_release(self, orc: Any) -> None:
        await orc.order.finish()


class AsyncShop(Orchestrator):
    """:class:`Shop`, async."""

    order: AsyncOrder
    payment: AsyncPayment
    shipping: AsyncShipping

"""The checkout of ``ecommerce.py`` with async machines.

Run it from the repository root::

    python -m pip install -e . && python examples/async_ecommerce.py

A machine whose callbacks are coroutine functions runs on python-statemachine's
async engine: its events return awaitables, so a callback that triggers another
machine awaits it (``await orc.payment.authorize(amount=total)``). The
orchestrator is injected exactly as for sync machines.

The machines are created inside the running event loop (in :func:`main`), and
their initial state is entered with ``await machine.activate_initial_state()``
before anything reads their state. Without that call, python-statemachine enters
the initial state on the machine's first event. Works on python-statemachine
2.5, 2.6, 3.0, 3.1 and 3.2.
"""

from __future__ import annotations

import asyncio
import sys

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator

CARD_LIMIT = 1_000
"""The largest amount the payment provider authorizes."""


def say(who: str, message: str) -> None:
    """Print one line of the story, indented under the step that caused it."""
    print(f"    {who:>8}: {message}")


class OrderMachine(StateMachine):
    """The customer's order."""

    created = State(initial=True)
    placed = State()
    paid = State()
    shipped = State()
    delivered = State(final=True)
    cancelled = State(final=True)

    place = created.to(placed)
    mark_paid = placed.to(paid)
    mark_shipped = paid.to(shipped)
    mark_delivered = shipped.to(delivered)
    cancel = created.to(cancelled) | placed.to(cancelled)

    async def after_place(self, orc: AsyncShop, total: int) -> None:
        """Ask the payment to authorize the order's total, and wait for its answer."""
        say("order", f"placed for {total}; asking the payment to authorize it")
        await orc.payment.authorize(amount=total)
        say("order", f"the payment answered; the order is still {self.current_state_value!r}")

    async def on_enter_paid(self) -> None:
        """Runs after ``place`` finished: ``mark_paid`` was queued until then."""
        say("order", "paid")

    async def on_enter_delivered(self) -> None:
        """Report the order delivered."""
        say("order", "delivered")

    async def on_enter_cancelled(self) -> None:
        """Report the order cancelled."""
        say("order", "cancelled")


class PaymentMachine(StateMachine):
    """The payment of one order."""

    pending = State(initial=True)
    authorized = State()
    captured = State(final=True)
    declined = State(final=True)

    authorize = pending.to(authorized, cond="within_limit") | pending.to(declined)
    capture = authorized.to(captured)

    async def within_limit(self, amount: int) -> bool:
        """Guard of ``authorize``: ask the (simulated) provider."""
        await asyncio.sleep(0)  # Stands for a call to the payment provider.
        return amount <= CARD_LIMIT

    async def on_enter_authorized(self, orc: AsyncShop) -> None:
        """Mark the order paid and release the shipping."""
        say("payment", "authorized; marking the order paid and releasing the shipping")
        await orc.order.mark_paid()  # The order is mid-step: queued, runs after `place`.
        await orc.shipping.release()

    async def on_enter_declined(self, orc: AsyncShop) -> None:
        """Cancel the order."""
        say("payment", "declined; cancelling the order")
        await orc.order.cancel()


class ShippingMachine(StateMachine):
    """The parcel of one order."""

    on_hold = State(initial=True)
    ready = State()
    in_transit = State()
    delivered = State(final=True)

    release = on_hold.to(ready)
    dispatch = ready.to(in_transit)
    deliver = in_transit.to(delivered)

    async def on_enter_in_transit(self, orc: AsyncShop) -> None:
        """Capture the payment and mark the order shipped."""
        say("shipping", "in transit; capturing the payment")
        await orc.payment.capture()
        await orc.order.mark_shipped()

    async def on_enter_delivered(self, orc: AsyncShop) -> None:
        """Complete the order."""
        say("shipping", "delivered")
        await orc.order.mark_delivered()


class AsyncShop(Orchestrator):
    """One checkout: the three machines of one order."""

    order: OrderMachine
    payment: PaymentMachine
    shipping: ShippingMachine


async def new_shop() -> AsyncShop:
    """A checkout with three fresh machines, each in its initial state."""
    shop = AsyncShop(OrderMachine(), PaymentMachine(), ShippingMachine())
    for machine in shop.machines.values():
        await machine.activate_initial_state()
    return shop


async def main() -> int:
    """Run the story; return the exit status (0 when every state is as expected)."""
    shop = await new_shop()
    print(f"A new checkout:\n  -> {shop!r}\n")

    print("1. await shop.order.place(total=120)")
    await shop.order.place(total=120)
    print(f"  -> {shop!r}\n")

    print("2. await shop.shipping.dispatch(); await shop.shipping.deliver()")
    await shop.shipping.dispatch()
    await shop.shipping.deliver()
    print(f"  -> {shop!r}\n")

    print(f"3. A second checkout: place(total={CARD_LIMIT * 5}), over the card limit")
    declined = await new_shop()
    await declined.order.place(total=CARD_LIMIT * 5)
    print(f"  -> {declined!r}\n")

    expected = {
        "completed checkout": (shop, ("delivered", "captured", "delivered")),
        "declined checkout": (declined, ("cancelled", "declined", "on_hold")),
    }
    failures = [
        f"{what}: expected {states}, got {got}"
        for what, (orc, states) in expected.items()
        if (got := tuple(m.current_state_value for m in orc.machines.values())) != states
    ]
    for failure in failures:
        print(f"UNEXPECTED {failure}", file=sys.stderr)
    if not failures:
        print("Every machine ended where the story says.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

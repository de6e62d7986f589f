"""An e-commerce checkout: an order, its payment and its shipping, one orchestrator.

Run it from the repository root::

    python -m pip install -e . && python examples/ecommerce.py

It tells the story of the README's quick start step by step:

1. Placing an order asks the payment to authorize the order's total.
2. The authorization marks the order paid and releases the shipping.
3. Dispatching the parcel captures the payment and marks the order shipped.
4. The delivery completes the order.
5. A second order, over the card limit, is declined and cancelled.

None of the three machines holds a reference to another: each callback that
needs another machine declares a parameter named ``orc`` and receives the
orchestrator there. Works on python-statemachine 2.5, 2.6, 3.0, 3.1 and 3.2.
"""

from __future__ import annotations

import copy
import pickle
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

    def after_place(self, orc: Shop, total: int) -> None:
        """Ask the payment to authorize the order's total."""
        say("order", f"placed for {total}; asking the payment to authorize it")
        orc.payment.authorize(amount=total)
        say("order", f"the payment answered; the order is still {self.current_state_value!r}")

    def on_enter_paid(self) -> None:
        """Runs after ``place`` finished: ``mark_paid`` was queued until then."""
        say("order", "paid")

    def on_enter_shipped(self) -> None:
        """Report the order shipped."""
        say("order", "shipped")

    def on_enter_delivered(self) -> None:
        """Report the order delivered."""
        say("order", "delivered")

    def on_enter_cancelled(self) -> None:
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

    def within_limit(self, amount: int) -> bool:
        """Guard of ``authorize``: the card's limit."""
        return amount <= CARD_LIMIT

    def on_enter_authorized(self, orc: Shop) -> None:
        """Mark the order paid and release the shipping."""
        say("payment", "authorized; marking the order paid and releasing the shipping")
        orc.order.mark_paid()  # The order is mid-step: queued, runs after `place`.
        orc.shipping.release()  # The shipping is idle: runs now.

    def on_enter_declined(self, orc: Shop) -> None:
        """Cancel the order."""
        say("payment", "declined; cancelling the order")
        orc.order.cancel()

    def on_enter_captured(self) -> None:
        """Report the payment captured."""
        say("payment", "captured")


class ShippingMachine(StateMachine):
    """The parcel of one order."""

    on_hold = State(initial=True)
    ready = State()
    in_transit = State()
    delivered = State(final=True)

    release = on_hold.to(ready)
    dispatch = ready.to(in_transit)
    deliver = in_transit.to(delivered)

    def on_enter_ready(self) -> None:
        """Report the parcel ready to go."""
        say("shipping", "released, ready to dispatch")

    def on_enter_in_transit(self, orc: Shop) -> None:
        """Capture the payment and mark the order shipped."""
        say("shipping", "in transit; capturing the payment")
        orc.payment.capture()
        orc.order.mark_shipped()

    def on_enter_delivered(self, orc: Shop) -> None:
        """Complete the order."""
        say("shipping", "delivered")
        orc.order.mark_delivered()


class Shop(Orchestrator):
    """One checkout: the three machines of one order."""

    order: OrderMachine
    payment: PaymentMachine
    shipping: ShippingMachine


def new_shop() -> Shop:
    """A checkout with three fresh machines."""
    return Shop(OrderMachine(), PaymentMachine(), ShippingMachine())


def show(shop: Shop) -> None:
    """Print a step's outcome: every machine's state."""
    print(f"  -> {shop!r}\n")


def main() -> int:
    """Run the story; return the exit status (0 when every state is as expected)."""
    shop = new_shop()
    print(f"A new checkout:\n  -> {shop!r}\n")

    print("1. shop.order.place(total=120)")
    shop.order.place(total=120)
    show(shop)

    print("2. shop.shipping.dispatch()")
    shop.shipping.dispatch()
    show(shop)

    print("3. shop.shipping.deliver()")
    shop.shipping.deliver()
    show(shop)

    print(f"4. A second checkout: place(total={CARD_LIMIT * 5}), over the card limit")
    declined = new_shop()
    declined.order.place(total=CARD_LIMIT * 5)
    show(declined)

    print("5. A third checkout, placed, then deep-copied and pickled; only the copy ships")
    paused = new_shop()
    paused.order.place(total=80)
    copied = copy.deepcopy(paused)
    restored = pickle.loads(pickle.dumps(paused))  # noqa: S301 - our own data
    copied.shipping.dispatch()
    print(f"  -> original: {paused!r}")
    print(f"  -> deep copy, dispatched: {copied!r}")
    print(f"  -> unpickled: {restored!r}\n")

    expected = {
        "completed checkout": (shop, ("delivered", "captured", "delivered")),
        "declined checkout": (declined, ("cancelled", "declined", "on_hold")),
        "original after copying": (paused, ("paid", "authorized", "ready")),
        "deep copy": (copied, ("shipped", "captured", "in_transit")),
        "unpickled copy": (restored, ("paid", "authorized", "ready")),
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
    sys.exit(main())

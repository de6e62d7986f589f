"""Fan-out and fan-in over a dynamic number of item machines.

Run it from the repository root::

    python -m pip install -e . && python examples/fan_in.py

An order holds a list of item machines, one per article, and articles are
added while the order is open. The order completes when every item has
shipped: the orchestrator declares that fan-in once, with ``when_all``, and
sends ``complete`` to the order as soon as the last item ships. Nothing polls,
and nobody counts by hand.

1. The order opens with two articles; a third is added while it is open.
2. The warehouse ships items one by one (and one item ships another that was
   packed with it, from its own callback).
3. The last shipment completes the order; its guard, ``all_in("items",
   "shipped")``, agrees.
4. Closing the order broadcasts ``archive`` to every machine that defines it.

Works on python-statemachine 2.5, 2.6, 3.0, 3.1 and 3.2.
"""

from __future__ import annotations

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator, built
from statemachines_orchestrator.coordination import (
    all_in,
    count_in,
    member_key,
    members_in,
    when_all,
)


def say(who: str, message: str) -> None:
    """Print one line of the story."""
    print(f"    {who:>10}: {message}")


class ItemMachine(StateMachine):
    """One article of the order."""

    packed = State(initial=True)
    shipped = State()
    archived = State(final=True)

    ship = packed.to(shipped)
    archive = shipped.to(archived)

    def __init__(self, article: str, ships_with: str | None = None) -> None:
        self.article = article
        self.ships_with = ships_with
        super().__init__()

    def on_enter_shipped(self, orc: Order | None = None) -> None:
        """Report the shipment; ship an article packed in the same parcel."""
        if orc is None:  # the initial state is entered before the item joins
            return
        _field, index = member_key(orc, self)
        say(f"item {index}", f"{self.article} shipped")
        for other in orc.items:
            if other.article == self.ships_with and other.packed.is_active:
                other.ship()


class OrderMachine(StateMachine):
    """The customer's order: open until every item has shipped."""

    opened = State(initial=True)
    completed = State()
    closed = State(final=True)

    complete = opened.to(completed, cond=all_in("items", "shipped"))
    close = completed.to(closed)

    def on_enter_completed(self, orc: Order) -> None:
        """Say so, with how many items shipped."""
        say("order", f"completed: {count_in(orc.items, 'shipped')} items shipped")


class Order(Orchestrator):
    """An order and its items; the order completes once every item has shipped."""

    order: OrderMachine
    items: list[ItemMachine] = built(factory=list)

    all_shipped = when_all("items", "shipped", send=("order", "complete"))


def main() -> Order:
    """Tell the story; return the orchestrator, for the tests."""
    print("1. The order opens with two articles; a third is added while it is open.")
    order = Order(OrderMachine(), [ItemMachine("book"), ItemMachine("lamp", ships_with="bulb")])
    order.items.append(ItemMachine("bulb"))
    say("order", f"{len(order.items)} items, order {order.order.current_state_value!r}")

    print("2. The warehouse ships the items one by one.")
    order.items[0].ship()
    say("order", f"still {order.order.current_state_value!r}")
    print("   Shipping the lamp ships the bulb packed with it, from the lamp's callback:")
    order.items[1].ship()

    print("3. The last shipment completed the order.")
    say("order", f"{order.order.current_state_value!r}")
    say("shipped", ", ".join(item.article for item in members_in(order.items, "shipped")))

    print("4. Closing the order archives every item: one broadcast.")
    order.order.close()
    results = order.send("archive")
    say("broadcast", f"archive reached {len(results)} items")
    print(order)
    return order


if __name__ == "__main__":
    main()

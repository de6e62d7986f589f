"""Orchestrators for the store tests; module level, so their stored type names are stable."""

from __future__ import annotations

from typing import Any, ClassVar

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator, built

CALLBACK_RUNS: list[str] = []
"""Every run of :meth:`Mailer.on_confirm`, retried attempts included."""


class OrderMachine(StateMachine):
    """An order that asks its payment to be authorized for its total."""

    snapshot_fields: ClassVar[tuple[str, ...]] = ("total",)

    created = State(initial=True)
    placed = State()
    paid = State(final=True)
    cancelled = State(final=True)

    place = created.to(placed)
    mark_paid = placed.to(paid)
    cancel = created.to(cancelled) | placed.to(cancelled)

    total = 0

    def on_place(self, total: int) -> None:
        self.total = total

    def after_place(self, orc: Shop, total: int) -> None:
        orc.payment.authorize(amount=total)


class PaymentMachine(StateMachine):
    """A payment, authorized up to 1000."""

    pending = State(initial=True)
    authorized = State(final=True)
    declined = State(final=True)

    authorize = pending.to(authorized, cond="within_limit") | pending.to(declined)

    def within_limit(self, amount: int) -> bool:
        return amount <= 1000

    def on_enter_authorized(self, orc: Shop) -> None:
        orc.order.mark_paid()

    def on_enter_declined(self, orc: Shop) -> None:
        orc.order.cancel()


class Shop(Orchestrator):
    """An order and its payment; ``Shop()`` builds both."""

    order: OrderMachine = built(factory=OrderMachine)
    payment: PaymentMachine = built(factory=PaymentMachine)


class NeedsArguments(Orchestrator):
    """An orchestrator that ``cls()`` cannot build: its machines must be passed."""

    order: OrderMachine
    payment: PaymentMachine


class AsyncOrderMachine(StateMachine):
    """:class:`OrderMachine` with async callbacks."""

    snapshot_fields: ClassVar[tuple[str, ...]] = ("total", "entered")

    created = State(initial=True)
    placed = State()
    paid = State(final=True)

    place = created.to(placed)
    mark_paid = placed.to(paid)

    total = 0
    entered = 0

    async def on_enter_created(self) -> None:
        self.entered += 1

    async def on_place(self, total: int) -> None:
        self.total = total

    async def after_place(self, orc: AsyncShop, total: int) -> None:
        await orc.payment.authorize(amount=total)


class AsyncPaymentMachine(StateMachine):
    """:class:`PaymentMachine` with async callbacks."""

    pending = State(initial=True)
    authorized = State(final=True)

    authorize = pending.to(authorized)

    async def on_enter_authorized(self, orc: AsyncShop) -> None:
        await orc.order.mark_paid()


class AsyncShop(Orchestrator):
    """Async machines; a unit of work on an async store activates their initial states."""

    order: AsyncOrderMachine = built(factory=AsyncOrderMachine)
    payment: AsyncPaymentMachine = built(factory=AsyncPaymentMachine)


class Mailer(StateMachine):
    """Sends a mail when an order is confirmed: a side effect a retry would repeat."""

    snapshot_fields: ClassVar[tuple[str, ...]] = ("outbox",)

    waiting = State(initial=True)
    confirmed = State(final=True)

    confirm = waiting.to(confirmed)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.outbox: list[str] = []
        super().__init__(*args, **kwargs)

    def on_confirm(self, order_id: str) -> None:
        # The side effect is recorded, not performed: it goes out after the commit.
        CALLBACK_RUNS.append(order_id)
        self.outbox.append(f"confirmation for {order_id}")


class Notifications(Orchestrator):
    """One mailer."""

    mailer: Mailer = built(factory=Mailer)


def configuration(orc: Orchestrator) -> dict[str, Any]:
    """Field name to current state value."""
    return {name: machine.current_state_value for name, machine in orc.machines.items()}


class Tally(StateMachine):
    """Counts events and keeps their ids: every committed event must be there once."""

    snapshot_fields: ClassVar[tuple[str, ...]] = ("count", "seen")

    counting = State(initial=True)

    add = counting.to.itself(internal=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.count = 0
        self.seen: list[str] = []
        super().__init__(*args, **kwargs)

    def on_add(self, event_id: str) -> None:
        self.count += 1
        self.seen.append(event_id)


class Counter(Orchestrator):
    """One tally."""

    tally: Tally = built(factory=Tally)


class Parcel(StateMachine):
    """A parcel of a depot, with its weight."""

    snapshot_fields: ClassVar[tuple[str, ...]] = ("weight",)

    packed = State(initial=True)
    shipped = State(final=True)

    ship = packed.to(shipped)

    weight = 0


class Depot(Orchestrator):
    """Collections only: a list of parcels and lockers keyed by name; ``Depot()`` starts empty."""

    parcels: list[Parcel] = built(factory=list)
    lockers: dict[str, Parcel] = built(factory=dict)

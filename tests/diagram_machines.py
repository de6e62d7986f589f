"""Machines and an orchestrator for the diagram and command line tests.

The command line tests import this module by its path (``tests.diagram_machines:Shop``)
in a subprocess, so it must import nothing but the package and python-statemachine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator

from .psm_line import PSM3


class OrderMachine(StateMachine):
    created = State(initial=True)
    placed = State()
    paid = State()
    cancelled = State(final=True)
    completed = State(final=True)

    place = created.to(placed)
    mark_paid = placed.to(paid)
    complete = paid.to(completed)
    cancel = created.to(cancelled) | placed.to(cancelled)

    def after_place(self, orc: Shop, total: int) -> None:
        orc.payment.authorize(amount=total)


class PaymentMachine(StateMachine):
    pending = State(initial=True)
    authorized = State()
    captured = State(final=True)
    declined = State(final=True)

    authorize = pending.to(authorized, cond="within_limit") | pending.to(declined)
    capture = authorized.to(captured)

    def within_limit(self, amount: int) -> bool:
        return amount <= 1_000

    def on_enter_authorized(self, orc: Shop) -> None:
        orc.order.send("mark_paid")

    def on_enter_declined(self, orc: Shop) -> None:
        orc.order.cancel()

    def on_enter_captured(self, orc: Shop) -> None:
        orc.order.complete()


class Shop(Orchestrator):
    order: OrderMachine
    payment: PaymentMachine


def new_shop() -> Shop:
    return Shop(OrderMachine(), PaymentMachine())


NOT_AN_ORCHESTRATOR = 42


# --------------------------------------------------------------------------- shared by the tests

needs_psm3 = pytest.mark.skipif(not PSM3, reason="compound and parallel states need 3.x")


@dataclass(frozen=True)
class Record:
    """A stand-in for a trace record: what ``TraceRecordLike`` documents."""

    field: str
    event: str
    cause: Optional[Record] = None  # noqa: UP045 - evaluated by dataclasses on 3.9


@dataclass(frozen=True)
class Trace:
    """A stand-in for a trace: records only."""

    records: tuple[Record, ...]

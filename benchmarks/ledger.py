"""The orchestrator the store benchmarks and the load test write: one account per key.

Its own module, so that every worker process files it under the same type
name (``ledger:Ledger``), whichever script started them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator, built

__all__ = ["Account", "Audit", "Ledger"]


class Account(StateMachine):
    """Takes deposits; keeps its balance and the id of every deposit it took."""

    snapshot_fields: ClassVar[tuple[str, ...]] = ("balance", "seen")

    active = State(initial=True)
    closed = State(final=True)

    deposit = active.to.itself(internal=True)
    close = active.to(closed)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.balance = 0
        self.seen: list[str] = []
        super().__init__(*args, **kwargs)

    def on_deposit(self, event_id: str, amount: int) -> None:
        """Book the deposit."""
        self.balance += amount
        self.seen.append(event_id)

    def after_deposit(self, orc: Ledger) -> None:
        """Tell the audit machine, across the orchestrator."""
        orc.audit.note()


class Audit(StateMachine):
    """Flips with every deposit: a second machine the event reaches."""

    even = State(initial=True)
    odd = State()

    note = even.to(odd) | odd.to(even)


class Ledger(Orchestrator):
    """An account and its audit."""

    account: Account = built(factory=Account)
    audit: Audit = built(factory=Audit)

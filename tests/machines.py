"""Machines and orchestrators shared by the tests; module level so they pickle."""

from __future__ import annotations

from typing import Any

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator


def state_of(machine: Any) -> Any:
    """The current state value of a machine, on every python-statemachine line."""
    return machine.current_state_value


class OrderMachine(StateMachine):
    """An order that asks its payment to be authorized."""

    pending = State(initial=True)
    processing = State()
    completed = State(final=True)

    process = pending.to(processing)
    complete = processing.to(completed)

    def after_process(self, orc: Shop) -> None:
        orc.payment.authorize()


class PaymentMachine(StateMachine):
    """A payment that completes its order once captured."""

    waiting = State(initial=True)
    authorized = State()
    captured = State(final=True)

    authorize = waiting.to(authorized)
    capture = authorized.to(captured)

    def after_capture(self, orc: Shop) -> None:
        orc.order.complete()


class Shop(Orchestrator):
    """The orchestrator of the README quick start."""

    order: OrderMachine
    payment: PaymentMachine


class Toggle(StateMachine):
    """A machine that only records the orchestrator its callbacks receive."""

    off = State(initial=True)
    on = State()

    switch = off.to(on) | on.to(off)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.seen: list[Any] = []
        super().__init__(*args, **kwargs)

    def after_switch(self, orc: Any = None) -> None:
        self.seen.append(orc)


class Pair(Orchestrator):
    """Two toggles."""

    left: Toggle
    right: Toggle


class PairThroughSuper(Pair):
    """Calls ``Pair.__init__`` for an instance of a subclass.

    The generated ``__init__`` then takes its general path rather than the
    inline one, whatever the machines.
    """

    def __init__(self, left: Toggle, right: Toggle) -> None:
        super().__init__(left, right)


class Quiet(StateMachine):
    """Callbacks that do not ask for the orchestrator: its orchestrators can be collected first."""

    a = State(initial=True)
    b = State()
    go = a.to(b) | b.to(a)

    def on_go(self, source: State) -> None:
        self.left_from = source.id


class QuietPair(Orchestrator):
    """Two quiet machines: nothing in them refers to the orchestrator."""

    one: Quiet
    two: Quiet


class Quiets(Orchestrator):
    """A list of quiet machines."""

    quiets: list[Quiet]

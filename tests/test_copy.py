"""Copies and pickles of an orchestrator are wired to themselves."""

from __future__ import annotations

import copy
import pickle
from typing import Callable

import pytest

from statemachines_orchestrator import MachineAlreadyOrchestratedError
from statemachines_orchestrator._psm import owner_of

from .machines import OrderMachine, Pair, PaymentMachine, Shop, Toggle, state_of


@pytest.mark.parametrize(
    "duplicate",
    [copy.deepcopy, lambda orc: pickle.loads(pickle.dumps(orc))],  # noqa: S301 - our own data
    ids=["deepcopy", "pickle"],
)
def test_copy_keeps_states_and_wires_the_copy(duplicate: Callable[[Shop], Shop]) -> None:
    """The copy's callbacks receive the copy; the original is untouched."""
    shop = Shop(order=OrderMachine(), payment=PaymentMachine())
    shop.order.process()

    twin = duplicate(shop)

    assert twin is not shop
    assert twin.order is not shop.order
    assert state_of(twin.order) == "processing"
    assert state_of(twin.payment) == "authorized"
    assert owner_of(twin.order) is twin
    assert owner_of(twin.payment) is twin
    assert owner_of(shop.order) is shop

    twin.payment.capture()
    assert state_of(twin.order) == "completed"
    assert state_of(shop.order) == "processing"
    assert state_of(shop.payment) == "authorized"


def test_copy_keeps_other_instance_attributes() -> None:
    """Attributes a user set on the orchestrator travel with it."""
    pair = Pair(left=Toggle(), right=Toggle())
    pair.note = "kept"  # type: ignore[attr-defined]
    assert copy.deepcopy(pair).note == "kept"  # type: ignore[attr-defined]


def test_callbacks_of_the_copy_receive_the_copy() -> None:
    """The injected orchestrator is the copy, not the original."""
    pair = Pair(left=Toggle(), right=Toggle())
    twin = copy.deepcopy(pair)
    twin.left.switch()
    assert twin.left.seen == [twin]
    assert pair.left.seen == []


def test_shallow_copy_is_refused() -> None:
    """A shallow copy would share machines with the original: refused."""
    pair = Pair(left=Toggle(), right=Toggle())
    with pytest.raises(MachineAlreadyOrchestratedError):
        copy.copy(pair)


def test_released_orchestrator_copies_as_released() -> None:
    """A released orchestrator holds no machine, and neither does its copy."""
    pair = Pair(left=Toggle(), right=Toggle())
    pair.release()
    assert repr(copy.deepcopy(pair)) == "Pair(<released>)"

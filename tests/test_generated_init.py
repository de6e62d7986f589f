"""The generated ``__init__``: its inline path and the general path agree.

An orchestrator's ``__init__`` checks and wires the common case inline (every
machine given, free, of its field's class, none sharing a model and state
field) and hands anything else to the general path, which words the errors.
A subclass whose own ``__init__`` calls its parent's always takes the general
path, so each behaviour here is checked on both.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import (
    MachineAlreadyOrchestratedError,
    MachineTypeMismatchError,
    Orchestrator,
    StateFieldIsNotUniqueError,
    built,
)
from statemachines_orchestrator._psm import owner_of

from .machines import OrderMachine, Pair, PairThroughSuper, Quiet, QuietPair, Toggle

PATHS = pytest.mark.parametrize("pair_class", [Pair, PairThroughSuper], ids=["inline", "general"])


class Row:
    """A model two machines can share."""


@PATHS
def test_machines_are_stored_wired_and_owned(pair_class: type[Pair]) -> None:
    left, right = Toggle(), Toggle()
    pair = pair_class(left, right)
    assert dict(pair.machines) == {"left": left, "right": right}
    assert (owner_of(left), owner_of(right)) == (pair, pair)
    left.switch()
    right.switch()
    assert (left.seen, right.seen) == ([pair], [pair])


@PATHS
def test_same_machine_twice(pair_class: type[Pair]) -> None:
    toggle = Toggle()
    with pytest.raises(MachineAlreadyOrchestratedError, match="the same Toggle instance"):
        pair_class(toggle, toggle)
    assert owner_of(toggle) is None


@PATHS
def test_shared_model_and_state_field(pair_class: type[Pair]) -> None:
    row = Row()
    left, right = Toggle(model=row), Toggle(model=row)
    with pytest.raises(StateFieldIsNotUniqueError, match="'left' and 'right' share one model"):
        pair_class(left, right)
    assert (owner_of(left), owner_of(right)) == (None, None)
    pair = pair_class(left, Toggle(model=row, state_field="other"))
    assert owner_of(left) is pair


@PATHS
def test_machine_of_a_live_orchestrator(pair_class: type[Pair]) -> None:
    left = Toggle()
    first = Pair(left, Toggle())
    with pytest.raises(MachineAlreadyOrchestratedError, match="already belongs to Pair"):
        pair_class(left, Toggle())
    assert owner_of(left) is first


class QuietPairThroughSuper(QuietPair):
    """The general path for :class:`QuietPair`."""

    def __init__(self, one: Quiet, two: Quiet) -> None:
        super().__init__(one, two)


@pytest.mark.parametrize(
    "pair_class", [QuietPair, QuietPairThroughSuper], ids=["inline", "general"]
)
def test_machine_of_a_collected_orchestrator(pair_class: type[QuietPair]) -> None:
    """The mark of an orchestrator that is gone does not hold its machines."""
    left, right = Quiet(), Quiet()
    QuietPair(left, right)
    gc.collect()
    pair = pair_class(left, right)
    assert (owner_of(left), owner_of(right)) == (pair, pair)


@PATHS
def test_wrong_machine_class(pair_class: type[Pair]) -> None:
    right = Toggle()
    with pytest.raises(MachineTypeMismatchError, match="'left' expects an instance of Toggle"):
        pair_class(OrderMachine(), right)  # type: ignore[arg-type]
    assert owner_of(right) is None


class Nine(Orchestrator):
    """More fields than the inline path compares pairwise."""

    m0: Toggle
    m1: Toggle
    m2: Toggle
    m3: Toggle
    m4: Toggle
    m5: Toggle
    m6: Toggle
    m7: Toggle
    m8: Toggle


def test_many_fields() -> None:
    machines = [Toggle() for _ in range(9)]
    nine = Nine(*machines)
    assert list(nine.machines.values()) == machines
    assert all(owner_of(machine) is nine for machine in machines)


def test_many_fields_sharing_a_model_and_state_field() -> None:
    row = Row()
    machines = [Toggle() for _ in range(7)] + [Toggle(model=row), Toggle(model=row)]
    with pytest.raises(StateFieldIsNotUniqueError, match="'m7' and 'm8' share one model"):
        Nine(*machines)
    assert not any(owner_of(machine) for machine in machines)


def test_many_fields_with_one_machine_twice() -> None:
    machines = [Toggle() for _ in range(9)]
    machines[8] = machines[0]
    with pytest.raises(MachineAlreadyOrchestratedError, match="given for 'm0' and 'm8'"):
        Nine(*machines)
    assert not any(owner_of(machine) for machine in machines)


def test_fields_named_like_builtins_and_generated_names() -> None:
    """Field names never clash with the names the generated code uses."""

    class Odd(Orchestrator):
        type: Toggle
        isinstance: Toggle
        _orc_cls: Toggle
        id: Toggle = built(factory=Toggle)

    machines = Toggle(), Toggle(), Toggle()
    odd = Odd(*machines)
    assert list(odd.machines) == ["type", "isinstance", "_orc_cls", "id"]
    for machine in odd.machines.values():
        machine.switch()
        assert machine.seen == [odd]


class Noted(Orchestrator):
    """Has a ``__post_init__``."""

    left: Toggle

    def __post_init__(self) -> None:
        self.left.switch()


class NotedThroughSuper(Noted):
    """The general path for :class:`Noted`."""

    def __init__(self, left: Toggle) -> None:
        super().__init__(left)


@pytest.mark.parametrize("noted_class", [Noted, NotedThroughSuper], ids=["inline", "general"])
def test_post_init_runs_once_wired(noted_class: type[Noted]) -> None:
    noted = noted_class(Toggle())
    assert noted.left.seen == [noted]


class Gated(StateMachine):
    """Guards that python-statemachine resolves to an attribute and to a property."""

    closed = State(initial=True)
    opened = State()

    enabled = True

    toggle = closed.to(opened, cond="enabled") | opened.to(closed, cond="allowed")

    @property
    def allowed(self) -> bool:
        return True

    def after_toggle(self, orc: Any) -> None:
        self.seen = orc


class Gate(Orchestrator):
    gated: Gated


def test_attribute_and_property_callbacks_are_left_alone() -> None:
    """Callbacks that are no functions' signature adapters keep working as they were."""
    gated = Gated()
    gate = Gate(gated)
    gated.toggle()
    gated.toggle()
    assert gated.seen is gate
    assert gated.current_state_value == "closed"

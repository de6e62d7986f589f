"""The generated ``__init__`` of a class with collections: inline and general paths agree.

A class with collection fields and no fan-in checks and wires the common case
inline (plain lists and dicts of free machines of the field's class, string
keys, no two machines on one model and state field) and hands anything else to
:func:`statemachines_orchestrator._collections.setup`, which words the errors.
A subclass whose own ``__init__`` calls its parent's always takes the general
path, so each behaviour here is checked on both; ``general_calls`` tells which
path ran.
"""

from __future__ import annotations

import gc
import types
from typing import Any, Callable

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import (
    InvalidMemberKeyError,
    MachineAlreadyOrchestratedError,
    MachineTypeMismatchError,
    Orchestrator,
    StateFieldIsNotUniqueError,
    built,
)
from statemachines_orchestrator._collections import MachineDict, MachineList
from statemachines_orchestrator._psm import owner_of

from .machines import OrderMachine, Quiet, Quiets, Toggle


class Lamp(StateMachine):
    """python-statemachine's own ``__init__``; a callback that asks for the orchestrator."""

    off = State(initial=True)
    on = State()

    flip = off.to(on) | on.to(off)

    def on_flip(self, orc: Any) -> object:
        return orc


class Yard(Orchestrator):
    """A single field, a list and a dict."""

    gate: Toggle
    lamps: list[Lamp]
    spares: dict[str, Toggle]


class YardThroughSuper(Yard):
    """The general path for :class:`Yard`."""

    def __init__(self, gate: Toggle, lamps: list[Lamp], spares: dict[str, Toggle]) -> None:
        super().__init__(gate, lamps, spares)


class Row(Orchestrator):
    """A list alone: the list is the batch."""

    lamps: list[Lamp]


class QuietsThroughSuper(Quiets):
    """The general path for :class:`Quiets`."""

    def __init__(self, quiets: list[Quiet]) -> None:
        super().__init__(quiets)


PATHS = pytest.mark.parametrize("yard_class", [Yard, YardThroughSuper], ids=["inline", "general"])


class Model:
    """A model two machines can share."""


@pytest.fixture
def general_calls(monkeypatch: pytest.MonkeyPatch) -> list[type]:
    """The classes whose generated ``__init__`` handed a build to the general path."""
    calls: list[type] = []
    for cls in (Yard, Row, Quiets):
        namespace: dict[str, Any] = cls.__init__.__globals__
        setup: Callable[..., None] = namespace["_orc_setup"]

        def spy(orc: Any, values: Any, owner: type, setup: Callable[..., None] = setup) -> None:
            calls.append(owner)
            setup(orc, values, owner)

        monkeypatch.setitem(namespace, "_orc_setup", spy)
    return calls


def yard_parts() -> tuple[Toggle, list[Lamp], dict[str, Toggle]]:
    return Toggle(), [Lamp(), Lamp()], {"a": Toggle(), "b": Toggle()}


@PATHS
def test_machines_are_stored_wired_and_owned(
    yard_class: type[Yard], general_calls: list[type]
) -> None:
    gate, lamps, spares = yard_parts()
    yard = yard_class(gate, lamps, spares)
    assert general_calls == ([] if yard_class is Yard else [Yard])
    assert type(yard.lamps) is MachineList
    assert type(yard.spares) is MachineDict
    assert yard.lamps == lamps
    assert yard.lamps is not lamps
    assert yard.spares == spares
    assert yard.lamps.owner() == (yard.spares.owner()[0], Yard.__machine_fields__["lamps"])
    assert yard.spares.owner()[1] is Yard.__machine_fields__["spares"]
    machines = [gate, *lamps, *spares.values()]
    assert all(owner_of(machine) is yard for machine in machines)
    assert [lamp.flip() for lamp in lamps] == [yard, yard]
    gate.switch()
    spares["b"].switch()
    assert (gate.seen, spares["b"].seen) == ([yard], [yard])


@PATHS
def test_collections_built_inline_take_mutations(yard_class: type[Yard]) -> None:
    yard = yard_class(*yard_parts())
    late, spare = Lamp(), Toggle()
    yard.lamps.append(late)
    yard.spares["c"] = spare
    assert (owner_of(late), owner_of(spare)) == (yard, yard)
    assert late.flip() is yard
    gone = yard.lamps.pop(0)
    assert owner_of(gone) is None
    with pytest.raises(MachineTypeMismatchError):
        yard.lamps.append(Toggle())  # type: ignore[arg-type]


def test_a_list_alone_is_its_own_batch(general_calls: list[type]) -> None:
    lamps = [Lamp(), Lamp(), Lamp()]
    row = Row(lamps)
    assert general_calls == []
    assert row.lamps == lamps
    assert [lamp.flip() for lamp in lamps] == [row, row, row]
    assert Row([]).lamps == []
    assert general_calls == []


@PATHS
@pytest.mark.parametrize(
    "container",
    [tuple, type("LampList", (list,), {})],
    ids=["tuple", "list subclass"],
)
def test_other_sequences_take_the_general_path(
    yard_class: type[Yard], container: Callable[[list[Lamp]], Any], general_calls: list[type]
) -> None:
    gate, lamps, spares = yard_parts()
    yard = yard_class(gate, container(lamps), spares)
    assert general_calls == [Yard]
    assert type(yard.lamps) is MachineList
    assert yard.lamps == lamps
    assert lamps[1].flip() is yard


@PATHS
def test_other_mappings_take_the_general_path(
    yard_class: type[Yard], general_calls: list[type]
) -> None:
    gate, lamps, spares = yard_parts()
    yard = yard_class(gate, lamps, types.MappingProxyType(spares))  # type: ignore[arg-type]
    assert general_calls == [Yard]
    assert type(yard.spares) is MachineDict
    assert yard.spares == spares


def assert_free(*machines: Any) -> None:
    assert [owner_of(machine) for machine in machines] == [None] * len(machines)


@PATHS
def test_wrong_member_class_in_a_list(yard_class: type[Yard], general_calls: list[type]) -> None:
    gate, lamps, spares = yard_parts()
    with pytest.raises(
        MachineTypeMismatchError, match=r"member lamps\[2\] expects an instance of Lamp"
    ):
        yard_class(gate, [*lamps, OrderMachine()], spares)  # type: ignore[list-item]
    assert general_calls == [Yard]
    assert_free(gate, *lamps, *spares.values())


@PATHS
def test_wrong_member_class_in_a_dict(yard_class: type[Yard], general_calls: list[type]) -> None:
    gate, lamps, spares = yard_parts()
    with pytest.raises(
        MachineTypeMismatchError, match=r"member spares\['c'\] expects an instance of Toggle"
    ):
        yard_class(gate, lamps, {**spares, "c": Lamp()})  # type: ignore[dict-item]
    assert general_calls == [Yard]
    assert_free(gate, *lamps, *spares.values())


@PATHS
def test_wrong_single_machine_class(yard_class: type[Yard], general_calls: list[type]) -> None:
    _gate, lamps, spares = yard_parts()
    with pytest.raises(MachineTypeMismatchError, match="'gate' expects an instance of Toggle"):
        yard_class(Lamp(), lamps, spares)  # type: ignore[arg-type]
    assert general_calls == [Yard]
    assert_free(*lamps, *spares.values())


@PATHS
def test_key_that_is_no_string(yard_class: type[Yard], general_calls: list[type]) -> None:
    gate, lamps, spares = yard_parts()
    with pytest.raises(InvalidMemberKeyError, match="'spares'"):
        yard_class(gate, lamps, {**spares, 3: Toggle()})  # type: ignore[dict-item]
    assert general_calls == [Yard]
    assert_free(gate, *lamps, *spares.values())


@PATHS
def test_same_machine_twice_across_fields(
    yard_class: type[Yard], general_calls: list[type]
) -> None:
    gate, lamps, spares = yard_parts()
    with pytest.raises(MachineAlreadyOrchestratedError, match="the same Toggle instance"):
        yard_class(gate, lamps, {**spares, "again": gate})
    assert general_calls == [Yard]
    assert_free(gate, *lamps, *spares.values())


@PATHS
def test_same_member_twice(yard_class: type[Yard], general_calls: list[type]) -> None:
    gate, lamps, spares = yard_parts()
    with pytest.raises(MachineAlreadyOrchestratedError, match="the same Lamp instance"):
        yard_class(gate, [*lamps, lamps[0]], spares)
    assert general_calls == [Yard]
    assert_free(gate, *lamps, *spares.values())


@PATHS
def test_members_sharing_a_model_and_state_field(
    yard_class: type[Yard], general_calls: list[type]
) -> None:
    model = Model()
    gate, _lamps, spares = yard_parts()
    lamps = [Lamp(model=model), Lamp(model=model)]
    with pytest.raises(StateFieldIsNotUniqueError, match="share one model"):
        yard_class(gate, lamps, spares)
    assert general_calls == [Yard]
    assert_free(gate, *lamps, *spares.values())
    lamps[1] = Lamp(model=model, state_field="other")
    assert owner_of(yard_class(gate, lamps, spares).lamps[1]) is not None


@PATHS
def test_member_of_a_live_orchestrator_frees_those_claimed(
    yard_class: type[Yard], general_calls: list[type]
) -> None:
    gate, lamps, spares = yard_parts()
    taken = Lamp()
    first = Row([taken])
    with pytest.raises(MachineAlreadyOrchestratedError, match="already belongs to Row"):
        yard_class(gate, [*lamps, taken], spares)
    assert general_calls == [Yard]
    assert owner_of(taken) is first
    assert_free(gate, *lamps, *spares.values())
    assert taken.flip() is first


@pytest.mark.parametrize("quiets_class", [Quiets, QuietsThroughSuper], ids=["inline", "general"])
def test_members_of_a_collected_orchestrator(
    quiets_class: type[Quiets], general_calls: list[type]
) -> None:
    """The mark of an orchestrator that is gone does not hold its members."""
    members = [Quiet(), Quiet()]
    Quiets(members)
    gc.collect()
    quiets = quiets_class(members)
    assert general_calls == ([] if quiets_class is Quiets else [Quiets])
    assert [owner_of(member) for member in members] == [quiets, quiets]


class Noted(Orchestrator):
    """A collection and a ``__post_init__``."""

    lamps: list[Lamp]

    def __post_init__(self) -> None:
        self.seen = [lamp.flip() for lamp in self.lamps]


def test_post_init_runs_once_wired() -> None:
    noted = Noted([Lamp(), Lamp()])
    assert noted.seen == [noted, noted]


def test_fields_named_like_generated_names() -> None:
    """Field names never clash with the names the collection path's code uses."""

    class Odd(Orchestrator):
        _orc_ms: list[Lamp]
        _orc_c0: dict[str, Lamp]
        list: Toggle
        _orc_mark: Toggle = built(factory=Toggle)

    lamps, spares, single = [Lamp()], {"k": Lamp()}, Toggle()
    odd = Odd(lamps, spares, single)
    stored = vars(odd)
    assert (stored["_orc_ms"], stored["_orc_c0"], stored["list"]) == (lamps, spares, single)
    assert [lamps[0].flip(), spares["k"].flip()] == [odd, odd]
    single.switch()
    stored["_orc_mark"].switch()
    assert (single.seen, stored["_orc_mark"].seen) == ([odd], [odd])


def test_built_default_left_out_takes_the_general_path() -> None:
    class Stocked(Orchestrator):
        lamps: list[Lamp] = built(factory=list)

    stocked = Stocked()
    assert type(stocked.lamps) is MachineList
    stocked.lamps.append(Lamp())
    assert stocked.lamps[0].flip() is stocked
    given = Stocked([Lamp()])
    assert given.lamps[0].flip() is given

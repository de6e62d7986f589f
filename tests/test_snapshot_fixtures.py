"""Snapshots written by earlier releases (tests/snapshots/) still restore."""

from __future__ import annotations

import json
import pathlib
from typing import TYPE_CHECKING, Any

import pytest

from . import snapshot_machines as sm
from .psm_line import PSM3

if TYPE_CHECKING:
    from statemachines_orchestrator import Orchestrator

FIXTURES = sorted((pathlib.Path(__file__).parent / "snapshots").glob("v*/*.json"))

KNOWN: dict[str, type[Orchestrator]] = {
    "tests.snapshot_machines:House": sm.House,
    "tests.snapshot_machines:LitHouse": sm.LitHouse,
    "tests.snapshot_machines:Street": sm.Street,
    "tests.snapshot_machines:Block": sm.Block,
}
if PSM3:
    KNOWN["tests.snapshot_machines:Den"] = sm.Den


def test_there_are_fixtures_of_format_1() -> None:
    """The fixtures of this release are where the test looks for them."""
    names = {f"{path.parent.name}/{path.stem}" for path in FIXTURES}
    assert {"v1/house-locked", "v1/house-broken", "v1/lit-house", "v1/den-playing"} <= names
    assert {"v1/collections-street", "v1/collections-block"} <= names


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_restores_and_saves_back_the_same(path: pathlib.Path) -> None:
    """Each fixture restores, runs no callback, and snapshots back to the same data."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    cls = KNOWN.get(data["orchestrator"])
    if cls is None:
        pytest.skip(f"{data['orchestrator']} needs python-statemachine 3.x")
    sm.CALLS.clear()
    restored = cls.restore(data)
    assert sm.CALLS == []
    assert restored.snapshot() == data


def test_locked_house_fixture_continues() -> None:
    """The restored house behaves as the one saved: unlocking disarms the alarm."""
    path = pathlib.Path(__file__).parent / "snapshots" / "v1" / "house-locked.json"
    house = sm.House.restore(json.loads(path.read_text(encoding="utf-8")))
    assert house.door.openings == 2
    house.door.unlock()
    assert house.alarm.current_state_value == "idle"


def test_collections_fixtures_restore_their_members_wired() -> None:
    """The restored members are the saved ones, in order or under their keys, and wired."""
    folder = pathlib.Path(__file__).parent / "snapshots" / "v1"
    street = sm.Street.restore(
        json.loads((folder / "collections-street.json").read_text(encoding="utf-8"))
    )
    assert [d.current_state_value for d in street.doors] == ["opened", "locked", "broken"]
    street.doors[1].unlock()
    assert street.alarm.current_state_value == "idle"
    block = sm.Block.restore(
        json.loads((folder / "collections-block.json").read_text(encoding="utf-8"))
    )
    assert list(block.doors) == ["front", "back"]
    assert block.doors["back"].openings == 2
    assert block.lamps[0].current_state_value == "on"

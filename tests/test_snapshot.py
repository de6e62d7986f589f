"""Orchestrator.snapshot() and Orchestrator.restore(): round trips and what they keep."""

from __future__ import annotations

import json
from typing import Any

import pytest

from statemachines_orchestrator import Orchestrator
from statemachines_orchestrator.snapshot import FORMAT_VERSION

from . import snapshot_machines as sm
from .psm_line import PSM3


def roundtrip(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` through JSON text and back."""
    loaded: dict[str, Any] = json.loads(json.dumps(data))
    return loaded


def test_snapshot_is_plain_json_with_the_documented_keys() -> None:
    """A snapshot survives a JSON round trip and names the classes by import path."""
    house = sm.House(door=sm.Door(), alarm=sm.Alarm())
    house.door.open()
    data = house.snapshot()
    assert roundtrip(data) == data
    assert data == {
        "format": FORMAT_VERSION,
        "orchestrator": "tests.snapshot_machines:House",
        "version": 0,
        "machines": {
            "door": {
                "class": "tests.snapshot_machines:Door",
                "configuration": ["opened"],
                "history": {},
                "finished": False,
                "data": {"openings": 1},
                "model": {},
            },
            "alarm": {
                "class": "tests.snapshot_machines:Alarm",
                "configuration": ["idle"],
                "history": {},
                "finished": False,
                "data": {},
                "model": {},
            },
        },
    }


def test_restore_runs_no_callback_and_continues_where_the_snapshot_left() -> None:
    """Restoring enters no state; the next events behave as on the original, orc included."""
    house = sm.House(door=sm.Door(), alarm=sm.Alarm())
    house.door.open()
    house.door.close()
    data = roundtrip(house.snapshot())
    sm.CALLS.clear()
    restored = sm.House.restore(data)
    assert sm.CALLS == []
    assert isinstance(restored, sm.House)
    assert restored.door.current_state_value == "closed"
    assert restored.door.openings == 1
    restored.door.lock()
    assert sm.CALLS == [("Door", "enter locked"), ("Alarm", "enter armed")]
    assert restored.alarm.current_state_value == "armed"
    assert house.alarm.current_state_value == "idle"  # the original is untouched


def test_restore_uses_machines_passed_by_field_name() -> None:
    """A machine passed by name takes the saved configuration and data, and is wired."""
    house = sm.House(door=sm.Door(), alarm=sm.Alarm())
    house.door.open()
    data = roundtrip(house.snapshot())
    door = sm.Door()
    restored = sm.House.restore(data, door=door)
    assert restored.door is door
    assert door.current_state_value == "opened"
    assert door.openings == 1
    door.close()
    door.lock()
    assert restored.alarm.current_state_value == "armed"


def test_built_field_missing_from_the_snapshot_is_built_fresh() -> None:
    """A field added with a built() default does not orphan older snapshots."""
    house = sm.House(door=sm.Door(), alarm=sm.Alarm())
    data = house.snapshot()
    data["orchestrator"] = "tests.snapshot_machines:LitHouse"
    lit = sm.LitHouse.restore(data)
    assert lit.lamp.current_state_value == "off"
    lit.lamp.flip()
    assert lit.lamp.current_state_value == "on"


def test_finished_flat_machine_round_trips() -> None:
    """A machine in a final state is restored in it (and, on 3.x, just as stopped)."""
    house = sm.House(door=sm.Door(), alarm=sm.Alarm())
    house.door.smash()
    data = roundtrip(house.snapshot())
    assert data["machines"]["door"]["finished"] is True
    restored = sm.House.restore(data)
    assert restored.door.current_state_value == "broken"
    assert restored.snapshot() == data
    if PSM3:
        assert restored.door.is_terminated


@pytest.mark.skipif(not PSM3, reason="StateChart exists from python-statemachine 3.0")
def test_chart_round_trips_compound_parallel_and_history() -> None:
    """Every active state, history values and data come back; history is then followed."""
    den = sm.Den(player=sm.Player(), remote=sm.Remote())
    den.remote.press()
    den.player.send("hush")
    den.player.send("stall")
    den.player.send("power_off")
    data = roundtrip(den.snapshot())
    player = data["machines"]["player"]
    assert player["configuration"] == ["off"]
    assert player["history"] == {
        "deep": ["playing", "video", "audio", "quiet", "buffering"],
        "h": ["playing"],
    }
    assert player["data"] == {"volume": 4}
    sm.CALLS.clear()
    restored = sm.Den.restore(data)
    assert sm.CALLS == []
    restored.player.send("power_on_deep")
    den.player.send("power_on_deep")
    assert list(restored.player.configuration_values) == list(den.player.configuration_values)
    assert "buffering" in restored.player.configuration_values
    assert restored.snapshot() == den.snapshot()


@pytest.mark.skipif(not PSM3, reason="StateChart exists from python-statemachine 3.0")
def test_chart_in_parallel_configuration_round_trips() -> None:
    """A configuration with parallel regions is saved as every active state id."""
    den = sm.Den(player=sm.Player(), remote=sm.Remote())
    den.player.send("play")
    data = roundtrip(den.snapshot())
    assert data["machines"]["player"]["configuration"] == [
        "on",
        "playing",
        "video",
        "frames",
        "audio",
        "loud",
    ]
    restored = sm.Den.restore(data)
    assert list(restored.player.configuration_values) == list(den.player.configuration_values)
    restored.player.send("stall")
    assert "buffering" in restored.player.configuration_values


@pytest.mark.skipif(not PSM3, reason="StateChart exists from python-statemachine 3.0")
def test_finished_chart_is_restored_finished() -> None:
    """A chart that reached a top-level final state is restored with its engine stopped."""
    den = sm.Den(player=sm.Player(), remote=sm.Remote())
    den.player.send("power_off")
    den.player.send("eject")
    assert den.player.is_terminated
    data = roundtrip(den.snapshot())
    assert data["machines"]["player"]["finished"] is True
    restored = sm.Den.restore(data)
    assert restored.player.is_terminated
    assert restored.snapshot() == data


def test_restore_is_typed_as_the_class() -> None:
    """restore() is a classmethod returning an instance of the class it is called on."""
    house = sm.House(door=sm.Door(), alarm=sm.Alarm())
    restored = sm.House.restore(house.snapshot())
    assert type(restored) is sm.House
    assert isinstance(restored, Orchestrator)

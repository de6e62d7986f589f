"""Snapshots, restore and atomic steps of orchestrators with collection fields."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import (
    MachineAlreadyOrchestratedError,
    MachineBusyError,
    MachineDataNotSerializableError,
    MachineTypeMismatchError,
    Orchestrator,
    SnapshotError,
    SnapshotTypeError,
    built,
)

from . import coordination_machines as cm
from . import snapshot_machines as sm
from .snapshot_machines import BoomError, fail_in_block


def street() -> sm.Street:
    """A street whose first door was opened and whose second door is locked."""
    s = sm.Street(sm.Alarm(), [sm.Door(), sm.Door()])
    s.doors[0].open()
    s.doors[1].lock()
    return s


def test_list_members_are_saved_in_order_in_the_single_field_format() -> None:
    data = street().snapshot()
    doors = data["machines"]["doors"]
    assert [d["configuration"] for d in doors] == [["opened"], ["locked"]]
    assert [d["data"] for d in doors] == [{"openings": 1}, {"openings": 0}]
    assert {d["class"] for d in doors} == {"tests.snapshot_machines:Door"}
    assert data["machines"]["alarm"]["configuration"] == ["armed"]
    assert json.loads(json.dumps(data)) == data


def test_list_members_restore_wired_without_running_callbacks() -> None:
    data = json.loads(json.dumps(street().snapshot()))
    sm.CALLS.clear()
    restored = sm.Street.restore(data)
    assert sm.CALLS == []
    assert restored.snapshot() == data
    assert [d.current_state_value for d in restored.doors] == ["opened", "locked"]
    restored.doors[1].unlock()  # its callback reaches the orchestrator's alarm
    assert restored.alarm.current_state_value == "idle"
    restored.doors.append(sm.Door())  # still a managed collection
    restored.doors[2].lock()
    assert restored.alarm.current_state_value == "armed"


def test_dict_members_restore_under_their_keys() -> None:
    block = sm.Block({"front": sm.Door(), "back": sm.Door()})
    block.doors["back"].open()
    block.lamps.append(sm.Lamp())
    block.lamps[0].flip()
    data = block.snapshot()
    assert list(data["machines"]["doors"]) == ["front", "back"]
    restored = sm.Block.restore(json.loads(json.dumps(data)))
    assert list(restored.doors) == ["front", "back"]
    assert restored.doors["back"].openings == 1
    assert restored.lamps[0].current_state_value == "on"
    assert restored.snapshot() == data


def test_a_collection_with_a_built_default_missing_from_the_snapshot_is_built() -> None:
    data = sm.Block({"a": sm.Door()}).snapshot()
    del data["machines"]["lamps"]
    assert sm.Block.restore(data).lamps == []


def test_a_collection_without_default_missing_from_the_snapshot_is_refused() -> None:
    data = street().snapshot()
    del data["machines"]["doors"]
    with pytest.raises(SnapshotError, match="lacks collection field 'doors'"):
        sm.Street.restore(data)


def test_an_empty_collection_round_trips() -> None:
    data = sm.Street(sm.Alarm(), []).snapshot()
    assert data["machines"]["doors"] == []
    assert sm.Street.restore(data).doors == []


def _broken(change: Any) -> dict[str, Any]:
    data = street().snapshot()
    change(data["machines"])
    return data


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        (lambda m: m.update(doors={"0": m["doors"][0]}), SnapshotTypeError, "is a list"),
        (lambda m: m.update(doors=None), SnapshotTypeError, "is a list"),
        (lambda m: m["doors"].append("door"), SnapshotTypeError, r"machine 'doors\[2\]'"),
        (
            lambda m: m["doors"][1].update({"class": "tests.snapshot_machines:Alarm"}),
            SnapshotError,
            r"'doors\[1\]' was saved as a tests.snapshot_machines:Alarm",
        ),
        (
            lambda m: m["doors"][0].update(configuration=["ajar"]),
            SnapshotError,
            "the state 'ajar'",
        ),
        (lambda m: m["doors"][0].update(data={}), SnapshotError, "snapshot_fields"),
        (lambda m: m["doors"][0].pop("history"), SnapshotError, "lacks the keys 'history'"),
    ],
)
def test_bad_list_entries_are_refused(change: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        sm.Street.restore(_broken(change))


def _block_data() -> dict[str, Any]:
    return sm.Block({"a": sm.Door()}).snapshot()


def test_a_list_where_a_dict_is_expected_is_refused() -> None:
    data = _block_data()
    data["machines"]["doors"] = [data["machines"]["doors"]["a"]]
    with pytest.raises(SnapshotTypeError, match="'doors' is a dict"):
        sm.Block.restore(data)


def test_a_non_str_member_key_is_refused() -> None:
    data = _block_data()
    data["machines"]["doors"][1] = data["machines"]["doors"].pop("a")
    with pytest.raises(SnapshotTypeError, match="member key 1 "):
        sm.Block.restore(data)


def test_a_bad_dict_member_is_named_by_its_key() -> None:
    data = _block_data()
    data["machines"]["doors"]["a"]["finished"] = "no"
    with pytest.raises(SnapshotTypeError, match=r"machine \"doors\['a'\]\""):
        sm.Block.restore(data)


def test_machines_given_for_a_collection_field_are_refused() -> None:
    data = street().snapshot()
    with pytest.raises(SnapshotTypeError, match="'doors', a collection field of Street"):
        sm.Street.restore(data, doors=[sm.Door(), sm.Door()])


def test_a_single_machine_given_takes_its_saved_configuration() -> None:
    data = street().snapshot()
    alarm = sm.Alarm()
    restored = sm.Street.restore(data, alarm=alarm)
    assert restored.alarm is alarm
    assert alarm.current_state_value == "armed"
    assert restored.snapshot() == data


def test_a_given_machine_owned_elsewhere_is_refused_and_nothing_is_owned() -> None:
    data = street().snapshot()
    alarm = sm.Alarm()
    sm.House(sm.Door(), alarm)
    with pytest.raises(MachineAlreadyOrchestratedError):
        sm.Street.restore(data, alarm=alarm)


class BadLamps(Orchestrator):
    """Its lamps' factory returns no list: building the missing field fails."""

    alarm: sm.Alarm
    lamps: list[sm.Lamp] = built(factory=lambda: 5)


def test_a_failure_while_wiring_leaves_nothing_owned() -> None:
    alarm = sm.Alarm()
    data = {
        "format": 1,
        "orchestrator": "tests.test_snapshot_collections:BadLamps",
        "version": 0,
        "machines": {"alarm": street().snapshot()["machines"]["alarm"]},
    }
    with pytest.raises(MachineTypeMismatchError, match="'lamps' is a collection"):
        BadLamps.restore(data, alarm=alarm)
    # The alarm given is free again: another orchestrator takes it.
    assert sm.House(sm.Door(), alarm).alarm is alarm


class Noted(StateMachine):
    """A machine with a data field that may hold anything."""

    snapshot_fields = ("note",)

    idle = State(initial=True)
    busy = State()
    go = idle.to(busy) | busy.to(idle)

    note: Any = None


class Desk(Orchestrator):
    """A dict of noted machines."""

    trays: dict[str, Noted]


def test_member_data_that_is_not_json_is_refused_naming_the_member() -> None:
    desk = Desk({"in": Noted()})
    desk.trays["in"].note = {1, 2}
    with pytest.raises(MachineDataNotSerializableError, match=r"machine \"trays\['in'\]\""):
        desk.snapshot()


# --------------------------------------------------------------------------- atomic


def test_atomic_rolls_back_members_and_membership_of_a_list() -> None:
    s = street()
    before = s.snapshot()
    doors = list(s.doors)
    added = sm.Door()
    with pytest.raises(BoomError):
        fail_in_block(
            s,
            s.doors[0].close,
            s.doors[1].unlock,
            lambda: s.doors.append(added),
            lambda: s.doors.pop(0),
        )
    assert s.snapshot() == before
    assert all(a is b for a, b in zip(s.doors, doors))
    assert len(s.doors) == len(doors)
    # The machine added in the block left, unwired: another orchestrator may take it.
    assert sm.Street(sm.Alarm(), [added]).doors[0] is added
    s.doors[0].close()  # the members that came back are wired
    s.doors[1].unlock()
    assert s.alarm.current_state_value == "idle"


def test_atomic_rolls_back_a_replaced_dict_and_member_data() -> None:
    desk = Desk({"in": Noted()})
    tray = desk.trays["in"]
    tray.note = ["a"]

    def replace() -> None:
        desk.trays = {"out": Noted()}

    with pytest.raises(BoomError):
        fail_in_block(desk, lambda: tray.note.append("b"), tray.go, replace)
    assert list(desk.trays) == ["in"]
    assert desk.trays["in"] is tray
    assert tray.note == ["a"]
    assert tray.current_state_value == "idle"


def test_atomic_keeps_changes_without_an_error_and_when_membership_is_unchanged() -> None:
    s = street()
    with s.atomic():
        s.doors.append(sm.Door())
    assert len(s.doors) == 3
    with pytest.raises(BoomError):
        fail_in_block(s, s.doors[2].open)
    assert s.doors[2].current_state_value == "closed"
    assert s.doors[2].openings == 0
    assert len(s.doors) == 3


def test_atomic_nested_blocks_restore_their_own_membership() -> None:
    desk = Desk({"in": Noted()})

    def add(key: str) -> None:
        desk.trays[key] = Noted()

    with desk.atomic():
        add("a")
        with pytest.raises(BoomError):
            fail_in_block(desk, lambda: add("b"))
        assert list(desk.trays) == ["in", "a"]
    assert list(desk.trays) == ["in", "a"]


# --------------------------------------------------------------------------- async engine


class Slow(StateMachine):
    """A machine with an async callback, so it runs on the async engine."""

    a = State(initial=True)
    b = State()
    go = a.to(b) | b.to(a)

    async def on_go(self) -> None:
        pass


class Lab(Orchestrator):
    """Async machines in a list and in a dict."""

    line: list[Slow]
    bench: dict[str, Slow]


async def _started() -> Slow:
    machine = Slow()
    await machine.activate_initial_state()
    return machine


async def _fail_in_async_block(lab: Lab) -> None:
    with lab.atomic():
        await lab.bench["x"].send("go")
        lab.line.append(await _started())
        raise BoomError


def _values(lab: Lab) -> tuple[list[Any], dict[str, Any]]:
    return (
        [m.current_state_value for m in lab.line],
        {k: m.current_state_value for k, m in lab.bench.items()},
    )


def test_async_members_snapshot_restore_and_roll_back() -> None:
    async def scenario() -> tuple[str, list[Any]]:
        lab = Lab([await _started(), await _started()], {"x": await _started()})
        await lab.line[1].send("go")
        pending = lab.bench["x"].send("go")
        with pytest.raises(MachineBusyError) as info:
            lab.snapshot()
        await pending
        data = json.loads(json.dumps(lab.snapshot()))
        restored = Lab.restore(data)
        seen = [_values(restored)]
        await restored.line[0].send("go")
        seen.append(_values(restored))
        with pytest.raises(BoomError):
            await _fail_in_async_block(restored)
        seen.append(_values(restored))
        return str(info.value), seen

    message, seen = asyncio.run(scenario())
    assert "machine \"bench['x']\" has events waiting" in message
    assert seen == [
        (["a", "b"], {"x": "b"}),
        (["b", "b"], {"x": "b"}),
        (["b", "b"], {"x": "b"}),
    ]


def test_atomic_leaves_an_orchestrator_released_in_the_block_released() -> None:
    desk = Desk({"in": Noted()})
    tray = desk.trays["in"]
    with pytest.raises(BoomError):
        fail_in_block(desk, tray.go, desk.release)
    assert desk.machines == {}
    assert tray.current_state_value == "idle"  # its state rolled back all the same
    assert Desk({"in": tray}).trays["in"] is tray  # and it is free


def test_a_restored_fan_in_keeps_counting_the_restored_members() -> None:
    shipment = cm.Shipment(cm.Order(), [cm.Item(), cm.Item()])
    shipment.items[0].ship()
    restored = cm.Shipment.restore(json.loads(json.dumps(shipment.snapshot())))
    assert restored.order.current_state_value == "waiting"
    restored.items[1].ship()  # the last one: the fan-in sends "finish"
    assert restored.order.current_state_value == "complete"
    assert restored.order.completions == 1


def test_a_member_whose_model_holds_no_state_of_its_class_is_named() -> None:
    s = street()
    s.doors[1].model.state = "ajar"
    with pytest.raises(
        SnapshotError, match=r"machine 'doors\[1\]' \(Door\) holds the state value"
    ):
        s.snapshot()

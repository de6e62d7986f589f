"""Upgrading snapshots saved before a machine class renamed or removed a state."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator, SnapshotTypeError, SnapshotVersionError
from statemachines_orchestrator.snapshot import upgrade, version_of


class LightV0(StateMachine):
    """Version 0 of a light: states ``off``, ``on`` and ``broken``."""

    off = State(initial=True)
    on = State()
    broken = State()
    flip = off.to(on) | on.to(off)
    smash = on.to(broken) | off.to(broken)
    fix = broken.to(off)


class Light(StateMachine):
    """Version 1: ``off`` renamed ``dark``, ``broken`` removed."""

    dark = State(initial=True)
    on = State()
    flip = dark.to(on) | on.to(dark)


def room_classes() -> tuple[type[Orchestrator], type[Orchestrator]]:
    """Two orchestrator classes of one import path: before and after the change."""

    class Room(Orchestrator):
        light: LightV0

    old = Room

    class Room(Orchestrator):  # type: ignore[no-redef]
        light: Light

    return old, Room


def old_snapshot(state: str) -> dict[str, Any]:
    """A version-0 snapshot whose light is in ``state``, as the old class wrote it."""
    old, _ = room_classes()
    room = old(light=LightV0())
    if state != "off":
        getattr(room.light, {"on": "flip", "broken": "smash"}[state])()
    data = room.snapshot()
    data["machines"]["light"]["class"] = data["machines"]["light"]["class"].replace(
        "LightV0", "Light"
    )
    return data


def test_restore_without_an_upgrade_names_the_fix() -> None:
    """A removed state is refused, pointing at upgrade()."""
    _, room = room_classes()
    with pytest.raises(Exception, match=r"register an upgrade that renames or replaces it"):
        room.restore(old_snapshot("off"))


def test_upgrade_renames_and_replaces_states() -> None:
    """The upgrade receives the raw data and the saved version; restore checks its result."""
    _, room = room_classes()
    calls: list[int] = []

    @upgrade(room, version=1)
    def to_v1(data: dict[str, Any], saved_version: int) -> dict[str, Any]:
        calls.append(saved_version)
        light = data["machines"]["light"]
        rename = {"off": "dark", "broken": "dark"}
        light["configuration"] = [rename.get(s, s) for s in light["configuration"]]
        data["version"] = 1
        return data

    assert version_of(room) == 1
    for state, expected in (("off", "dark"), ("on", "on"), ("broken", "dark")):
        data = old_snapshot(state)
        kept = copy.deepcopy(data)
        restored = room.restore(data)
        assert restored.light.current_state_value == expected
        assert data == kept  # the upgrade worked on a copy
        assert restored.snapshot()["version"] == 1
    assert calls == [0, 0, 0]
    # A snapshot of the current version is not upgraded again.
    room.restore(restored.snapshot())
    assert calls == [0, 0, 0]


def test_an_upgrade_registered_after_restoring_is_applied() -> None:
    """Restoring caches what the class expects; registering an upgrade renews it."""
    _, room = room_classes()
    data = old_snapshot("on")
    assert room.restore(copy.deepcopy(data)).light.current_state_value == "on"
    calls: list[int] = []

    @upgrade(room, version=1)
    def to_v1(data: dict[str, Any], saved_version: int) -> dict[str, Any]:
        calls.append(saved_version)
        data["version"] = 1
        return data

    assert room.restore(data).light.current_state_value == "on"
    assert calls == [0]


def test_upgrade_must_set_the_version() -> None:
    """An upgrade that forgets to set the version is reported by name."""
    _, room = room_classes()

    @upgrade(room, version=2)
    def forgetful(data: dict[str, Any], saved_version: int) -> dict[str, Any]:  # noqa: ARG001
        return data

    with pytest.raises(SnapshotVersionError) as info:
        room.restore(old_snapshot("off"))
    assert "the upgrade test_upgrade_must_set_the_version.<locals>.forgetful() returned a " in (
        str(info.value)
    )
    assert str(info.value).endswith('it must set "version" to 2')


def test_upgrade_result_is_checked_like_any_snapshot() -> None:
    """What an upgrade returns is data from outside too."""
    _, room = room_classes()

    @upgrade(room, version=1)
    def broken(data: dict[str, Any], saved_version: int) -> Any:  # noqa: ARG001
        return [data]

    with pytest.raises(SnapshotTypeError, match=r"after the upgrade .*broken\(\): the snapshot"):
        room.restore(old_snapshot("off"))


def test_newer_version_is_refused() -> None:
    """A snapshot written by a newer release of the application is refused."""
    _, room = room_classes()
    data = old_snapshot("on")
    data["version"] = 5
    with pytest.raises(SnapshotVersionError, match="version 5 is newer than "):
        room.restore(data)


def test_older_version_with_non_json_data_is_refused_before_the_upgrade() -> None:
    """The copy handed to the upgrade holds JSON types only."""
    _, room = room_classes()

    @upgrade(room, version=1)
    def never(data: dict[str, Any], saved_version: int) -> dict[str, Any]:  # noqa: ARG001  # pragma: no cover
        raise AssertionError

    data = old_snapshot("on")
    data["machines"]["light"]["data"] = {"when": {1, 2}}
    with pytest.raises(SnapshotTypeError, match=r"the snapshot\['machines'\]\['light'\]"):
        room.restore(data)
    assert never is not None


@pytest.mark.parametrize(
    ("cls", "version", "function", "message"),
    [
        (int, 1, len, "upgrade() takes an Orchestrator subclass, got <class 'int'>"),
        (Orchestrator, 1, len, "upgrade() takes an Orchestrator subclass"),
        (None, 1, len, "upgrade() takes an Orchestrator subclass, got None"),
        ("room", 0, len, "takes an int of 1 or more"),
        ("room", True, len, "takes an int of 1 or more"),
        ("room", 1, "len", "decorates a function, got 'len'"),
    ],
)
def test_upgrade_registration_is_checked(
    cls: Any, version: Any, function: Any, message: str
) -> None:
    """upgrade() refuses what could never work, when it is registered."""
    _, room = room_classes()
    target = room if cls == "room" else cls
    with pytest.raises(SnapshotTypeError) as info:
        upgrade(target, version=version)(function)
    assert message in str(info.value)

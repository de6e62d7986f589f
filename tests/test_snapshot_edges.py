"""Snapshot edge cases: queued events, floats, extra attributes, pending annotations,
failures while wiring or applying data, machines passed for built() fields."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import MachineBusyError, Orchestrator
from statemachines_orchestrator import _psm as psm_internals

from . import snapshot_machines as sm
from .psm_line import PSM3


class Slow(StateMachine):
    """A machine with an async callback, so it runs on the async engine."""

    a = State(initial=True)
    b = State()
    go = a.to(b) | b.to(a)

    async def on_go(self) -> None:
        pass


class Lab(Orchestrator):
    """One async machine."""

    slow: Slow


def test_snapshot_refuses_events_waiting_in_a_queue() -> None:
    """An event sent and not yet awaited waits in the queue: snapshot() refuses it."""

    async def scenario() -> tuple[str, list[str]]:
        machine = Slow()
        await machine.activate_initial_state()
        lab = Lab(slow=machine)
        pending = machine.send("go")
        with pytest.raises(MachineBusyError) as info:
            lab.snapshot()
        await pending
        return str(info.value), lab.snapshot()["machines"]["slow"]["configuration"]

    message, configuration = asyncio.run(scenario())
    assert message == (
        "Lab: cannot take a snapshot while machine 'slow' has events waiting in its queue "
        "(delayed events included); a snapshot holds configurations only, never events in "
        "flight: do it once the events are processed (or cancelled), e.g. from the code that "
        "sent them"
    )
    assert configuration == ["b"]


class Meter(StateMachine):
    """Keeps a float and a nested structure."""

    snapshot_fields: ClassVar[tuple[str, ...]] = ("reading", "log")

    idle = State(initial=True)
    busy = State()
    work = idle.to(busy) | busy.to(idle)

    reading = 0.5
    log: ClassVar[list[Any]] = []


class Plant(Orchestrator):
    """One meter, and room for other attributes."""

    meter: Meter


def test_floats_and_nested_data_round_trip() -> None:
    """Finite floats, lists and dicts come back equal, and are copies."""
    plant = Plant(meter=Meter())
    plant.meter.reading = 2.25
    plant.meter.log = [{"at": 1.5, "ok": True, "note": None}]
    data = plant.snapshot()
    restored = Plant.restore(data)
    assert restored.meter.reading == 2.25
    assert restored.meter.log == [{"at": 1.5, "ok": True, "note": None}]
    assert restored.meter.log is not plant.meter.log
    assert restored.meter.log is not data["machines"]["meter"]["data"]["log"]


def test_other_attributes_of_the_orchestrator_are_not_saved() -> None:
    """Attributes that are no machine field are neither saved nor refused."""
    plant = Plant(meter=Meter())
    plant.note = "hello"  # type: ignore[attr-defined]
    data = plant.snapshot()
    assert set(data["machines"]) == {"meter"}
    assert not hasattr(Plant.restore(data), "note")


def test_restore_resolves_pending_annotations_first() -> None:
    """A class whose annotations name machines defined later restores like __init__."""

    assert EarlyPlant.__orchestrator_pending__
    data = {
        "format": 1,
        "orchestrator": f"{EarlyPlant.__module__}:EarlyPlant",
        "version": 0,
        "machines": {
            "meter": {
                "class": f"{LateMeter.__module__}:LateMeter",
                "configuration": ["busy"],
                "history": {},
                "finished": False,
                "data": {"reading": 1.0, "log": []},
                "model": {},
            }
        },
    }
    restored = EarlyPlant.restore(data)
    assert restored.meter.current_state_value == "busy"
    assert not EarlyPlant.__orchestrator_pending__


class EarlyPlant(Orchestrator):
    """Annotated with a machine class defined after it."""

    meter: LateMeter


class LateMeter(Meter):
    """Defined after the orchestrator that names it."""


def test_a_failure_while_wiring_leaves_nothing_owned(monkeypatch: pytest.MonkeyPatch) -> None:
    """If wiring fails half-way, the machines wired are unwired and a passed one is free."""
    data = sm.House(door=sm.Door(), alarm=sm.Alarm()).snapshot()
    door = sm.Door()
    real_wire = psm_internals.wire
    calls: list[Any] = []

    def failing_wire(machine: Any, orc: object, name: str) -> None:
        calls.append(machine)
        if len(calls) == 2:
            msg = "wiring failed"
            raise RuntimeError(msg)
        real_wire(machine, orc, name)

    monkeypatch.setattr(psm_internals, "wire", failing_wire)
    with pytest.raises(RuntimeError, match="wiring failed"):
        sm.House.restore(data, door=door)
    monkeypatch.undo()
    assert psm_internals.owner_of(door) is None
    house = sm.House(door=door, alarm=sm.Alarm())
    door.lock()
    assert house.alarm.current_state_value == "armed"


def test_a_failure_wiring_the_common_case_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Restoring with no machine passed fails cleanly too when wiring fails."""
    data = sm.House(door=sm.Door(), alarm=sm.Alarm()).snapshot()
    sm.House.restore(data)  # the inline case's cache is ready

    def failing(*_args: object) -> None:
        msg = "wiring failed"
        raise RuntimeError(msg)

    monkeypatch.setattr(psm_internals, "wire_registries", failing)
    with pytest.raises(RuntimeError, match="wiring failed"):
        sm.House.restore(data)


@pytest.mark.skipif(PSM3, reason="the 2.x engine's queue; 3.x is covered by the async tests")
def test_2x_machine_with_a_queued_event_is_not_idle() -> None:
    """An event waiting in a 2.x engine's queue (another thread's, sent while the
    machine processed one) makes the machine busy for snapshots."""
    house = sm.House(door=sm.Door(), alarm=sm.Alarm())
    queue = house.door._engine._external_queue  # noqa: SLF001
    queue.append(object())
    try:
        with pytest.raises(MachineBusyError, match="has events waiting in its queue"):
            house.snapshot()
    finally:
        queue.clear()
    assert house.snapshot()["machines"]["door"]["configuration"] == ["closed"]


class Guarded:
    """A model whose ``owner`` cannot be set to ``"mallory"``."""

    def __setattr__(self, name: str, value: Any) -> None:
        if value == "mallory":
            raise PermissionError(name)
        object.__setattr__(self, name, value)


class Vault(StateMachine):
    """A machine whose model's owner is saved."""

    snapshot_model_fields: ClassVar[tuple[str, ...]] = ("owner",)

    shut = State(initial=True)
    ajar = State()
    turn = shut.to(ajar) | ajar.to(shut)


class Bank(Orchestrator):
    """One vault."""

    vault: Vault


def test_a_failure_applying_data_releases_the_new_orchestrator() -> None:
    """A passed machine whose model refuses the saved data is released, not kept."""
    vault = Vault()
    vault.model.owner = "mallory"
    data = Bank(vault=vault).snapshot()
    mine = Vault(model=Guarded())
    with pytest.raises(PermissionError):
        Bank.restore(data, vault=mine)
    assert psm_internals.owner_of(mine) is None


def test_machine_passed_for_a_built_field_missing_from_the_snapshot() -> None:
    """A machine passed for a built() field the snapshot lacks is used as it is."""
    data = sm.House(door=sm.Door(), alarm=sm.Alarm()).snapshot()
    data["orchestrator"] = "tests.snapshot_machines:LitHouse"
    lamp = sm.Lamp()
    lamp.flip()
    lit = sm.LitHouse.restore(data, lamp=lamp)
    assert lit.lamp is lamp
    assert lamp.current_state_value == "on"


@pytest.mark.skipif(not PSM3, reason="StateChart exists from python-statemachine 3.0")
def test_passed_chart_takes_an_empty_configuration() -> None:
    """A chart passed in takes an empty configuration as well as any other."""
    from .test_snapshot_charts import Hollow, Home

    home = Home(chart=Hollow())
    home.chart.send("enter")
    data = home.snapshot()
    chart = Hollow()
    restored = Home.restore(data, chart=chart)
    assert restored.chart is chart
    assert restored.snapshot() == data


@pytest.mark.skipif(not PSM3, reason="StateChart exists from python-statemachine 3.0")
def test_chart_finished_in_a_top_level_parallel_state() -> None:
    """A chart whose top-level parallel state has every region final is finished too."""
    from statemachine import StateChart

    class Twins(StateChart):
        class both(State.Parallel):
            class left(State.Compound):
                go = State(initial=True)
                done = State(final=True)
                end_left = go.to(done)

            class right(State.Compound):
                go = State(initial=True)
                done = State(final=True)
                end_right = go.to(done)

    class Nursery(Orchestrator):
        twins: Twins

    nursery = Nursery(twins=Twins())
    nursery.twins.send("end_left")
    nursery.twins.send("end_right")
    assert nursery.twins.is_terminated
    data = nursery.snapshot()
    assert data["machines"]["twins"]["finished"] is True
    restored = Nursery.restore(data)
    assert restored.twins.is_terminated
    assert restored.snapshot() == data

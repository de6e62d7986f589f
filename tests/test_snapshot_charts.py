"""Snapshots of 3.x StateCharts: legal configurations, history, empty configurations,
invoke handlers, delayed events and the async engine."""

from __future__ import annotations

import asyncio
import copy
import threading
from typing import Any, Callable

import pytest

from .psm_line import PSM3

if not PSM3:
    pytest.skip("StateChart exists from python-statemachine 3.0", allow_module_level=True)

from statemachine import HistoryState, State, StateChart

from statemachines_orchestrator import MachineBusyError, Orchestrator, SnapshotError

from . import snapshot_machines as sm


def den_snapshot() -> dict[str, Any]:
    """A snapshot of a Den whose player plays."""
    den = sm.Den(player=sm.Player(), remote=sm.Remote())
    den.player.send("play")
    return den.snapshot()


def with_player(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    """A Den snapshot whose player entry is changed by ``edit``."""
    data = copy.deepcopy(den_snapshot())
    edit(data["machines"]["player"])
    return data


@pytest.mark.parametrize(
    ("configuration", "problem"),
    [
        (["off", "frames"], "'frames' is active but its parent 'video' is not"),
        (
            ["on", "playing", "video", "frames"],
            "parallel state 'playing' is active but its regions ['audio'] are not",
        ),
        (
            ["on", "paused", "playing", "video", "frames", "audio", "loud"],
            "compound state 'on' has 2 active children, not one",
        ),
        (["on"], "compound state 'on' has 0 active children, not one"),
        (["off", "ejected"], "it has 2 top-level states (off, ejected), not one"),
    ],
)
def test_illegal_configurations_are_refused(configuration: list[str], problem: str) -> None:
    """A configuration the chart cannot be in is refused, saying why."""
    data = with_player(lambda p: p.update(configuration=configuration))
    with pytest.raises(SnapshotError) as info:
        sm.Den.restore(data)
    assert str(info.value) == (
        f"Den.restore(): machine 'player': {configuration} is no configuration a Player can be "
        f"in: {problem}"
    )


def test_history_recording_a_state_outside_its_owner_is_refused() -> None:
    """A history value must lie inside the state the history belongs to."""
    data = with_player(lambda p: p.update(history={"h": ["off"]}))
    with pytest.raises(SnapshotError) as info:
        sm.Den.restore(data)
    assert str(info.value) == (
        "Den.restore(): machine 'player': the history 'h' of 'on' records 'off', which is not "
        "inside 'on'"
    )


def test_history_naming_an_unknown_state_is_refused() -> None:
    """History values are state ids of the class, like the configuration."""
    data = with_player(lambda p: p.update(history={"deep": ["gone"]}))
    with pytest.raises(SnapshotError, match="names the state 'gone', which Player no longer has"):
        sm.Den.restore(data)


def test_final_configuration_must_be_finished() -> None:
    """A chart at a top-level final state has stopped: "finished" must say so."""
    data = with_player(lambda p: p.update(configuration=["ejected"], finished=False))
    with pytest.raises(SnapshotError, match='"finished" is False, which its configuration'):
        sm.Den.restore(data)


class Hollow(StateChart):
    """A chart whose history has no default: entering it unrecorded empties the configuration."""

    class room(State.Compound):
        a = State(initial=True)
        b = State()
        h = HistoryState()
        ab = a.to(b)

    hall = State(initial=True)
    enter = hall.to(room.h)
    leave = room.to(hall)


class Home(Orchestrator):
    """One hollow chart."""

    chart: Hollow


def test_empty_configuration_round_trips_faithfully() -> None:
    """An empty configuration (python-statemachine leaves one silently) is saved as [],
    and the restored chart behaves as the original: no event moves it."""
    home = Home(chart=Hollow())
    home.chart.send("enter")
    assert list(home.chart.configuration_values) in ([], [None])
    data = home.snapshot()
    assert data["machines"]["chart"]["configuration"] == []
    restored = Home.restore(data)
    assert restored.snapshot() == data
    for event in ("enter", "leave", "ab"):
        home.chart.send(event)
        restored.chart.send(event)
    assert restored.snapshot() == home.snapshot() == data


def test_invoke_handlers_of_active_states_do_not_start_again() -> None:
    """Restoring runs no entry action, and no invoke handler: they ran on the original."""
    runs: list[str] = []
    release = threading.Event()

    def work() -> str:
        runs.append("work")
        release.wait(5)
        return "done"

    class Job(StateChart):
        idle = State(initial=True)
        working = State(invoke=work)
        start = idle.to(working)
        stop = working.to(idle)

    class Desk(Orchestrator):
        job: Job

    desk = Desk(job=Job())
    desk.job.send("start")
    release.set()
    data = desk.snapshot()
    assert data["machines"]["job"]["configuration"] == ["working"]
    restored = Desk.restore(data)
    assert runs == ["work"]
    restored.job.send("stop")
    assert restored.snapshot()["machines"]["job"]["configuration"] == ["idle"]


def test_snapshot_refuses_pending_delayed_events() -> None:
    """A delayed event not yet fired is an event in flight: snapshot() refuses, and
    succeeds once it fired."""

    class Timer(StateChart):
        a = State(initial=True)
        b = State()
        go = a.to(b) | b.to(a)

        async def on_go(self) -> None:
            pass

    class Clock(Orchestrator):
        timer: Timer

    async def scenario() -> tuple[str, list[str]]:
        timer = Timer()
        await timer.activate_initial_state()
        clock = Clock(timer=timer)
        pending = asyncio.ensure_future(timer.send("go", delay=100))
        await asyncio.sleep(0.01)
        with pytest.raises(MachineBusyError) as info:
            clock.snapshot()
        await pending
        return str(info.value), clock.snapshot()["machines"]["timer"]["configuration"]

    message, configuration = asyncio.run(scenario())
    assert "cannot take a snapshot while machine 'timer'" in message
    assert configuration == ["b"]


def test_restored_async_chart_runs_on_the_async_engine() -> None:
    """A chart with async callbacks is restored without awaiting anything, and its next
    event, awaited, runs its callbacks with the orchestrator."""
    seen: list[object] = []

    class Lift(StateChart):
        down = State(initial=True)
        up = State()
        move = down.to(up) | up.to(down)

        async def on_move(self, orc: Tower) -> None:
            seen.append(orc)

    class Tower(Orchestrator):
        lift: Lift

    async def scenario() -> Tower:
        lift = Lift()
        await lift.activate_initial_state()
        tower = Tower(lift=lift)
        await lift.send("move")
        restored = Tower.restore(tower.snapshot())
        await restored.lift.send("move")
        return restored

    restored = asyncio.run(scenario())
    assert restored.snapshot()["machines"]["lift"]["configuration"] == ["down"]
    assert seen[-1] is restored

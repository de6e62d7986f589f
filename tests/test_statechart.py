"""python-statemachine 3.x StateChart features reach the orchestrator too."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from .psm_line import PSM3

if not PSM3:
    pytest.skip("StateChart exists from python-statemachine 3.0", allow_module_level=True)

from statemachine import State, StateChart

from statemachines_orchestrator import Orchestrator, built


class Recorded(Orchestrator, abstract=True):
    """Base for the orchestrators below: keeps what callbacks receive."""

    @property
    def log(self) -> list[tuple[str, Any]]:
        """What the callbacks recorded, in order."""
        return self.__dict__.setdefault("_log", [])  # type: ignore[no-any-return]


def test_compound_states_and_done_state() -> None:
    """Entering nested states and the ``done.state`` event both receive ``orc``."""

    class Job(StateChart):
        class running(State.Compound):
            fetch = State(initial=True)
            parse = State()
            done = State(final=True)
            step = fetch.to(parse) | parse.to(done)

        finished = State(final=True)
        done_state_running = running.to(finished, on="handle_done")

        def on_enter_parse(self, orc: Recorded) -> None:
            orc.log.append(("enter parse", orc))

        def handle_done(self, orc: Recorded) -> None:
            orc.log.append(("done.state", orc))

    class Solo(Recorded):
        job: Job

    solo = Solo(Job())
    solo.job.step()
    solo.job.step()
    assert solo.log == [("enter parse", solo), ("done.state", solo)]
    assert list(solo.job.configuration_values) == ["finished"]


def test_parallel_states() -> None:
    """Callbacks inside parallel regions receive ``orc``; the repr lists the configuration."""

    class Both(StateChart):
        class both(State.Parallel):
            class left(State.Compound):
                l1 = State(initial=True)
                l2 = State(final=True)
                go_left = l1.to(l2)

            class right(State.Compound):
                r1 = State(initial=True)
                r2 = State(final=True)
                go_right = r1.to(r2)

        def on_enter_l2(self, orc: Recorded) -> None:
            orc.log.append(("enter l2", orc))

    class Solo(Recorded):
        both: Both

    solo = Solo(Both())
    solo.both.go_left()
    assert solo.log == [("enter l2", solo)]
    assert repr(solo) == "Solo(both=<Both: ['both', 'left', 'right', 'r1', 'l2']>)"


def test_error_execution() -> None:
    """An exception in a callback becomes ``error.execution``, whose handler gets ``orc``."""

    class Fragile(StateChart):
        ok = State(initial=True)
        failed = State(final=True)
        boom = ok.to.itself(on="explode")
        error_execution = ok.to(failed, on="handle_error")

        def explode(self) -> None:
            msg = "exploded"
            raise RuntimeError(msg)

        def handle_error(self, error: Exception, orc: Recorded) -> None:
            orc.log.append((str(error), orc))

    class Solo(Recorded):
        fragile: Fragile

    solo = Solo(Fragile())
    solo.fragile.boom()
    assert solo.log == [("exploded", solo)]


def test_eventless_transitions() -> None:
    """Guards and actions of eventless transitions receive ``orc``."""

    class Counter(StateChart):
        counting = State(initial=True)
        enough = State(final=True)
        counting.to(enough, cond="reached", on="announce")
        bump = counting.to.itself(internal=True)

        def reached(self, orc: Recorded | None = None) -> bool:
            # Also evaluated while the machine is built, before any orchestrator.
            return orc is not None and len(orc.log) >= 2

        def on_bump(self, orc: Recorded) -> None:
            orc.log.append(("bump", orc))

        def announce(self, orc: Recorded) -> None:
            orc.log.append(("enough", orc))

    class Solo(Recorded):
        counter: Counter

    solo = Solo(Counter())
    solo.counter.bump()
    solo.counter.bump()
    assert solo.log == [("bump", solo), ("bump", solo), ("enough", solo)]


def test_invoke_handler_and_done_invoke() -> None:
    """An ``invoke`` handler and the ``done.invoke`` transition both receive ``orc``."""
    finished = threading.Event()

    class Worker(StateChart):
        idle = State(initial=True)
        working = State(invoke="work")
        done = State(final=True)
        start = idle.to(working)
        done_invoke_working = working.to(done, on="collect")

        def work(self, orc: Recorded) -> int:
            orc.log.append(("work", orc))
            return 42

        def collect(self, orc: Recorded, data: int) -> None:
            orc.log.append((f"collected {data}", orc))
            finished.set()

    class Solo(Recorded):
        worker: Worker

    solo = Solo(Worker())
    solo.worker.start()
    assert finished.wait(5)
    assert solo.log == [("work", solo), ("collected 42", solo)]


def test_delayed_event() -> None:
    """An event sent with ``delay=`` receives ``orc`` when it runs."""

    class Timer(StateChart):
        waiting = State(initial=True)
        rang = State(final=True)
        ring = waiting.to(rang)

        def on_ring(self, orc: Recorded) -> None:
            orc.log.append(("ring", orc))

    class Solo(Recorded):
        timer: Timer

    solo = Solo(Timer())
    started = time.monotonic()
    solo.timer.send("ring", delay=20)
    assert time.monotonic() - started >= 0.015
    assert solo.log == [("ring", solo)]


def test_cross_machine_exception_on_statechart_stays_with_the_callee() -> None:
    """On a StateChart, the callee's failure becomes its own ``error.execution``."""

    class Callee(StateChart):
        idle = State(initial=True)
        broken = State(final=True)
        poke = idle.to.itself(on="fail")
        error_execution = idle.to(broken)

        def fail(self) -> None:
            msg = "callee failed"
            raise ValueError(msg)

    class Caller(StateChart):
        a = State(initial=True)
        b = State(final=True)
        go = a.to(b)

        def after_go(self, orc: Any) -> None:
            orc.callee.poke()

    class Duo(Orchestrator):
        caller: Caller
        callee: Callee

    duo = Duo(Caller(), Callee())
    duo.caller.go()
    assert list(duo.caller.configuration_values) == ["b"]
    assert list(duo.callee.configuration_values) == ["broken"]


def test_async_statechart() -> None:
    """Async StateChart callbacks receive ``orc`` and await other machines."""

    class Pinger(StateChart):
        idle = State(initial=True)
        done = State(final=True)
        ping = idle.to(done)

        async def after_ping(self, orc: Any) -> None:
            await orc.ponger.pong()

    class Ponger(StateChart):
        idle = State(initial=True)
        done = State(final=True)
        pong = idle.to(done)

        async def on_pong(self, orc: Any) -> None:
            orc.log.append(("pong", orc))

    class Duo(Recorded):
        pinger: Pinger
        ponger: Ponger

    async def scenario() -> Duo:
        duo = Duo(Pinger(), Ponger())
        for machine in duo.machines.values():
            await machine.activate_initial_state()
        await duo.pinger.ping()
        return duo

    duo = asyncio.run(scenario())
    assert duo.log == [("pong", duo)]


def test_built_chart_whose_eventless_guard_needs_orc_is_built() -> None:
    """A ``built()`` chart whose eventless guard requires ``orc`` (no default) gets it
    while it is constructed: construction returns, and the guard saw the orchestrator."""
    seen: list[Any] = []

    class Gate(StateChart):
        waiting = State(initial=True)
        opened = State(final=True)
        waiting.to(opened, cond="allowed")

        def allowed(self, orc: Any) -> bool:
            seen.append(orc)
            return False

    class Solo(Orchestrator):
        gate: Gate = built(factory=Gate)

    built_: list[Solo] = []
    worker = threading.Thread(target=lambda: built_.append(Solo()), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert built_, "constructing the orchestrator did not return"
    assert seen
    assert all(orc is built_[0] for orc in seen)
    assert built_[0].gate.current_state_value == "waiting"

"""python-statemachine 3.x statecharts for the diagram tests (imported on 3.x only)."""

from __future__ import annotations

from statemachine import State, StateChart

from statemachines_orchestrator import Orchestrator


class Line(StateChart):
    stopped = State(initial=True)

    class running(State.Parallel):
        class mixer(State.Compound):
            idle = State(initial=True)
            mixing = State()
            mixed = State(final=True)
            mix = idle.to(mixing)
            stir = mixing.to(mixed)

        class oven(State.Compound):
            cold = State(initial=True)
            hot = State(final=True)
            heat = cold.to(hot)

    finished = State(final=True)

    start = stopped.to(running)
    finish = running.to(finished)

    def on_enter_finished(self, orc: Plant) -> None:
        orc.alarm.ring()


class Alarm(StateChart):
    silent = State(initial=True)
    ringing = State(final=True)
    ring = silent.to(ringing)

    def after_ring(self, orc: Plant) -> None:
        orc.line.send("finish")


class Plant(Orchestrator):
    line: Line
    alarm: Alarm


def new_plant() -> Plant:
    return Plant(Line(), Alarm())

"""Machines and orchestrators for the snapshot tests; module level, so their paths are stable.

The fixtures in tests/snapshots/ were written from these classes: change none of them in a
way that breaks those files.

Every callback appends to the module's :data:`CALLS`, so that a test can see
which callbacks ran (and that restoring runs none).
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator, built

from .psm_line import PSM3

CALLS: list[tuple[str, str]] = []
"""(machine class name, callback) of every callback run, in order."""


def record(machine: Any, what: str) -> None:
    """Append one callback to :data:`CALLS`."""
    CALLS.append((type(machine).__name__, what))


class Door(StateMachine):
    """A door that asks its alarm to arm when it locks; keeps a count of its openings."""

    snapshot_fields: ClassVar[tuple[str, ...]] = ("openings",)

    closed = State(initial=True)
    opened = State()
    locked = State()
    broken = State(final=True)

    open = closed.to(opened)
    close = opened.to(closed)
    lock = closed.to(locked)
    unlock = locked.to(closed)
    smash = closed.to(broken) | locked.to(broken) | opened.to(broken)

    openings = 0

    def on_enter_state(self, state: Any) -> None:
        record(self, f"enter {state.id}")

    def on_open(self) -> None:
        self.openings += 1

    def after_lock(self, orc: House) -> None:
        orc.alarm.arm()

    def after_unlock(self, orc: House) -> None:
        orc.alarm.disarm()


class Alarm(StateMachine):
    """An alarm; it rings when the door is smashed while it is armed."""

    idle = State(initial=True)
    armed = State()
    ringing = State()

    arm = idle.to(armed)
    disarm = armed.to(idle) | ringing.to(idle)
    ring = armed.to(ringing)

    def on_enter_state(self, state: Any) -> None:
        record(self, f"enter {state.id}")


class Lamp(StateMachine):
    """A lamp, built by the orchestrator when none is given."""

    off = State(initial=True)
    on = State()
    flip = off.to(on) | on.to(off)

    def on_enter_state(self, state: Any) -> None:
        record(self, f"enter {state.id}")


class House(Orchestrator):
    """A door and its alarm."""

    door: Door
    alarm: Alarm


class LitHouse(Orchestrator):
    """A door, its alarm, and a lamp the orchestrator builds."""

    door: Door
    alarm: Alarm
    lamp: Lamp = built(factory=Lamp)


if PSM3:
    from statemachine import HistoryState, StateChart

    class Player(StateChart):
        """A media player: compound, parallel, shallow and deep history, a final state."""

        snapshot_fields: ClassVar[tuple[str, ...]] = ("volume",)

        class on(State.Compound):
            class playing(State.Parallel):
                class video(State.Compound):
                    frames = State(initial=True)
                    buffering = State()
                    stall = frames.to(buffering)
                    resume = buffering.to(frames)

                class audio(State.Compound):
                    loud = State(initial=True)
                    quiet = State()
                    hush = loud.to(quiet)
                    boost = quiet.to(loud)

            paused = State(initial=True)
            deep = HistoryState(type="deep")
            h = HistoryState()
            play = paused.to(playing)
            pause = playing.to(paused)

        off = State()
        ejected = State(final=True)

        power_off = on.to(off)
        power_on = off.to(on.h)
        power_on_deep = off.to(on.deep)
        eject = off.to(ejected)

        volume = 5

        def on_enter_state(self, state: Any) -> None:
            record(self, f"enter {state.id}")

        def on_hush(self) -> None:
            self.volume -= 1

    class Remote(StateChart):
        """A remote whose button drives the player."""

        idle = State(initial=True)
        pressed = State()
        press = idle.to(pressed) | pressed.to(idle)

        def on_press(self, orc: Den) -> None:
            orc.player.send("play")

        def on_enter_state(self, state: Any) -> None:
            record(self, f"enter {state.id}")

    class Den(Orchestrator):
        """A player and its remote."""

        player: Player
        remote: Remote


class Street(Orchestrator):
    """An alarm and a list of doors: a collection field in snapshots."""

    alarm: Alarm
    doors: list[Door]


class Block(Orchestrator):
    """Doors keyed by name, and lamps the orchestrator builds (an empty list by default)."""

    doors: dict[str, Door]
    lamps: list[Lamp] = built(factory=list)


class BoomError(Exception):
    """Raised on purpose by the atomic blocks of the tests."""


def fail_in_block(orc: Orchestrator, *steps: Callable[[], object]) -> None:
    """Run ``steps`` in an atomic block of ``orc``, then raise :class:`BoomError`."""
    with orc.atomic():
        for step in steps:
            step()
        raise BoomError

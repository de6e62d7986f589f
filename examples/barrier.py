"""A barrier: every participant is initialised before any of them prepares.

Run it from the repository root::

    python -m pip install -e . && python examples/barrier.py

A distributed task has a number of participants known only at run time. Each
initialises at its own pace (one of them initialises a neighbour from its own
callback); none may start preparing before all have initialised. The
orchestrator declares the barrier once: ``when_all("participants",
"initialised", send=("participants", "prepare_work"))`` sends ``prepare_work``
to every participant as soon as the last one is initialised.

1. Four participants are created, idle.
2. They initialise one by one; the barrier holds while one is still idle.
3. The last initialisation releases the barrier: every participant prepares,
   the one whose step released it last (its event waited for its step to end).
4. A second barrier, ``when_all("participants", send=...)`` with no state,
   waits for every participant to finish, and tells the coordinator.

Works on python-statemachine 2.5, 2.6, 3.0, 3.1 and 3.2.
"""

from __future__ import annotations

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator
from statemachines_orchestrator.coordination import count_in, member_key, when_all

LOG: list[str] = []
"""What happened, in order (the tests read it)."""


def say(who: str, message: str) -> None:
    """Print and record one line of the story."""
    LOG.append(f"{who}: {message}")
    print(f"    {who:>14}: {message}")


class Participant(StateMachine):
    """One participant of the task."""

    idle = State(initial=True)
    initialised = State()
    preparing = State()
    done = State(final=True)

    initialise = idle.to(initialised)
    prepare_work = initialised.to(preparing)
    finish = preparing.to(done)

    def on_enter_initialised(self, orc: Task) -> None:
        """Report; the first participant also initialises its neighbour."""
        _field, index = member_key(orc, self)
        say(f"participant {index}", "initialised")
        if index == 0 and orc.participants[1].idle.is_active:
            orc.participants[1].initialise()

    def on_enter_preparing(self, orc: Task) -> None:
        """Report, with how many participants are still initialising."""
        _field, index = member_key(orc, self)
        waiting = count_in(orc.participants, "idle")
        say(f"participant {index}", f"preparing ({waiting} still idle)")


class Coordinator(StateMachine):
    """Collects the task's result once every participant is done."""

    running = State(initial=True)
    finished = State(final=True)

    collect = running.to(finished)

    def on_enter_finished(self) -> None:
        """Report."""
        say("coordinator", "every participant is done")


class Task(Orchestrator):
    """A coordinator and the participants of one task."""

    coordinator: Coordinator
    participants: list[Participant]

    barrier = when_all("participants", "initialised", send=("participants", "prepare_work"))
    all_done = when_all("participants", send=("coordinator", "collect"))


def main(size: int = 4) -> Task:
    """Tell the story; return the orchestrator, for the tests."""
    print(f"1. {size} participants are created, idle.")
    task = Task(Coordinator(), [Participant() for _ in range(size)])

    print("2. They initialise one by one (the first one initialises the second).")
    for participant in task.participants[:-1]:
        if participant.idle.is_active:
            participant.initialise()
    say("barrier", f"holding: {count_in(task.participants, 'idle')} participant still idle")

    print("3. The last one initialises: the barrier releases every participant.")
    task.participants[-1].initialise()

    print("4. Each participant finishes; the last one tells the coordinator.")
    task.send("finish")
    print(task)
    return task


if __name__ == "__main__":
    main()

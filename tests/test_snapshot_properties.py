"""Property-based: a restored orchestrator behaves exactly as the one it was saved from.

For random event sequences, take a snapshot at a random point, restore it (through JSON
text), replay the rest of the events on both, and compare the configurations after each
event, the callbacks run after the snapshot point, and the final snapshots.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from . import snapshot_machines as sm
from .psm_line import PSM3

if TYPE_CHECKING:
    from statemachines_orchestrator import Orchestrator

Step = tuple[str, str]
"""(machine field, event name)."""


def replay(orc: Orchestrator, steps: list[Step]) -> tuple[list[Any], list[tuple[str, str]]]:
    """Send ``steps`` to ``orc``; return each step's outcome and the callbacks run."""
    sm.CALLS.clear()
    outcomes: list[Any] = []
    for field, event in steps:
        try:
            getattr(orc, field).send(event)
            outcome: Any = "ok"
        except Exception as exc:  # noqa: BLE001 - the outcome compared is the exception's type
            outcome = type(exc).__name__
        machines = orc.snapshot()["machines"]
        outcomes.append((outcome, {name: m["configuration"] for name, m in machines.items()}))
    return outcomes, list(sm.CALLS)


def check_restore_is_faithful(
    build: Callable[[], Orchestrator], steps: list[Step], cut: int
) -> None:
    """The property: snapshot after ``steps[:cut]``, restore, replay the rest on both."""
    cut = min(cut, len(steps))
    original = build()
    replay(original, steps[:cut])
    text = json.dumps(original.snapshot())
    restored = type(original).restore(json.loads(text))
    assert restored.snapshot() == json.loads(text)
    expected = replay(original, steps[cut:])
    actual = replay(restored, steps[cut:])
    assert actual == expected
    assert restored.snapshot() == original.snapshot()


HOUSE_STEPS = st.sampled_from(
    [
        ("door", "open"),
        ("door", "close"),
        ("door", "lock"),
        ("door", "unlock"),
        ("door", "smash"),
        ("alarm", "arm"),
        ("alarm", "disarm"),
        ("alarm", "ring"),
    ]
)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(HOUSE_STEPS, max_size=14), cut=st.integers(min_value=0, max_value=14))
def test_state_machines_restore_faithfully(steps: list[Step], cut: int) -> None:
    """StateMachines (every line): cross-machine calls, data, final states."""
    check_restore_is_faithful(lambda: sm.House(door=sm.Door(), alarm=sm.Alarm()), steps, cut)


if PSM3:
    DEN_STEPS = st.sampled_from(
        [
            ("player", "play"),
            ("player", "pause"),
            ("player", "stall"),
            ("player", "resume"),
            ("player", "hush"),
            ("player", "boost"),
            ("player", "power_off"),
            ("player", "power_on"),
            ("player", "power_on_deep"),
            ("player", "eject"),
            ("remote", "press"),
        ]
    )

    @settings(max_examples=200, deadline=None)
    @given(steps=st.lists(DEN_STEPS, max_size=16), cut=st.integers(min_value=0, max_value=16))
    def test_state_charts_restore_faithfully(steps: list[Step], cut: int) -> None:
        """StateCharts: compound, parallel, shallow and deep history, a final state."""
        check_restore_is_faithful(
            lambda: sm.Den(player=sm.Player(), remote=sm.Remote()), steps, cut
        )


StreetStep = tuple[Any, str]
"""(``"alarm"`` or a door's index, event name), or ``("add", "")``, ``("drop", index)``."""

STREET_STEPS = st.one_of(
    st.tuples(st.just("alarm"), st.sampled_from(["arm", "disarm", "ring"])),
    st.tuples(
        st.integers(min_value=0, max_value=3),
        st.sampled_from(["open", "close", "lock", "unlock", "smash"]),
    ),
    st.tuples(st.just("add"), st.just("")),
    st.tuples(st.just("drop"), st.sampled_from(["0", "1", "2"])),
)


def replay_street(street: sm.Street, steps: list[StreetStep]) -> list[Any]:
    """Send ``steps`` to a street (changing its doors too); return each step's outcome."""
    outcomes: list[Any] = []
    for target, event in steps:
        try:
            if target == "add":
                street.doors.append(sm.Door())
            elif target == "drop":
                street.doors.pop(int(event))
            elif target == "alarm":
                street.alarm.send(event)
            else:
                street.doors[target].send(event)
            outcome: Any = "ok"
        except Exception as exc:  # noqa: BLE001 - the outcome compared is the exception's type
            outcome = type(exc).__name__
        outcomes.append((outcome, street.snapshot()["machines"]))
    return outcomes


def fail_in_block(street: sm.Street, steps: list[StreetStep]) -> None:
    """Replay ``steps`` in an atomic block of ``street``, then raise LookupError."""
    with street.atomic():
        replay_street(street, steps)
        raise LookupError


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=3),
    steps=st.lists(STREET_STEPS, max_size=14),
    cut=st.integers(min_value=0, max_value=14),
)
def test_list_collections_restore_faithfully(
    start: int, steps: list[StreetStep], cut: int
) -> None:
    """A list of doors: members saved in order, restored wired; members come and go."""
    cut = min(cut, len(steps))
    original = sm.Street(sm.Alarm(), [sm.Door() for _ in range(start)])
    replay_street(original, steps[:cut])
    text = json.dumps(original.snapshot())
    restored = sm.Street.restore(json.loads(text))
    assert restored.snapshot() == json.loads(text)
    assert replay_street(restored, steps[cut:]) == replay_street(original, steps[cut:])
    assert restored.snapshot() == original.snapshot()
    # An atomic block that fails rolls members and membership back to its start.
    before = restored.snapshot()
    doors = list(restored.doors)
    with pytest.raises(LookupError):
        fail_in_block(restored, steps)
    assert restored.snapshot() == before
    assert all(a is b for a, b in zip(restored.doors, doors))

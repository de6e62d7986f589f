"""Orchestrator.atomic(): every machine rolls back when the block raises."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import MachineBusyError, Orchestrator

from . import snapshot_machines as sm
from .psm_line import PSM3
from .snapshot_machines import BoomError, fail_in_block


class Lever(StateMachine):
    """Pulling it moves the gate and the bell, then fails when told to."""

    snapshot_fields: ClassVar[tuple[str, ...]] = ("pulls",)

    up = State(initial=True)
    down = State()
    pull = up.to(down)
    push = down.to(up)

    fail = False

    def __init__(self, **kwargs: Any) -> None:
        self.pulls: list[int] = []
        super().__init__(**kwargs)

    def on_pull(self) -> None:
        self.pulls.append(len(self.pulls))

    def after_pull(self, orc: Yard) -> None:
        orc.gate.open()
        if self.fail:
            raise BoomError


class Gate(StateMachine):
    """Opened by the lever."""

    shut = State(initial=True)
    wide = State()
    open = shut.to(wide)
    close = wide.to(shut)


class Yard(Orchestrator):
    """A lever and its gate."""

    lever: Lever
    gate: Gate


def states(orc: Orchestrator) -> dict[str, Any]:
    """Each machine's current state value."""
    return {name: m.current_state_value for name, m in orc.machines.items()}


def test_without_atomic_a_failing_chain_leaves_machines_half_moved() -> None:
    """The problem atomic() solves: the gate opened, the lever's step failed."""
    yard = Yard(lever=Lever(), gate=Gate())
    yard.lever.fail = True
    with pytest.raises(BoomError):
        yard.lever.pull()
    assert states(yard)["gate"] == "wide"


def test_failing_chain_rolls_every_machine_back() -> None:
    """Configuration and snapshot fields come back; the exception propagates."""
    yard = Yard(lever=Lever(), gate=Gate())
    yard.lever.fail = True
    with pytest.raises(BoomError), yard.atomic():
        yard.lever.pull()
    assert states(yard) == {"lever": "up", "gate": "shut"}
    assert yard.lever.pulls == []
    # The machines accept events again, as they did before the block.
    yard.lever.fail = False
    yard.lever.pull()
    assert states(yard) == {"lever": "down", "gate": "wide"}
    assert yard.lever.pulls == [0]


def test_block_that_succeeds_keeps_its_changes() -> None:
    """Without an exception nothing is rolled back."""
    yard = Yard(lever=Lever(), gate=Gate())
    with yard.atomic():
        yard.lever.pull()
    assert states(yard) == {"lever": "down", "gate": "wide"}
    assert yard.lever.pulls == [0]


def test_exception_raised_by_the_block_itself_rolls_back() -> None:
    """Any exception leaving the block rolls back what happened in it."""
    yard = Yard(lever=Lever(), gate=Gate())
    with pytest.raises(BoomError):
        fail_in_block(yard, yard.lever.pull)
    assert states(yard) == {"lever": "up", "gate": "shut"}


def test_nested_blocks_roll_back_to_their_own_start() -> None:
    """An inner block that fails rolls back to where it began; the outer keeps going."""
    yard = Yard(lever=Lever(), gate=Gate())
    with yard.atomic():
        yard.lever.pull()
        with pytest.raises(BoomError):
            fail_in_block(yard, yard.gate.close, yard.lever.push)
        assert states(yard) == {"lever": "down", "gate": "wide"}
        assert yard.lever.pulls == [0]
    assert states(yard) == {"lever": "down", "gate": "wide"}


def test_outer_block_rolls_back_past_an_inner_one_that_succeeded() -> None:
    """An outer block that fails undoes its inner blocks too."""
    yard = Yard(lever=Lever(), gate=Gate())

    def inner() -> None:
        with yard.atomic():
            yard.lever.pull()

    with pytest.raises(BoomError):
        fail_in_block(yard, inner)
    assert states(yard) == {"lever": "up", "gate": "shut"}
    assert yard.lever.pulls == []


def test_one_atomic_object_may_be_entered_again() -> None:
    """What atomic() returns captures on entry, each time."""
    yard = Yard(lever=Lever(), gate=Gate())
    block = yard.atomic()
    with block:
        yard.lever.pull()

    def close_then_fail() -> None:
        with block:
            yard.gate.close()
            raise BoomError

    with pytest.raises(BoomError):
        close_then_fail()
    assert states(yard) == {"lever": "down", "gate": "wide"}


def test_atomic_refused_while_a_machine_processes_an_event() -> None:
    """A block cannot begin inside a callback: the step would be cut in two."""
    seen: list[str] = []

    class Latch(Gate):
        def on_open(self, orc: Pen) -> None:
            with pytest.raises(MachineBusyError) as info, orc.atomic():
                pass  # pragma: no cover - never entered
            seen.append(str(info.value))

    class Pen(Orchestrator):
        latch: Latch

    pen = Pen(latch=Latch())
    pen.latch.open()
    assert seen == [
        (
            f"{Pen.__qualname__}: cannot begin an atomic block while machine 'latch' is "
            "processing an event (called from one of its callbacks, or another thread); begin it "
            "in the code that sends the event"
        )
    ]


def test_model_fields_and_missing_attributes_roll_back() -> None:
    """Model fields listed in snapshot_model_fields come back; an attribute that did not
    exist at the start is removed again."""

    class Tagged(Gate):
        snapshot_fields: ClassVar[tuple[str, ...]] = ("tag",)
        snapshot_model_fields: ClassVar[tuple[str, ...]] = ("owner",)

    class Fence(Orchestrator):
        gate: Tagged

    fence = Fence(gate=Tagged())
    fence.gate.model.owner = {"name": "ada"}

    def change() -> None:
        fence.gate.tag = "new"
        fence.gate.model.owner["name"] = "bob"

    with pytest.raises(BoomError):
        fail_in_block(fence, change)
    assert not hasattr(fence.gate, "tag")
    assert fence.gate.model.owner == {"name": "ada"}
    # An attribute missing before and after the block stays missing.
    with pytest.raises(BoomError):
        fail_in_block(fence, fence.gate.open)
    assert not hasattr(fence.gate, "tag")
    assert fence.gate.current_state_value == "shut"


@pytest.mark.skipif(not PSM3, reason="history and finished charts exist from 3.0")
def test_chart_history_and_finished_flag_roll_back() -> None:
    """A chart that recorded history and finished inside the block is back as it was."""
    den = sm.Den(player=sm.Player(), remote=sm.Remote())
    den.player.send("play")
    before = den.snapshot()

    def finish() -> None:
        for event in ("hush", "power_off", "eject"):
            den.player.send(event)
        assert den.player.is_terminated

    with pytest.raises(BoomError):
        fail_in_block(den, finish)
    assert not den.player.is_terminated
    assert den.snapshot() == before
    den.player.send("power_off")
    den.player.send("power_on_deep")
    assert "loud" in den.player.configuration_values

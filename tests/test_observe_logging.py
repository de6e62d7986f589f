"""Logging: DEBUG for each cross-machine event, nothing at INFO or above, never print."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from statemachines_orchestrator import _psm
from statemachines_orchestrator._psm import _observe
from statemachines_orchestrator.trace import Trace

from .observed import shop


class Listener:
    def after_transition(self, field: str) -> None:
        pass


def test_cross_machine_events_are_logged_at_debug(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="statemachines_orchestrator")
    s = shop()
    handle = s.add_listener(Listener())
    with Trace(s):
        s.order.place(amount=30)
    handle.remove()
    assert {r.levelno for r in caplog.records} == {logging.DEBUG}
    events = [
        r.getMessage()
        for r in caplog.records
        if r.name == "statemachines_orchestrator._psm._observe"
    ]
    assert events == [
        "payment.authorize(amount=30) sent by order.place",
        "shipping.release() sent by payment.authorize",
        "order.finish() sent by shipping.release",
    ]
    assert {r.name for r in caplog.records} == {
        "statemachines_orchestrator._psm._observe",
        "statemachines_orchestrator._attachments",
    }
    assert capsys.readouterr() == ("", "")


def test_nothing_at_info_or_above_in_normal_operation(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)
    s = shop()
    s.add_listener(Listener())
    with Trace(s):
        s.order.place(amount=30)
        with pytest.raises(RuntimeError):
            shop().shipping.crash()
    assert caplog.records == []
    assert capsys.readouterr() == ("", "")


def test_no_debug_line_while_debug_is_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="statemachines_orchestrator")
    s = shop()
    with Trace(s):
        s.order.place(amount=30)
    assert caplog.records == []


def test_orchestrators_built_while_debug_is_on_log_their_cross_machine_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from statemachines_orchestrator import Orchestrator, built

    from .observed import Order, Payment, Shipping

    class Built(Orchestrator):
        order: Order
        payment: Payment
        shipping: Shipping = built(factory=Shipping)

    caplog.set_level(logging.DEBUG, logger="statemachines_orchestrator")
    inline, general = shop(), Built(Order(), Payment())  # both ways of building
    for s in (inline, general):
        caplog.clear()
        s.order.place(amount=30)
        assert [
            r.getMessage()
            for r in caplog.records
            if r.name == "statemachines_orchestrator._psm._observe"
        ] == [
            "payment.authorize(amount=30) sent by order.place",
            "shipping.release() sent by payment.authorize",
            "order.finish() sent by shipping.release",
        ]
    caplog.set_level(logging.INFO, logger="statemachines_orchestrator")
    quiet = shop()
    quiet.order.place(amount=30)
    assert all(_psm.watched(m) is None for m in quiet.machines.values())


def test_debug_logging_never_stops_a_build(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG, logger="statemachines_orchestrator")
    monkeypatch.setattr(_observe, "_required", lambda: ("no_such_method",))
    s = shop()
    assert all(_psm.watched(m) is None for m in s.machines.values())
    assert any("events not logged" in r.getMessage() for r in caplog.records)


def test_collection_orchestrators_built_while_debug_is_on_log_their_members_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Both ways of building a class with collections: inline, and the fan-in's general path."""
    from statemachine import State, StateMachine

    from statemachines_orchestrator import Orchestrator
    from statemachines_orchestrator.coordination import when_all

    class Part(StateMachine):
        waiting = State(initial=True)
        done = State(final=True)

        finish = waiting.to(done)

        def on_finish(self, orc: Any) -> None:
            orc.board.tick()

    class Board(StateMachine):
        listening = State(initial=True)
        closed = State(final=True)

        tick = listening.to.itself()
        close = listening.to(closed)

    class Parts(Orchestrator):
        board: Board
        parts: list[Part]
        spares: dict[str, Part]

    class Gathered(Orchestrator):
        board: Board
        parts: list[Part]

        all_done = when_all("parts", "done", send=("board", "close"))

    caplog.set_level(logging.DEBUG, logger="statemachines_orchestrator")
    sent = ["board.tick() sent by parts[0].finish"]
    for orc, logged in (
        (Parts(Board(), [Part()], {"k": Part()}), sent),
        (Gathered(Board(), [Part()]), [*sent, "board.close() sent by parts[0].finish"]),
    ):
        caplog.clear()
        orc.parts[0].finish()
        assert [
            r.getMessage()
            for r in caplog.records
            if r.name == "statemachines_orchestrator._psm._observe"
        ] == logged

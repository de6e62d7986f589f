"""Trace: every processed event of every machine, with its cause, and its exports."""

from __future__ import annotations

import asyncio
import copy
import json
import pickle
from typing import Any

import pytest
from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from statemachines_orchestrator import (
    MachineBusyError,
    ObservationNotSupportedError,
    Orchestrator,
    _psm,
)
from statemachines_orchestrator._psm import _observe
from statemachines_orchestrator.trace import Trace, TraceRecord

from .observed import (
    AsyncOrder,
    AsyncPayment,
    AsyncShipping,
    AsyncShop,
    Order,
    Payment,
    Shipping,
    shop,
)
from .psm_line import PSM3


def summary(trace: Trace) -> list[tuple[str, str, str | None]]:
    """Each record as (field.event, outcome, field.event of its cause)."""
    return [
        (
            f"{r.field}.{r.event}",
            r.outcome,
            None if r.cause is None else f"{r.cause.field}.{r.cause.event}",
        )
        for r in trace.records
    ]


def engine_class(machine: Any) -> type[Any]:
    return type(machine._engine)  # noqa: SLF001


def test_a_chain_across_machines_is_one_chain_of_causes() -> None:
    s = shop()
    with Trace(s) as trace:
        s.order.place(amount=30)
    assert summary(trace) == [
        ("order.place", "taken", None),
        ("payment.authorize", "taken", "order.place"),
        ("shipping.release", "taken", "payment.authorize"),
        ("order.finish", "taken", "shipping.release"),
        ("order.archive", "taken", "order.place"),
    ]


def test_an_event_queued_while_its_machine_was_busy_keeps_the_cause_that_sent_it() -> None:
    s = shop()
    with Trace(s) as trace:
        s.order.place(amount=30)
    place, _authorize, release, finish, archive = trace.records
    # Both were queued on the busy order; each keeps the callback that sent it.
    assert finish.cause is release
    assert archive.cause is place
    assert finish.started > release.started
    assert archive.started > finish.started


def test_a_record_says_what_happened() -> None:
    s = shop()
    with Trace(s) as trace:
        s.order.place(amount=30)
    place = trace.records[0]
    assert isinstance(place, TraceRecord)
    assert (place.field, place.event, place.arguments) == ("order", "place", "(amount=30)")
    assert (place.source, place.target) == ("cart", "placed")
    assert place.error is None
    assert place.cause is None
    assert place.started <= place.ended
    assert place.duration == place.ended - place.started
    assert [r.depth for r in trace.records] == [0, 1, 2, 3, 1]
    assert repr(place) == "<TraceRecord order.place(amount=30) 'cart' -> 'placed' taken>"


def test_arguments_are_a_bounded_repr() -> None:
    s = shop()
    with Trace(s) as trace:
        s.payment.authorize(0, "x" * 1000, note=list(range(1000)))
        s.payment.retry(**{f"key{i}": "v" * 50 for i in range(10)})
    short, cut = (r.arguments for r in trace.records)
    assert short == f"(0, '{'x' * 27}...{'x' * 28}', note=[0, 1, 2, 3, 4, 5, ...])"
    assert cut.startswith(f"(key0='{'v' * 50}', key1=")
    assert len(cut) == 200
    assert cut.endswith("...)")


def test_an_event_no_transition_accepts_is_not_allowed() -> None:
    s = shop()
    with Trace(s) as trace, pytest.raises(TransitionNotAllowed):
        s.order.finish()
    (record,) = trace.records
    assert (record.outcome, record.source, record.target) == ("not allowed", "cart", "cart")
    assert record.error is None


def test_guards_that_refuse_every_transition_and_a_fallback_transition() -> None:
    s = shop()
    with Trace(s) as trace:
        s.payment.authorize(amount=0)  # the guard refuses; the second transition is taken
        s.payment.retry()
    assert [(r.event, r.source, r.target, r.outcome) for r in trace.records] == [
        ("authorize", "pending", "refused", "taken"),
        ("retry", "refused", "pending", "taken"),
    ]


def test_a_callback_that_raises_is_recorded_as_raised() -> None:
    s = shop()
    with Trace(s) as trace, pytest.raises(RuntimeError, match="broke down"):
        s.shipping.crash()
    (record,) = trace.records
    assert record.outcome == "raised"
    assert record.error == "RuntimeError('the truck broke down')"


def test_an_exception_raised_across_machines_marks_every_event_on_its_way() -> None:
    class Crashing(Shipping):
        def after_release(self) -> None:
            self.explode()

    class CrashShop(Orchestrator):
        order: Order
        payment: Payment
        shipping: Crashing

    s = CrashShop(order=Order(), payment=Payment(), shipping=Crashing())
    with Trace(s) as trace, pytest.raises(RuntimeError):
        s.order.place(amount=1)
    assert summary(trace) == [
        ("order.place", "raised", None),
        ("payment.authorize", "raised", "order.place"),
        ("shipping.release", "raised", "payment.authorize"),
    ]


def test_machines_that_join_later_are_traced_and_those_that_leave_are_not() -> None:
    s = shop()
    old = s.shipping
    with Trace(s) as trace:
        s.shipping = Shipping()
        with pytest.raises(RuntimeError):
            s.shipping.crash()
        with pytest.raises(RuntimeError):
            old.crash()
    assert [(r.field, r.event) for r in trace.records] == [("shipping", "crash")]
    assert engine_class(old) is not _observe._watched_class(engine_class(old))  # noqa: SLF001


def test_released_machines_stop_being_traced() -> None:
    s = shop()
    with Trace(s) as trace:
        machines = s.release()
        with pytest.raises(RuntimeError):
            machines["shipping"].crash()
    assert trace.records == []


def test_detaching_restores_python_statemachines_own_engine() -> None:
    s = shop()
    before = {name: engine_class(m) for name, m in s.machines.items()}
    trace = Trace(s).attach()
    assert trace.attached
    assert all(_psm.watched(m) is not None for m in s.machines.values())
    assert {name: engine_class(m) for name, m in s.machines.items()} != before
    trace.detach()
    assert not trace.attached
    assert {name: engine_class(m) for name, m in s.machines.items()} == before
    assert all(_psm.watched(m) is None for m in s.machines.values())
    s.order.place(amount=1)
    assert trace.records == []
    trace.detach()  # twice: nothing


def test_attaching_twice_records_once() -> None:
    s = shop()
    trace = Trace(s)
    trace.attach()
    trace.attach()
    s.payment.authorize(amount=0)
    trace.detach()
    assert len(trace) == 1


def test_two_traces_share_the_events_and_one_outlives_the_other() -> None:
    s = shop()
    with Trace(s) as outer:
        with Trace(s) as inner:
            s.payment.authorize(amount=0)
        s.payment.retry()
    assert [r.event for r in inner] == ["authorize"]
    assert [r.event for r in outer] == ["authorize", "retry"]
    assert inner.records[0] is outer.records[0]


def test_a_trace_can_be_cleared_and_reads_its_tree() -> None:
    s = shop()
    with Trace(s) as trace:
        s.order.place(amount=30)
    place = trace.records[0]
    assert trace.roots() == [place]
    assert [r.event for r in trace.children(place)] == ["authorize", "archive"]
    assert repr(trace) == "<Trace Shop detached, 5 records>"
    trace.clear()
    assert len(trace) == 0
    assert trace.timeline() == ""


def test_detaching_from_a_callback_is_refused() -> None:
    s = shop()
    trace = Trace(s).attach()

    class Detacher:
        def after_transition(self) -> None:
            trace.detach()

    s.order.add_listener(Detacher())
    with pytest.raises(MachineBusyError, match="cannot detach a trace"):
        s.order.place(amount=0)
    assert trace.attached


def test_a_traced_orchestrator_pickles_and_copies_untraced() -> None:
    s = shop()
    with Trace(s) as trace:
        for twin in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):  # noqa: S301
            assert all(_psm.watched(m) is None for m in twin.machines.values())
            twin.order.place(amount=1)
        s.payment.authorize(amount=0)
    assert [r.event for r in trace.records] == ["authorize"]


def test_a_trace_needs_the_internals_it_knows(monkeypatch: pytest.MonkeyPatch) -> None:
    s = shop()
    monkeypatch.setattr(_psm, "FAST", False)
    with pytest.raises(ObservationNotSupportedError, match="cannot attach a trace"):
        Trace(s).attach()


def test_an_unknown_engine_leaves_no_machine_watched(monkeypatch: pytest.MonkeyPatch) -> None:
    s = shop()
    s.shipping._engine.__class__ = type("Odd", (object,), {})  # noqa: SLF001
    monkeypatch.setattr(_observe, "_required", lambda: ("put",))
    with pytest.raises(ObservationNotSupportedError, match="cannot watch machine 'shipping'"):
        Trace(s).attach()
    assert all(_psm.watched(m) is None for m in s.machines.values())


def test_watching_needs_every_hook_of_the_line() -> None:
    assert _observe.recognise(type(shop().order._engine)) is None  # noqa: SLF001
    assert _observe.recognise(object) == f"object has no {', '.join(_observe._required())}"  # noqa: SLF001


def test_events_sent_while_nothing_processes_have_no_cause() -> None:
    s = shop()
    with Trace(s) as trace:
        s.payment.authorize(amount=0)
        s.payment.retry()
    assert [r.cause for r in trace.records] == [None, None]


def test_the_records_satisfy_what_diagrams_read() -> None:
    s = shop()
    with Trace(s) as trace:
        s.order.place(amount=3)
    for record in trace.records:
        assert isinstance(record.field, str)
        assert isinstance(record.event, str)
        assert record.cause is None or record.cause in trace.records


# --------------------------------------------------------------------------- async


async def started(orc: AsyncShop) -> AsyncShop:
    for machine in orc.machines.values():
        await machine.activate_initial_state()
    return orc


def test_async_chains_and_tasks_keep_their_causes() -> None:
    async def run() -> Trace:
        s = await started(AsyncShop(AsyncOrder(), AsyncPayment(), AsyncShipping()))
        with Trace(s) as trace:
            await s.order.place()
            await asyncio.gather(*s.payment.tasks)
        return trace

    trace = asyncio.run(run())
    assert summary(trace) == [
        ("order.place", "taken", None),
        ("payment.authorize", "taken", "order.place"),
        ("shipping.release", "taken", "payment.authorize"),
        ("order.finish", "taken", "shipping.release"),
    ]


def test_async_outcomes() -> None:
    class Failing(AsyncShipping):
        async def after_release(self) -> None:
            msg = "no truck"
            raise RuntimeError(msg)

    class Shop2(Orchestrator):
        order: AsyncOrder
        shipping: Failing

    async def run() -> Trace:
        s = await started(Shop2(AsyncOrder(), Failing()))
        with Trace(s) as trace:
            with pytest.raises(TransitionNotAllowed):
                await s.order.finish()
            with pytest.raises(RuntimeError):
                await s.shipping.release()
        return trace

    trace = asyncio.run(run())
    assert [(r.event, r.outcome) for r in trace.records] == [
        ("finish", "not allowed"),
        ("release", "raised"),
    ]
    assert trace.records[1].error == "RuntimeError('no truck')"


# --------------------------------------------------------------------------- exports


def test_json_lines() -> None:
    s = shop()
    with Trace(s) as trace:
        s.order.place(amount=30)
    lines = trace.to_jsonl().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [(r["index"], r["field"], r["event"], r["cause"]) for r in rows] == [
        (0, "order", "place", None),
        (1, "payment", "authorize", 0),
        (2, "shipping", "release", 1),
        (3, "order", "finish", 2),
        (4, "order", "archive", 0),
    ]
    first = rows[0]
    assert first["arguments"] == "(amount=30)"
    assert (first["source"], first["target"], first["outcome"]) == ("cart", "placed", "taken")
    assert first["error"] is None
    assert first["started"] <= first["ended"]


def test_json_lines_to_a_file(tmp_path: Any) -> None:
    s = shop()
    with Trace(s) as trace:
        s.payment.authorize(amount=0)
    path = tmp_path / "trace.jsonl"
    trace.write_jsonl(str(path))
    assert path.read_text(encoding="utf-8") == trace.to_jsonl()


class Level:
    """A state value JSON cannot hold."""

    def __repr__(self) -> str:
        return "<Level>"


def test_json_values_that_json_cannot_hold_become_reprs() -> None:
    class Valued(StateMachine):
        low = State(initial=True, value=1.5)
        middle = State(value=("a", 2))
        high = State(final=True, value=Level())
        rise = low.to(middle) | middle.to(high)

    class Gauge(Orchestrator):
        gauge: Valued

    g = Gauge(Valued())
    with Trace(g) as trace:
        g.gauge.rise()
        g.gauge.rise()
    first, second = trace.to_dicts()
    assert (first["source"], first["target"]) == (1.5, ["a", 2])
    assert second["target"] == "<Level>"


def test_a_cause_recorded_before_the_trace_is_no_index() -> None:
    s = shop()
    outer = Trace(s).attach()
    s.order.place(amount=30)
    inner = Trace(s)
    inner.records.extend(outer.records[1:])  # as if attached after order.place began
    outer.detach()
    assert inner.to_dicts()[0]["cause"] is None
    assert [r.event for r in inner.roots()] == ["authorize", "archive"]


def test_the_timeline_is_indented_by_cause() -> None:
    s = shop()
    with Trace(s) as trace:
        with pytest.raises(TransitionNotAllowed):
            s.order.finish()  # not allowed: the order is in its cart
        s.order.place(amount=30)
    assert trace.timeline(times=False) == (
        "order.finish(): 'cart' -> 'cart' (not allowed)\n"
        "order.place(amount=30): 'cart' -> 'placed' (taken)\n"
        "  payment.authorize(amount=30): 'pending' -> 'authorized' (taken)\n"
        "    shipping.release(): 'waiting' -> 'released' (taken)\n"
        "      order.finish(): 'placed' -> 'finished' (taken)\n"
        "  order.archive(): 'finished' -> 'archived' (taken)"
    )
    timed = trace.timeline().splitlines()
    assert timed[0].startswith("    0.000 ms  order.finish")
    assert " ms    payment.authorize" in timed[2]


def test_the_timeline_shows_errors() -> None:
    s = shop()
    with Trace(s) as trace, pytest.raises(RuntimeError):
        s.shipping.crash()
    assert trace.timeline(times=False) == (
        "shipping.crash(): 'waiting' -> 'waiting' (raised) RuntimeError('the truck broke down')"
    )


def test_the_sequence_diagram() -> None:
    s = shop()
    with Trace(s) as trace:
        s.order.place(amount=30)
    other = shop()
    with Trace(other) as failing, pytest.raises(TransitionNotAllowed):
        other.payment.retry()
    assert trace.mermaid() == (
        "sequenceDiagram\n"
        "    participant m_order as order\n"
        "    participant m_payment as payment\n"
        "    participant m_shipping as shipping\n"
        "    m_order->>m_order: place(amount=30)\n"
        "    Note right of m_order: 'cart' to 'placed'\n"
        "    m_order->>m_payment: authorize(amount=30)\n"
        "    Note right of m_payment: 'pending' to 'authorized'\n"
        "    m_payment->>m_shipping: release()\n"
        "    Note right of m_shipping: 'waiting' to 'released'\n"
        "    m_shipping->>m_order: finish()\n"
        "    Note right of m_order: 'placed' to 'finished'\n"
        "    m_order->>m_order: archive()\n"
        "    Note right of m_order: 'finished' to 'archived'\n"
    )
    assert failing.mermaid().endswith(
        "    m_payment-xm_payment: retry()\n    Note right of m_payment: not allowed\n"
    )


def test_the_sequence_diagram_escapes_what_mermaid_reads_as_syntax() -> None:
    s = shop()
    with Trace(s) as trace:
        s.payment.authorize(amount=0)
        s.payment.retry("a;b #1 %%c\nd")
        with pytest.raises(RuntimeError):
            s.shipping.crash()
    text = trace.mermaid()
    assert "retry('a#59;b #35;1 #37;#37;c\\nd')" in text
    assert "Note right of m_shipping: raised: RuntimeError('the truck broke down')" in text


def test_the_sequence_diagram_names_fields_that_left() -> None:
    class Renamed(Orchestrator):
        shipping: Shipping

    s = shop()
    with Trace(s) as trace:
        s.payment.authorize(amount=0)
    other = Renamed(Shipping())
    trace.orchestrator = other  # a record of a field the orchestrator does not have
    assert "participant m_payment as payment" in trace.mermaid()


@pytest.mark.skipif(not PSM3, reason="statecharts are python-statemachine 3.x")
def test_statechart_configurations_and_errors_caught_as_events() -> None:
    from statemachine import StateChart  # type: ignore[attr-defined, unused-ignore]

    class Machine(StateChart):  # type: ignore[misc, valid-type]
        class active(State.Parallel):  # type: ignore[misc, name-defined]
            class left(State.Compound):  # type: ignore[misc, name-defined]
                a = State(initial=True)
                b = State()
                go = a.to(b)

            class right(State.Compound):  # type: ignore[misc, name-defined]
                c = State(initial=True)
                d = State()
                boom = c.to(d, on="explode")
                fail = c.to(c)

        failed = State(final=True)
        error_execution = active.to(failed)

        def explode(self) -> None:
            msg = "boom"
            raise ValueError(msg)

    class Panel(Orchestrator):
        chart: Machine

    p = Panel(Machine())
    with Trace(p) as trace:
        p.chart.send("go")
        p.chart.send("nothing")
        p.chart.send("boom")
    go, nothing, boom, error = trace.records
    assert isinstance(go.source, tuple)
    assert set(go.source) == {"active", "left", "a", "right", "c"}
    assert set(go.target) == {"active", "left", "b", "right", "c"}
    assert nothing.outcome == "not allowed"
    assert (boom.outcome, boom.error) == ("raised", "ValueError('boom')")
    assert (error.event, error.cause, error.target) == ("error.execution", boom, "failed")


# --------------------------------------------------------------------------- Mermaid's parser


def test_mermaids_own_parser_reads_every_sequence_diagram() -> None:
    from ._mermaid import assert_mermaid_parses

    s = shop()
    with Trace(s) as trace:
        s.payment.authorize(amount=0)
        s.payment.retry("a;b #1 %%c\nd -->> e: f", note={"x": [1, 2]})
        with pytest.raises(RuntimeError):
            s.shipping.crash()
        s.order.place(amount=3)
    assert_mermaid_parses(trace.mermaid())
    assert_mermaid_parses(Trace(shop()).mermaid())  # no record: participants only


def test_async_machines_traced_before_their_initial_state_record_their_events_only() -> None:
    async def run() -> Trace:
        s = AsyncShop(AsyncOrder(), AsyncPayment(), AsyncShipping())
        with Trace(s) as trace:
            for machine in s.machines.values():
                await machine.activate_initial_state()
            await s.order.place()
            await asyncio.gather(*s.payment.tasks)
        return trace

    trace = asyncio.run(run())
    assert summary(trace) == [
        ("order.place", "taken", None),
        ("payment.authorize", "taken", "order.place"),
        ("shipping.release", "taken", "payment.authorize"),
        ("order.finish", "taken", "shipping.release"),
    ]


class Guarded(StateMachine):
    """A machine whose guard raises."""

    idle = State(initial=True)
    busy = State(final=True)

    go = idle.to(busy, cond="check")

    def check(self) -> bool:
        msg = "no guard"
        raise LookupError(msg)


class AsyncGuarded(Guarded):
    """:class:`Guarded`, async."""

    async def check(self) -> bool:  # type: ignore[override]
        msg = "no guard"
        raise LookupError(msg)


def test_a_guard_that_raises_is_recorded_as_raised() -> None:
    class One(Orchestrator):
        guarded: Guarded

    o = One(Guarded())
    with Trace(o) as trace, pytest.raises(LookupError):
        o.guarded.go()
    assert [(r.outcome, r.error) for r in trace] == [("raised", "LookupError('no guard')")]


def test_an_async_guard_that_raises_is_recorded_as_raised() -> None:
    class One(Orchestrator):
        guarded: AsyncGuarded

    async def run() -> Trace:
        o = One(AsyncGuarded())
        await o.guarded.activate_initial_state()
        with Trace(o) as trace, pytest.raises(LookupError):
            await o.guarded.go()
        return trace

    trace = asyncio.run(run())
    assert [(r.outcome, r.error) for r in trace] == [("raised", "LookupError('no guard')")]


@pytest.mark.skipif(
    not PSM3, reason="eventless transitions and delays are python-statemachine 3.x"
)
def test_eventless_transitions_are_no_event_and_delayed_events_keep_their_cause() -> None:
    import time

    from statemachine import StateChart  # type: ignore[attr-defined, unused-ignore]

    class Timer(StateChart):  # type: ignore[misc, valid-type]
        idle = State(initial=True)
        armed = State()
        fired = State()
        done = State(final=True)

        arm = idle.to(armed)
        fire = armed.to(fired)
        fired.to(done)  # eventless: taken as soon as fired is entered

        def after_arm(self) -> None:
            self.send("fire", delay=20)

    class Clock(Orchestrator):
        timer: Timer

    c = Clock(Timer())
    with Trace(c) as trace:
        c.timer.arm()
        deadline = time.monotonic() + 5
        while "done" not in str(c.timer.current_state_value) and time.monotonic() < deadline:
            c.timer.send("tick")  # not allowed: runs the loop until the delayed event is due
    arm, *ticks_and_fire = trace.records
    fire = next(r for r in ticks_and_fire if r.event == "fire")
    assert fire.cause is arm
    # The eventless transition to done is no event: it follows fire's step.
    assert (fire.source, fire.target) == ("armed", "fired")
    assert c.timer.current_state_value == "done"
    assert {r.event for r in ticks_and_fire} <= {"tick", "fire"}


@pytest.mark.skipif(not PSM3, reason="eventless transitions are python-statemachine 3.x")
def test_async_eventless_transitions_are_no_event() -> None:
    from statemachine import StateChart  # type: ignore[attr-defined, unused-ignore]

    class Relay(StateChart):  # type: ignore[misc, valid-type]
        idle = State(initial=True)
        closing = State()
        closed = State(final=True)

        close = idle.to(closing)
        closing.to(closed)  # eventless

        async def after_close(self) -> None:
            pass

    class Board(Orchestrator):
        relay: Relay

    async def run() -> Trace:
        b = Board(Relay())
        await b.relay.activate_initial_state()
        with Trace(b) as trace:
            await b.relay.close()
        assert b.relay.current_state_value == "closed"
        return trace

    trace = asyncio.run(run())
    assert [(r.event, r.source, r.target) for r in trace] == [("close", "idle", "closing")]


def test_nothing_on_the_event_path_changes_while_nothing_is_attached() -> None:
    from statemachine.callbacks import CallbacksRegistry

    def psms_own(machine: Any) -> bool:
        engine_module = type(machine._engine).__module__  # noqa: SLF001
        return (
            engine_module.startswith("statemachine.engines")
            and type(machine._callbacks) is CallbacksRegistry  # noqa: SLF001
        )

    s = shop()
    assert all(psms_own(m) for m in s.machines.values())
    handle = s.add_listener(object())
    with Trace(s):
        assert not any(psms_own(m) for m in s.machines.values())
    handle.remove()
    assert all(psms_own(m) for m in s.machines.values())

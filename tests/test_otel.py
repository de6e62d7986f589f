"""OpenTelemetry instrumentation: one span per event, parented by the event that sent it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import pytest

try:
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode
except ImportError:  # pragma: no cover - the test extra installs the SDK
    if os.environ.get("CI") == "true":
        raise
    pytest.skip(
        "the OpenTelemetry SDK is not installed: pip install -e '.[test]'",
        allow_module_level=True,
    )
from statemachine.exceptions import TransitionNotAllowed

from statemachines_orchestrator import MachineBusyError
from statemachines_orchestrator.otel import Instrumentation, instrument
from statemachines_orchestrator.trace import Trace

from .observed import AsyncOrder, AsyncPayment, AsyncShipping, AsyncShop, shop
from .psm_line import PSM3


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def tree(spans: tuple[ReadableSpan, ...]) -> list[tuple[str, str | None]]:
    """Each span's name with its parent's name, in start order."""
    by_id = {span.context.span_id: span for span in spans if span.context is not None}
    ordered = sorted(spans, key=lambda span: span.start_time or 0)
    return [
        (
            span.name,
            None if span.parent is None else by_id[span.parent.span_id].name,
        )
        for span in ordered
    ]


def test_a_chain_across_machines_is_one_trace_under_the_applications_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    s = shop()
    tracer = provider.get_tracer("app")
    with instrument(s, provider), tracer.start_as_current_span("POST /orders"):
        s.order.place(amount=30)
    spans = exporter.get_finished_spans()
    assert tree(spans) == [
        ("POST /orders", None),
        ("order.place", "POST /orders"),
        ("payment.authorize", "order.place"),
        ("shipping.release", "payment.authorize"),
        ("order.finish", "shipping.release"),
        ("order.archive", "order.place"),
    ]
    assert len({span.context.trace_id for span in spans if span.context}) == 1


def test_span_attributes(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    s = shop()
    with instrument(s, provider):
        s.order.place(amount=30)
    place = next(span for span in exporter.get_finished_spans() if span.name == "order.place")
    assert dict(place.attributes or {}) == {
        "orchestrator.class": "Shop",
        "orchestrator.field": "order",
        "orchestrator.event": "place",
        "orchestrator.source": "cart",
        "orchestrator.target": "placed",
        "orchestrator.outcome": "taken",
    }
    assert place.status.status_code is StatusCode.UNSET


def test_an_exception_a_callback_raised_is_recorded(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    s = shop()
    with instrument(s, provider), pytest.raises(RuntimeError):
        s.shipping.crash()
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "RuntimeError('the truck broke down')"
    (event,) = span.events
    assert event.name == "exception"
    assert dict(event.attributes or {})["exception.message"] == "the truck broke down"
    assert dict(span.attributes or {})["orchestrator.outcome"] == "raised"


def test_an_event_not_allowed_is_no_error(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    s = shop()
    with instrument(s, provider), pytest.raises(TransitionNotAllowed):
        s.order.finish()
    (span,) = exporter.get_finished_spans()
    assert dict(span.attributes or {})["orchestrator.outcome"] == "not allowed"
    assert span.status.status_code is StatusCode.UNSET


def test_spans_the_callbacks_make_are_children_of_the_events_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracer = provider.get_tracer("app")

    s = shop()

    class Listener:
        def on_transition(self, field: str) -> None:
            with tracer.start_as_current_span(f"http call from {field}"):
                pass

    s.add_listener(Listener())
    with instrument(s, provider):
        s.payment.authorize(amount=0)
    assert tree(exporter.get_finished_spans()) == [
        ("payment.authorize", None),
        ("http call from payment", "payment.authorize"),
    ]


def test_detaching_stops_the_spans(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    s = shop()
    instrumentation = Instrumentation(s, provider)
    assert not instrumentation.attached
    instrumentation.attach()
    instrumentation.attach()  # twice: once
    assert instrumentation.attached
    s.payment.authorize(amount=0)
    instrumentation.detach()
    instrumentation.detach()
    s.payment.retry()
    assert [span.name for span in exporter.get_finished_spans()] == ["payment.authorize"]


def test_with_a_trace_at_the_same_time(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    s = shop()
    with Trace(s) as trace, instrument(s, provider):
        s.order.place(amount=30)
    assert len(trace) == len(exporter.get_finished_spans()) == 5


def test_detaching_from_a_callback_is_refused(provider: TracerProvider) -> None:
    s = shop()
    instrumentation = instrument(s, provider)

    class Detacher:
        def after_transition(self) -> None:
            instrumentation.detach()

    s.payment.add_listener(Detacher())
    with pytest.raises(MachineBusyError):
        s.payment.authorize(amount=0)
    instrumentation.detach()


def test_the_global_tracer_provider_by_default() -> None:
    s = shop()
    with instrument(s):  # OpenTelemetry's default provider makes non-recording spans
        s.payment.authorize(amount=0)


def test_async_chains_and_tasks(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    async def run() -> None:
        s = AsyncShop(AsyncOrder(), AsyncPayment(), AsyncShipping())
        for machine in s.machines.values():
            await machine.activate_initial_state()
        with instrument(s, provider):
            await s.order.place()
            await asyncio.gather(*s.payment.tasks)

    asyncio.run(run())
    assert sorted(tree(exporter.get_finished_spans())) == [
        ("order.finish", "shipping.release"),
        ("order.place", None),
        ("payment.authorize", "order.place"),
        ("shipping.release", "payment.authorize"),
    ]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )


def test_importing_the_package_loads_no_opentelemetry() -> None:
    result = run_python(
        "import sys, statemachines_orchestrator, statemachines_orchestrator.trace, "
        "statemachines_orchestrator.listeners\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_the_extra_the_error_says_what_to_install() -> None:
    result = run_python(
        "import sys\n"
        "sys.modules['opentelemetry'] = None\n"
        "try:\n"
        "    import statemachines_orchestrator.otel\n"
        "except Exception as exc:\n"
        "    from statemachines_orchestrator import OpenTelemetryNotInstalledError\n"
        "    print(isinstance(exc, (OpenTelemetryNotInstalledError, ImportError)), exc)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "True statemachines_orchestrator.otel needs OpenTelemetry's API: "
        "pip install 'statemachines-orchestrator[otel]'"
    )


def test_spans_of_records_begun_before_attaching_are_skipped(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    s = shop()
    instrumentation = Instrumentation(s, provider)
    Trace(s).attach()  # the machines are watched: the event begun is ended

    class Attacher:
        def on_transition(self) -> None:
            instrumentation.attach()

    s.payment.add_listener(Attacher())
    s.payment.authorize(amount=0)  # attached mid-event: that event has no span
    s.payment.retry()
    assert [span.name for span in exporter.get_finished_spans()] == ["payment.retry"]


@pytest.mark.skipif(not PSM3, reason="statecharts are python-statemachine 3.x")
def test_configurations_are_lists_of_values(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    from statemachine import State, StateChart  # type: ignore[attr-defined, unused-ignore]

    from statemachines_orchestrator import Orchestrator

    class Chart(StateChart):  # type: ignore[misc, valid-type]
        class both(State.Parallel):  # type: ignore[misc, name-defined]
            class left(State.Compound):  # type: ignore[misc, name-defined]
                a = State(initial=True)
                b = State()
                go = a.to(b)

            class right(State.Compound):  # type: ignore[misc, name-defined]
                c = State(initial=True)

    class Panel(Orchestrator):
        chart: Chart

    p = Panel(Chart())
    with instrument(p, provider):
        p.chart.send("go")
    (span,) = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert sorted(attributes["orchestrator.source"]) == ["a", "both", "c", "left", "right"]  # type: ignore[arg-type]
    assert sorted(attributes["orchestrator.target"]) == ["b", "both", "c", "left", "right"]  # type: ignore[arg-type]


@pytest.mark.skipif(not PSM3, reason="statecharts are python-statemachine 3.x")
def test_an_exception_a_statechart_turns_into_an_event_is_recorded(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    from statemachine import State, StateChart  # type: ignore[attr-defined, unused-ignore]

    from statemachines_orchestrator import Orchestrator

    class Chart(StateChart):  # type: ignore[misc, valid-type]
        idle = State(initial=True)
        broken = State(final=True)

        boom = idle.to(idle, on="explode")
        error_execution = idle.to(broken)

        def explode(self) -> None:
            msg = "boom"
            raise ValueError(msg)

    class Panel(Orchestrator):
        chart: Chart

    p = Panel(Chart())
    with instrument(p, provider):
        p.chart.send("boom")
    assert tree(exporter.get_finished_spans()) == [
        ("chart.boom", None),
        ("chart.error.execution", "chart.boom"),
    ]
    boom = next(span for span in exporter.get_finished_spans() if span.name == "chart.boom")
    assert boom.status.status_code is StatusCode.ERROR
    assert [event.name for event in boom.events] == ["exception"]


def test_an_instrumented_chain_of_events_is_not_kept_in_memory(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    import gc
    import weakref

    from statemachine import State, StateMachine

    from statemachines_orchestrator import Orchestrator, _attachments
    from statemachines_orchestrator.trace import TraceRecord

    class Ticker(StateMachine):
        idle = State(initial=True)
        tick = idle.to.itself()
        left = 20

        def after_tick(self, orc: Any) -> None:
            if self.left:
                self.left -= 1
                orc.ticker.tick()  # queued: the ticker is busy

    class Clock(Orchestrator):
        ticker: Ticker

    c = Clock(Ticker())
    seen: list[weakref.ref[TraceRecord]] = []
    last: list[TraceRecord] = []  # as a pending event's trigger would keep the newest

    def observe(record: TraceRecord) -> None:
        seen.append(weakref.ref(record))
        last[:] = [record]

    _attachments.add_observer(c, _attachments.Observer(observe), "a keeper of the newest")
    with instrument(c, provider):
        c.ticker.tick()
    gc.collect()
    assert len(seen) == 21
    assert [ref() for ref in seen] == [None] * 20 + [last[0]]
    assert last[0].cause is None  # its cause was kept by nothing
    spans = exporter.get_finished_spans()
    assert [parent for _, parent in tree(spans)] == [None] + ["ticker.tick"] * 20

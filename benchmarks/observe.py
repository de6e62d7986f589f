"""What tracing and instrumenting cost, against the simplest listener that records the same.

Every comparison runs the orchestrated machines of ``scenarios.INJECTION_SCENARIOS``:

- *trace*: the baseline is those machines with a hand-written
  python-statemachine listener whose ``after_transition`` appends (machine,
  event, source, target) to a list (no causes); the candidate is the same
  machines with a :class:`~statemachines_orchestrator.trace.Trace` attached.
- *OpenTelemetry*: the baseline is the machines with nothing attached; the
  candidate is the same machines instrumented with the OpenTelemetry SDK and an
  exporter that drops every span (through a ``SimpleSpanProcessor``). Reported
  without a target; skipped when the SDK is not installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from scenarios import INJECTION_SCENARIOS, InjectionScenario, _sampler

from statemachines_orchestrator.trace import Trace

if TYPE_CHECKING:
    from collections.abc import Sequence

    from measure import Sampler

    from statemachines_orchestrator import Orchestrator

__all__ = ["TRACE_TARGET", "Recording", "otel_samplers", "trace_samplers"]

TRACE_TARGET = 1.15
"""Largest acceptable median time ratio per event, traced over recorded by a plain listener."""


class Recording:
    """The simplest python-statemachine listener that records what a trace records (no causes)."""

    def __init__(self) -> None:
        self.records: list[tuple[object, object, object, object]] = []

    def after_transition(
        self, machine: object, event: object, source: object, target: object
    ) -> None:
        """Record the transition."""
        self.records.append((machine, event, source, target))


Attach = Callable[["Orchestrator"], object]
"""Attaches something to a new orchestrator; what it returns is kept alive."""


def _attached(orchestrator: type[Orchestrator], attach: Attach) -> Callable[[], list[Any]]:
    def build() -> list[Any]:
        machines = {name: cls() for name, cls in orchestrator.machine_classes.items()}
        orc = orchestrator(**machines)
        kept = attach(orc)
        result = list(machines.values())
        # The machines keep the orchestrator (their callbacks refer to it), the
        # orchestrator keeps nothing: keep what was attached with the machines.
        result[0].kept = kept
        return result

    return build


def _listened(orc: Orchestrator) -> object:
    recording = Recording()
    for machine in orc.machines.values():
        machine.add_listener(recording)
    return recording


def _traced(orc: Orchestrator) -> object:
    return Trace(orc).attach()


def trace_samplers(scenario: InjectionScenario) -> tuple[Sampler, Sampler]:
    """The plain recording listener, then a trace, on the scenario's orchestrated machines."""
    return (
        _sampler(_attached(scenario.orchestrator, _listened), scenario.drive),
        _sampler(_attached(scenario.orchestrator, _traced), scenario.drive),
    )


def otel_samplers(scenario: InjectionScenario) -> tuple[Sampler, Sampler] | None:
    """Nothing attached, then an OpenTelemetry instrumentation; ``None`` without the SDK."""
    try:
        from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
        from opentelemetry.sdk.trace.export import (  # noqa: PLC0415
            SimpleSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )

        from statemachines_orchestrator.otel import instrument  # noqa: PLC0415
    except ImportError:
        return None

    class Dropping(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:  # noqa: ARG002
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Dropping()))

    def instrumented(orc: Orchestrator) -> object:
        return instrument(orc, provider)

    return (
        _sampler(_attached(scenario.orchestrator, lambda _orc: None), scenario.drive),
        _sampler(_attached(scenario.orchestrator, instrumented), scenario.drive),
    )


SCENARIOS = INJECTION_SCENARIOS
"""The workloads traced and instrumented: the injection scenarios'."""

"""OpenTelemetry spans for the events an orchestrator's machines process.

Needs the ``otel`` extra (``pip install 'statemachines-orchestrator[otel]'``,
which installs ``opentelemetry-api`` only; the application chooses its SDK
and exporters). This is the only module of the package that imports
OpenTelemetry.

Every processed event becomes a span named ``<field>.<event>``, whose parent
is the span of the event whose callback sent it (in whichever machine, also
when the event waited in a queue), so that a chain of events across machines
is one trace; an event sent from outside every machine is a child of the
span current where it was sent (a web request's, say). While an event's
callbacks run, its span is the current span, so spans the callbacks make
(an HTTP call, a database query) are its children.

Attributes of each span: ``orchestrator.class``, ``orchestrator.field``,
``orchestrator.event``, ``orchestrator.source``, ``orchestrator.target`` and
``orchestrator.outcome`` (``taken``, ``not allowed`` or ``raised``). An
exception a callback raised is recorded on the span, whose status is then
``ERROR``.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from . import __version__, _attachments
from .exceptions import OpenTelemetryNotInstalledError

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace as otel_trace
except ImportError as exc:  # pragma: no cover - the tests run with the extra installed
    msg = (
        "statemachines_orchestrator.otel needs OpenTelemetry's API: "
        "pip install 'statemachines-orchestrator[otel]'"
    )
    raise OpenTelemetryNotInstalledError(msg) from exc

if TYPE_CHECKING:
    from ._records import TraceRecord
    from .orchestrator import Orchestrator

__all__ = ["Instrumentation", "instrument"]

_SCOPE = "statemachines_orchestrator"


def _attribute(value: Any) -> str | list[str]:
    if isinstance(value, tuple):
        return [str(v) for v in value]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    return str(value)


class Instrumentation(_attachments.Attachable):
    """Makes a span for every event the machines of one orchestrator process, while attached.

    Use it as a context manager, or call :meth:`attach` and :meth:`detach`;
    :func:`instrument` makes one and attaches it. Machines that join the
    orchestrator meanwhile are instrumented too.

    Args:
        orchestrator: The orchestrator to instrument.
        tracer_provider: Where the spans go; OpenTelemetry's global tracer
            provider when ``None``.

    Attributes:
        orchestrator: The orchestrator instrumented.
    """

    _what = "an instrumentation"

    def __init__(
        self, orchestrator: Orchestrator, tracer_provider: otel_trace.TracerProvider | None = None
    ) -> None:
        self.orchestrator = orchestrator
        self._tracer = otel_trace.get_tracer(_SCOPE, __version__, tracer_provider)
        self._class = type(orchestrator).__qualname__
        # Open and ended spans, by record: the parents of later events. An
        # entry lives as long as its record (kept by a trace, or as the cause
        # of a record or of a queued event).
        self._spans: weakref.WeakKeyDictionary[TraceRecord, Any] = weakref.WeakKeyDictionary()
        self._tokens: dict[int, object] = {}
        self._observer = _attachments.Observer(begin=self._begin, end=self._end)

    def _begin(self, record: TraceRecord) -> None:
        cause = record.cause
        parent = None if cause is None else self._spans.get(cause)
        context = None if parent is None else otel_trace.set_span_in_context(parent)
        span = self._tracer.start_span(
            f"{record.field}.{record.event}",
            context=context,
            attributes={
                "orchestrator.class": self._class,
                "orchestrator.field": record.field,
                "orchestrator.event": record.event,
                "orchestrator.source": _attribute(record.source),
            },
        )
        self._spans[record] = span
        self._tokens[id(record)] = otel_context.attach(otel_trace.set_span_in_context(span))

    def _end(self, record: TraceRecord, error: BaseException | None) -> None:
        span = self._spans.get(record)
        token = self._tokens.pop(id(record), None)
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
        if span is None:  # begun before the instrumentation was attached
            return
        span.set_attribute("orchestrator.target", _attribute(record.target))
        span.set_attribute("orchestrator.outcome", record.outcome)
        if error is not None:  # the outcome is "raised"
            span.record_exception(error)
            span.set_status(otel_trace.Status(otel_trace.StatusCode.ERROR, record.error))
        span.end()


def instrument(
    orchestrator: Orchestrator, tracer_provider: otel_trace.TracerProvider | None = None
) -> Instrumentation:
    """Make a span for every event ``orchestrator``'s machines process, from now on.

    Args:
        orchestrator: The orchestrator to instrument.
        tracer_provider: Where the spans go; OpenTelemetry's global tracer
            provider when ``None``.

    Returns:
        The attached :class:`Instrumentation`; its ``detach()`` stops it.
    """
    return Instrumentation(orchestrator, tracer_provider).attach()

"""The record of one processed event, shared by traces and instrumentations.

Made by :mod:`._psm._observe` for every event a watched machine processes,
and handed to every observer of that machine: a :class:`~.trace.Trace` keeps
them, the OpenTelemetry instrumentation turns each into a span. Public as
:class:`statemachines_orchestrator.trace.TraceRecord`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import weakref

__all__ = ["NOT_ALLOWED", "RAISED", "TAKEN", "TraceRecord"]

TAKEN = "taken"
"""The event took a transition."""

NOT_ALLOWED = "not allowed"
"""No transition of the current state(s) accepts the event (or every guard refused it)."""

RAISED = "raised"
"""A callback of the event (a guard, an action) raised an exception."""


class TraceRecord:
    """One event a machine processed: what it was, what it did, and what sent it.

    Attributes:
        field: The orchestrator's field name of the machine that processed it;
            for a member of a collection, ``items[0]`` or ``items['a']``.
        event: The event's name, as sent.
        arguments: The event's positional and keyword arguments as ``repr``,
            bounded in length (``"()"`` for none).
        source: The machine's state value before the event (a tuple of values
            when several states are active, on a statechart).
        target: The state value after it (the same as ``source`` when no
            transition was taken).
        started: When the machine began processing it (:func:`time.monotonic`).
        ended: When it was done with it (:func:`time.monotonic`).
        outcome: ``"taken"``, ``"not allowed"`` or ``"raised"``.
        error: ``repr`` of the exception a callback raised, or ``None``.
        cause: The record of the event whose callback sent this one, in
            whichever machine, or ``None`` when it was sent from outside
            every watched machine. A record refers to its cause weakly (a
            trace keeps its records, so the causes among them stay): a
            chain of events, such as a machine that keeps sending itself
            the next tick, is not kept whole in memory when only an
            instrumentation watches it.
    """

    __slots__ = (
        "__weakref__",
        "_cause",
        "_engine",
        "_exception",
        "_token",
        "arguments",
        "ended",
        "error",
        "event",
        "field",
        "outcome",
        "source",
        "started",
        "target",
    )

    field: str
    event: str
    arguments: str
    source: Any
    target: Any
    started: float
    ended: float
    outcome: str
    error: str | None
    # Kept by the engine hooks while the event is processed (see _psm._observe).
    _engine: Any
    _token: Any
    _exception: BaseException | None

    _cause: weakref.ref[TraceRecord] | None

    @property
    def cause(self) -> TraceRecord | None:
        """The record of the event whose callback sent this one (see the class docstring)."""
        ref = self._cause
        return None if ref is None else ref()

    def __repr__(self) -> str:
        return (
            f"<TraceRecord {self.field}.{self.event}{self.arguments} "
            f"{self.source!r} -> {self.target!r} {self.outcome}>"
        )

    @property
    def duration(self) -> float:
        """Seconds between :attr:`started` and :attr:`ended`."""
        return self.ended - self.started

    @property
    def depth(self) -> int:
        """How many causes lead to this record (0 for an event sent from outside)."""
        depth = 0
        cause = self.cause
        while cause is not None:
            depth += 1
            cause = cause.cause
        return depth

"""What type checkers see of listeners, traces and the OpenTelemetry instrumentation.

Checked by mypy and pyright (strict), and imported by ``tests/test_typing.py``;
see ``check_orchestrator_types.py`` for the conventions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from statemachine import State, StateMachine
from typing_extensions import assert_type

from statemachines_orchestrator import Orchestrator
from statemachines_orchestrator.diagram import to_mermaid
from statemachines_orchestrator.listeners import ListenerHandle, remove_listener
from statemachines_orchestrator.otel import Instrumentation, instrument
from statemachines_orchestrator.trace import Trace, TraceRecord


class Lamp(StateMachine):
    off = State(initial=True)
    on = State()

    toggle = off.to(on) | on.to(off)


class Room(Orchestrator):
    lamp: Lamp


class Printer:
    def after_transition(self, field: str) -> None:
        pass


room = Room(lamp=Lamp())
handle = room.add_listener(Printer())
assert_type(handle, ListenerHandle)
assert_type(handle.listeners, tuple[object, ...])
handle.remove()
remove_listener(room, Printer())

with Trace(room) as trace:
    room.lamp.toggle()
assert_type(trace, Trace)
assert_type(trace.records, list[TraceRecord])
record = trace.records[0]
assert_type(record.field, str)
assert_type(record.event, str)
assert_type(record.cause, "TraceRecord | None")
assert_type(record.error, "str | None")
assert_type(record.started, float)
assert_type(trace.to_jsonl(), str)
assert_type(trace.timeline(times=False), str)
assert_type(trace.mermaid(), str)
assert_type(to_mermaid(room, trace=trace), str)  # a Trace is what diagrams read

with instrument(room) as instrumentation:
    assert_type(instrumentation, Instrumentation)
    room.lamp.toggle()

if TYPE_CHECKING:
    Trace(Lamp())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    remove_listener(Lamp(), Printer())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    trace.timeline(True)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]  # noqa: FBT003

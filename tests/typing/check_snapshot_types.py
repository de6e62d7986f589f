"""What type checkers see of snapshots, restore() and atomic(); see check_orchestrator_types.py.

Checked by mypy and pyright (strict); ``tests/test_typing.py`` also runs it.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar

from statemachine import State, StateMachine
from typing_extensions import assert_type

from statemachines_orchestrator import (
    MachineDataNotSerializableError,
    Orchestrator,
    OrchestratorError,
    SnapshotError,
    SnapshotTypeError,
    SnapshotVersionError,
)
from statemachines_orchestrator.snapshot import (
    FORMAT_VERSION,
    MachineSnapshot,
    Snapshot,
    SnapshotFields,
    upgrade,
    version_of,
)


class CounterMachine(StateMachine):
    snapshot_fields: ClassVar[tuple[str, ...]] = ("count",)

    idle = State(initial=True)
    busy = State()

    work = idle.to(busy) | busy.to(idle)

    count = 0


class Bench(Orchestrator):
    counter: CounterMachine


class BigBench(Bench):
    spare: CounterMachine


bench = Bench(counter=CounterMachine())

# --------------------------------------------------------------------------- snapshot

data = bench.snapshot()
assert_type(data, dict[str, Any])
text: str = json.dumps(data)
assert_type(FORMAT_VERSION, int)

# --------------------------------------------------------------------------- restore

restored = Bench.restore(json.loads(text))
assert_type(restored, Bench)
assert_type(restored.counter, CounterMachine)
assert_type(Bench.restore(data, counter=CounterMachine()), Bench)
assert_type(BigBench.restore(BigBench(CounterMachine(), CounterMachine()).snapshot()), BigBench)

# --------------------------------------------------------------------------- atomic

assert_type(bench.atomic(), AbstractContextManager[None])
with bench.atomic():
    bench.counter.work()

# --------------------------------------------------------------------------- upgrades


@upgrade(Bench, version=1)
def to_v1(data: dict[str, Any], saved_version: int) -> dict[str, Any]:  # noqa: ARG001
    data["version"] = 1
    return data


# The decorator hands the function back unchanged.
assert_type(to_v1({"version": 0}, 0), dict[str, Any])
assert_type(version_of(Bench), int)

# --------------------------------------------------------------------------- the format

machine_entry: MachineSnapshot = {
    "class": "module:CounterMachine",
    "configuration": ["idle"],
    "history": {},
    "finished": False,
    "data": {"count": 0},
    "model": {},
}
whole: Snapshot = {
    "format": FORMAT_VERSION,
    "orchestrator": "module:Bench",
    "version": 1,
    "machines": {"counter": machine_entry},
}
fields: tuple[str, ...] = CounterMachine.snapshot_fields


def uses_fields(machine_class: type[SnapshotFields]) -> tuple[str, ...]:
    return machine_class.snapshot_fields


# Errors are caught as the root error and as the builtin they derive from.
as_root: OrchestratorError = SnapshotError("bad snapshot")
as_value: ValueError = SnapshotVersionError("newer")
as_type: TypeError = SnapshotTypeError("not a dict")
not_json: TypeError = MachineDataNotSerializableError("a set")

# --------------------------------------------------------------------------- expected errors

if TYPE_CHECKING:
    # restore() is a classmethod taking the data positionally only.
    Bench.restore(data=data)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    # A snapshot is a dict of JSON types, not a str.
    Bench.restore(text)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    # The upgrade function takes the data and the saved version.
    upgrade(Bench, version=2)(len)  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]

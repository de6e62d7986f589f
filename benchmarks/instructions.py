"""Count the instructions the collection and snapshot workloads execute, under callgrind.

Timing ratios on a busy shared machine move by several hundredths from one run
to the next; instruction counts do not. This script runs each workload of
``coordination.py`` and ``snapshot_scenarios.py`` in a fresh interpreter under
``valgrind --tool=callgrind``, subtracts an interpreter that only sets up, and
prints the ratios::

    python benchmarks/instructions.py            # needs valgrind on PATH

A ratio of instructions is not a ratio of time (cache misses are not counted),
so it complements ``run.py``; it does not replace it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CASES = (
    # (row, baseline mode, candidate mode, empty mode, members, repetitions)
    ("construction: 10 members", "build", "orc", "none", 10, 40),
    ("construction: 10,000 members", "build", "orc", "none", 10_000, 1),
    ("broadcast: 10 members", "hand", "send", "setup", 10, 200),
    ("broadcast: 1,000 members", "hand", "send", "setup", 1_000, 2),
    ("restore: 2 machines, vs pickle", "unpickle", "restore", "saved", 2, 500),
    ("snapshot: 2 machines, vs restore", "restore", "snapshot", "saved", 2, 500),
)


def workload(mode: str, members: int, repetitions: int) -> None:
    """Run one workload (in the interpreter valgrind watches)."""
    sys.path.insert(0, str(HERE))
    if mode in SNAPSHOT_MODES:
        _snapshot_workload(mode, repetitions)
        return
    from coordination import Lamps  # noqa: PLC0415 - after the path is set
    from scenarios import LampOrc  # noqa: PLC0415

    # Warm: first-use caches, and the broadcast module's import, are not measured.
    Lamps([LampOrc()]).send("toggle")
    kept: list[object] = []  # everything built stays alive, as in run.py
    if mode == "build":
        kept += ([LampOrc() for _ in range(members)] for _ in range(repetitions))
    elif mode == "orc":
        kept += (Lamps([LampOrc() for _ in range(members)]) for _ in range(repetitions))
    elif mode in ("hand", "send", "setup"):
        lamps = Lamps([LampOrc() for _ in range(members)])
        machines = list(lamps.lamps)
        for _ in range(repetitions if mode != "setup" else 0):
            if mode == "hand":
                for machine in machines:
                    machine.toggle()
            else:
                lamps.send("toggle")


SNAPSHOT_MODES = {
    "saved": "",
    "unpickle": "_unpickle",
    "restore": "_restore",
    "snapshot": "_snapshot",
}
"""Workloads of ``snapshot_scenarios.py``, by the function that runs one (``saved``: none)."""


def _snapshot_workload(mode: str, repetitions: int) -> None:
    import snapshot_scenarios  # noqa: PLC0415 - after the path is set

    # Warm: first-use caches of every path are not measured.
    for name in SNAPSHOT_MODES.values():
        if name:
            getattr(snapshot_scenarios, name)()
    if not SNAPSHOT_MODES[mode]:
        return
    action = getattr(snapshot_scenarios, SNAPSHOT_MODES[mode])
    kept = [action() for _ in range(repetitions)]  # alive until the end, as in run.py
    del kept


def _count(mode: str, members: int, repetitions: int) -> int:
    valgrind = shutil.which("valgrind")
    assert valgrind is not None  # noqa: S101 - checked by main()
    command = [
        valgrind,
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--workload",
        mode,
        str(members),
        str(repetitions),
    ]
    result = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    match = re.search(r"Collected : (\d+)", result.stderr)
    assert match is not None  # noqa: S101 - callgrind always reports it
    return int(match.group(1))


def main() -> int:
    """Print one line per case: the ratio of instructions, candidate over baseline."""
    if len(sys.argv) == 5 and sys.argv[1] == "--workload":  # noqa: PLR2004
        workload(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)")
        return 1
    for row, baseline, candidate, empty, members, repetitions in CASES:
        zero = _count(empty, members, 0 if empty == "none" else repetitions)
        base = _count(baseline, members, repetitions) - zero
        cand = _count(candidate, members, repetitions) - zero
        print(f"{row}: {cand / base:.4f} ({cand:,} / {base:,} instructions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

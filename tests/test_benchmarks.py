"""The benchmark suite runs (as a smoke test; its figures are not checked here)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_benchmarks_quick_run() -> None:
    """``python benchmarks/run.py --quick`` exits 0 and prints every scenario."""
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    for scenario in (
        "| injection: toggle, sync",
        "| injection: ping-pong, sync",
        "| injection: toggle, async",
        "| construction: 2 machines",
        "| memory: live orchestrator",
        "| restore: 2 machines, vs pickle",
        "| snapshot: 2 machines, vs restore",
        "| store: unit of work, SQLite file",
        "| injection: toggle on a member, sync",
        "| construction: 10 members",
        "| broadcast: 10 members",
        "| memory: orchestrator of 10 members",
    ):
        assert scenario in result.stdout

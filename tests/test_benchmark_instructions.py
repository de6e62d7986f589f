"""``benchmarks/instructions.py`` runs each of its workloads (without valgrind, here)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "mode",
    ["none", "build", "orc", "setup", "hand", "send", "saved", "unpickle", "restore", "snapshot"],
)
def test_workload_runs(mode: str) -> None:
    """Each workload exits 0 and prints nothing."""
    result = subprocess.run(  # noqa: S603 - the project's own script
        [sys.executable, "benchmarks/instructions.py", "--workload", mode, "3", "2"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout == ""

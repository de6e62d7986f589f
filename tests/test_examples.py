"""Every example scenario runs and tells its story."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def test_there_are_examples() -> None:
    """The e-commerce scenario, at least, is there."""
    assert "ecommerce.py" in [path.name for path in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(example: pathlib.Path) -> None:
    """The example exits 0 and prints what happens."""
    result = subprocess.run(  # noqa: S603 - the project's own example files
        [sys.executable, "-W", "error", str(example)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip()
    assert result.stderr == ""

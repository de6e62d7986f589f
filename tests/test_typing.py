"""The type-checker tests in tests/typing/: they run, and mypy and pyright accept them.

The checkers are not installed by the main test environments, so their tests
skip there; the nox ``typing`` session installs them and runs them directly.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TYPING_DIR = ROOT / "tests" / "typing"
CHECK_FILES = sorted(TYPING_DIR.glob("check_*.py"))


def _run(*args: str) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}"


def test_check_files_exist() -> None:
    assert CHECK_FILES


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda path: path.name)
def test_check_file_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What the checkers accept must also work: import each file as a module.
    name = f"_typing_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)


def test_mypy() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed")
    _run("mypy", str(TYPING_DIR))


def test_pyright() -> None:
    pytest.importorskip("pyright", reason="pyright is not installed")
    _run("pyright", "--project", str(ROOT), "--pythonpath", sys.executable, str(TYPING_DIR))

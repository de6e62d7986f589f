"""A python-statemachine release whose internals changed: warn once, inject another way.

Each case runs ``tests/reshaped_engine.py`` in a subprocess: it reshapes one
piece of the private structure the fast injection path relies on, imports the
package and builds orchestrators.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from statemachines_orchestrator import _psm
from statemachines_orchestrator._psm import _fallback

from .machines import Toggle
from .psm_line import PSM3
from .reshaped_engine import SHAPES

ROOT = Path(__file__).resolve().parent.parent

# Every callback kind python-statemachine's public prepare_event hook reaches.
PUBLIC_HOOK_KINDS = {
    "initial of a built machine",
    "validator",
    "guard",
    "guard expression",
    "before",
    "on",
    "after",
    "exit",
    "enter",
}
STATECHART_KINDS = {"done.state", "error.execution"}


def _run(shape: str) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - our own script, with the running interpreter
        [sys.executable, "-m", "tests.reshaped_engine", shape],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.parametrize("shape", sorted(set(SHAPES) - {"extra_closure_cell"}))
def test_unrecognised_internals_warn_once_and_still_inject(shape: str) -> None:
    """The import succeeds, warns once naming the version; 3.x injects through the public
    hook, 2.x refuses to build with an error naming the version and the fix."""
    report = _run(shape)
    assert report["fast"] is False
    warned = [w for w in report["warnings"] if w["category"] == "EngineInternalsWarning"]
    assert len(warned) == 1, report["warnings"]
    assert len(report["warnings"]) == 1, report["warnings"]
    message = warned[0]["message"]
    assert f"python-statemachine {_psm.VERSION} (" in message
    if PSM3:
        assert "through the public prepare_event hook" in message
        reached = report["reached"]
        assert set(reached) == PUBLIC_HOOK_KINDS | STATECHART_KINDS
        assert all(reached.values()), reached
    else:
        assert "orchestrators cannot be built" in message
        assert report["refused"].startswith(
            f"statemachines-orchestrator cannot inject the orchestrator on python-statemachine "
            f"{_psm.VERSION}: its internals are not the ones this release knows ("
        )
        assert "pip install 'python-statemachine>=2.5,<2.7'" in report["refused"]


def test_harmless_reshape_keeps_the_fast_path() -> None:
    """A closure that gains a cell is still recognised: no warning, every kind reached."""
    report = _run("extra_closure_cell")
    assert report["fast"] is True
    assert report["warnings"] == []
    expected = PUBLIC_HOOK_KINDS | (STATECHART_KINDS if PSM3 else set())
    assert set(report["reached"]) == expected
    assert all(report["reached"].values())


def test_installed_release_uses_the_fast_path() -> None:
    """The supported releases are recognised."""
    assert _psm.FAST, _psm.UNRECOGNISED
    assert _psm.UNRECOGNISED is None


@pytest.mark.skipif(not PSM3, reason="the public prepare_event hook exists from 3.0")
def test_fallback_injector_supplies_the_orchestrator_until_unwired() -> None:
    """The public-hook injection, driven directly: wired, rewired, then unwired."""

    machine = Toggle()
    first, second = object(), object()
    _fallback.wire(machine, first, "orc")
    machine.switch()
    _fallback.wire(machine, second, "orc")  # joins another: the same injector
    machine.switch()
    _fallback.unwire(machine)
    machine.switch()
    assert machine.seen == [first, second, None]
    assert len([x for x in machine.active_listeners if isinstance(x, _fallback.Injector)]) == 1
    _fallback.unwire(Toggle())  # never wired: nothing to do

"""Pytest configuration. Shared helpers live in modules of their own (``psm_line``,
``machines``): tests import nothing from here, but may ask for its fixtures."""

from __future__ import annotations

import pytest

from statemachines_orchestrator._psm import _deferred


@pytest.fixture
def eager_wiring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every machine wired while its orchestrator is built, none left for its first use.

    Deferral off (``_deferred.PROBLEM`` set) and the plans it learned forgotten,
    so that nothing is planned while the test runs; they are learned again after.
    """
    monkeypatch.setattr(_deferred, "PROBLEM", "off for this test")
    for plans in _deferred._PLANS.values():  # noqa: SLF001 - generated __init__s hold these dicts
        plans.clear()

"""Internals of the store package that the contract suite reaches only by chance."""

from __future__ import annotations

import asyncio
import gc
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from statemachines_orchestrator.store import _base

from . import backends
from .shop import Shop


def test_versions_are_forgotten_with_their_orchestrator() -> None:
    versions = _base._Versions()  # noqa: SLF001
    shop = Shop()
    versions.remember(shop, "t", "k", 1)
    versions.remember(shop, "t", "k", 2)  # replaces the first entry
    assert versions.lookup(shop) == ("t", "k", 2)
    other = Shop()
    assert versions.lookup(other) is None
    del shop
    gc.collect()
    assert versions._entries == {}  # noqa: SLF001


class _SyncMachine:
    """Stands for a machine whose ``activate_initial_state`` is not a coroutine."""

    def __init__(self) -> None:
        self.current_state_value: Any = None

    def activate_initial_state(self) -> None:
        self.current_state_value = "ready"


def test_initial_states_are_activated_for_machines_without_one() -> None:
    idle, active, member = _SyncMachine(), _SyncMachine(), _SyncMachine()
    active.current_state_value = "busy"

    class Fake(SimpleNamespace):
        __machine_fields__: ClassVar[dict[str, None]] = {
            "idle": None,
            "active": None,
            "more": None,
        }

    orc: Any = Fake(idle=idle, active=active, more=[member])
    asyncio.run(_base.activate_initial_states(orc))
    assert (idle.current_state_value, active.current_state_value) == ("ready", "busy")
    assert member.current_state_value == "ready"  # members of collections too


def test_postgresql_tests_skip_locally_and_fail_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(backends.POSTGRES_ENV, raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL server: SMO_POSTGRES_URL"):
        backends.postgres_url()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true, but no PostgreSQL server"):
        backends.postgres_url()
    monkeypatch.setenv(backends.POSTGRES_ENV, "postgresql://u@127.0.0.1:5/db")
    assert backends.postgres_url() == "postgresql://u@127.0.0.1:5/db"

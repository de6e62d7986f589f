"""The core never imports SQLAlchemy or a database driver; a missing extra names its fix."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from statemachines_orchestrator import OrchestratorError, StoreExtraMissingError

ROOT = Path(__file__).resolve().parent.parent.parent
DRIVERS = ("sqlalchemy", "sqlite3", "_sqlite3", "aiosqlite", "psycopg", "asyncpg", "greenlet")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_package_and_the_memory_store_import_no_driver() -> None:
    result = _python(
        f"""
        import sys
        from statemachine import State, StateMachine
        from statemachines_orchestrator import Orchestrator, built
        from statemachines_orchestrator.store import MemoryStore, AsyncMemoryStore, retry

        class Lamp(StateMachine):
            off = State(initial=True)
            on = State()
            switch = off.to(on) | on.to(off)

        class Room(Orchestrator):
            lamp: Lamp = built(factory=Lamp)

        store = MemoryStore()

        def switch():
            with store.transaction(Room, "hall") as room:
                room.lamp.switch()

        retry(switch)
        assert store.load(Room, "hall").lamp.current_state_value == "on"
        Room.restore(Room().snapshot())
        # coverage.py, when it measures this subprocess, keeps its data in
        # SQLite itself: sqlite3 is then coverage's, not ours (the check runs
        # in full without coverage: the README command, wheel_tests).
        drivers = set({DRIVERS!r})
        if "coverage" in sys.modules:
            drivers -= {{"sqlite3", "_sqlite3"}}
        loaded = sorted(name for name in sys.modules if name.split(".")[0] in drivers)
        print(loaded)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_sqlalchemy_the_sql_store_says_what_to_install() -> None:
    result = _python(
        """
        import sys
        sys.modules["sqlalchemy"] = None  # as if it were not installed
        from statemachines_orchestrator import OrchestratorError, StoreExtraMissingError
        try:
            import statemachines_orchestrator.store.sqlalchemy
        except StoreExtraMissingError as error:
            assert isinstance(error, (OrchestratorError, ImportError))
            print(error)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "the SQLAlchemy store needs SQLAlchemy 2, which is not installed: "
        "pip install 'statemachines-orchestrator[sqlalchemy]'"
    )


def test_without_greenlet_the_async_sql_store_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("sqlalchemy")
    from statemachines_orchestrator.store import sqlalchemy as module

    real = module.importlib.util.find_spec
    monkeypatch.setattr(
        module.importlib.util,
        "find_spec",
        lambda name, *args: None if name == "greenlet" else real(name, *args),
    )
    with pytest.raises(StoreExtraMissingError) as info:
        module.AsyncSQLAlchemyStore("sqlite+aiosqlite:///never.db")
    assert str(info.value) == (
        "AsyncSQLAlchemyStore needs greenlet, for SQLAlchemy's asyncio extension: "
        "pip install 'sqlalchemy[asyncio]'"
    )
    assert isinstance(info.value, OrchestratorError)
    assert isinstance(info.value, ImportError)
    assert not (ROOT / "never.db").exists()

"""The load test (benchmarks/load_test.py) at a small size, and the checks it makes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .backends import postgres_url

if TYPE_CHECKING:
    from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent.parent
BENCHMARKS = ROOT / "benchmarks"

pytest.importorskip("sqlalchemy")


def _load_test(*args: str) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(BENCHMARKS / "load_test.py"), "--json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _check(report: dict[str, Any], events: int) -> None:
    assert report["ok"], report["problems"]
    assert report["problems"] == []
    assert report["workers"] == 4
    assert report["committed"] + report["gave_up"] == events
    assert report["units_of_work_run"] == report["committed"] + report["conflicts"]
    assert report["events_per_second"] > 0


def test_load_test_on_sqlite() -> None:
    events = 200
    report = _load_test("--backend", "sqlite", "--workers", "4", "--events", str(events))
    _check(report, events)
    assert report["backend"] == "sqlite"


def test_load_test_on_postgresql() -> None:
    url = "postgresql+psycopg://" + postgres_url().split("://", 1)[1]
    events = 200
    report = _load_test("--url", url, "--workers", "4", "--events", str(events))
    _check(report, events)
    assert report["backend"] == "postgresql+psycopg"


@pytest.fixture
def load_test(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import load_test as module

    return module


def test_the_checks_catch_lost_double_and_unreported_events(
    load_test: ModuleType, tmp_path: Path
) -> None:
    """The verifier is not a rubber stamp: tampered reports are caught."""
    from statemachines_orchestrator.store.sqlalchemy import SQLAlchemyStore

    url = f"sqlite:///{tmp_path / 'v.db'}"
    store = SQLAlchemyStore(url, table_name="verify")
    report = load_test.WorkerReport(index=0)
    for number, key in enumerate(["a", "a", "b"]):
        unit = store.transaction(load_test.Ledger, key)
        with unit as ledger:
            ledger.account.deposit(event_id=f"e{number}", amount=1)
        report.committed.append((f"e{number}", key, unit.saved_version))
        report.calls += 1
    store.close()
    assert load_test.verify(url, "verify", [report]) == []

    lost = load_test.WorkerReport(0, [*report.committed, ("e9", "b", 2)], calls=4)
    assert load_test.verify(url, "verify", [lost]) == [
        "b: lost ['e9'], unreported []",
        "b: version 1, commits saved versions [1, 2]",
    ]
    unreported = load_test.WorkerReport(0, report.committed[:2], calls=2)
    assert load_test.verify(url, "verify", [unreported]) == [
        "b: lost [], unreported ['e2']",
        "b: version 1, commits saved versions []",
    ]
    twice = load_test.WorkerReport(0, [*report.committed, ("e0", "a", 3)], calls=4)
    assert load_test.verify(url, "verify", [twice]) == [
        "a: lost ['e0'], unreported []",
        "a: version 2, commits saved versions [1, 2, 3]",
    ]
    given_up = load_test.WorkerReport(0, report.committed, [("e1", "a")], calls=4, conflicts=1)
    assert "e1 was reported as given up, but it is booked" in load_test.verify(
        url, "verify", [given_up]
    )
    miscounted = load_test.WorkerReport(0, report.committed, calls=7)
    assert load_test.verify(url, "verify", [miscounted]) == [
        "worker 0: 7 calls, 3 committed, 0 conflicts, 0 given up do not add up"
    ]


def test_the_checks_catch_corrupt_and_inconsistent_rows(
    load_test: ModuleType, tmp_path: Path
) -> None:
    from statemachines_orchestrator.store.sqlalchemy import SQLAlchemyStore

    url = f"sqlite:///{tmp_path / 'c.db'}"
    store = SQLAlchemyStore(url, table_name="verify")
    type_name = "ledger:Ledger"
    report = load_test.WorkerReport(index=0)
    for number, key in enumerate(["a", "b", "c"]):
        with store.transaction(load_test.Ledger, key) as ledger:
            ledger.account.deposit(event_id=f"e{number}", amount=1)
        report.committed.append((f"e{number}", key, 1))
        report.calls += 1
    data = store.read_document(type_name, "a").data  # type: ignore[union-attr]
    data["machines"]["account"]["data"]["balance"] = 5
    data["machines"]["audit"]["configuration"] = ["even"]
    store.update_document(type_name, "a", data, 1)
    store.update_document(type_name, "b", {"not": "a snapshot"}, 1)
    data = store.read_document(type_name, "c").data  # type: ignore[union-attr]
    data["machines"]["account"]["data"]["seen"] = ["e0"]  # booked under a and c
    store.update_document(type_name, "c", data, 1)
    store.close()
    problems = load_test.verify(url, "verify", [report])
    assert problems[:2] == [
        "a: version 2, commits saved versions [1]",
        "a: balance 5 != 1 events",
    ]
    assert problems[2] == "a: audit machine out of step with the account"
    assert problems[3].startswith("b: the row does not restore: ")
    assert problems[4:] == [
        "e0 booked twice (a, c)",
        "c: lost ['e2'], unreported ['e0']",
        "c: version 2, commits saved versions [1]",
    ]

"""Load test of the SQL stores: worker processes, one shared table, a few hot keys.

Run from the repository root (the package installed, or not: the script falls
back to ``src/``)::

    python benchmarks/load_test.py --backend sqlite --workers 4 --events 2000 --keys 4
    python benchmarks/load_test.py --backend postgresql --url postgresql+psycopg://...
    python benchmarks/load_test.py --backend sqlite --scaling      # 1, 2 and 4 workers

Every worker process opens its own store and, for each of its share of the
events, runs one unit of work on a key chosen at random among ``--keys``
(``with store.transaction(Ledger, key) as ledger: ledger.account.deposit(...)``)
inside :func:`~statemachines_orchestrator.store.retry`. Afterwards the script
reads every row back and checks that each committed event is booked exactly
once, that no event is booked that was not reported committed, that each
row's version counts its commits (no update lost), that every row restores
(none corrupt), and that every conflict was either retried or reported. It
prints a report (``--json``: one JSON object) and exits 1 when a check fails.

PostgreSQL's URL comes from ``--url`` or from ``SMO_POSTGRES_URL`` (what
``.ci/pg-start`` exports). Only loopback servers are meant: it is a test.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.context
import os
import random
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import statemachines_orchestrator
except ImportError:  # not installed: use the source tree next to this script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import statemachines_orchestrator

from ledger import Ledger

from statemachines_orchestrator import ConcurrentUpdateError
from statemachines_orchestrator.store import retry, type_name_of

if TYPE_CHECKING:
    from collections.abc import Sequence
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier

    from sqlalchemy import ColumnElement, Select

    from statemachines_orchestrator.store import Document
    from statemachines_orchestrator.store.sqlalchemy import SQLAlchemyStore

POSTGRES_ENV = "SMO_POSTGRES_URL"


@dataclass
class Job:
    """What one worker process is told to do."""

    index: int
    url: str
    table_name: str
    events: list[tuple[str, str]]  # (event id, key)
    attempts: int
    backoff: float


@dataclass
class WorkerReport:
    """What one worker did."""

    index: int
    committed: list[tuple[str, str, int]] = field(default_factory=list)  # id, key, version
    gave_up: list[tuple[str, str]] = field(default_factory=list)  # id, key
    calls: int = 0  # units of work run, retries included
    conflicts: int = 0  # ConcurrentUpdateErrors seen by on_conflict
    seconds: float = 0.0


def sa_select(*columns: ColumnElement[Any]) -> Select[Any]:
    """``sqlalchemy.select``, imported when needed."""
    import sqlalchemy  # noqa: PLC0415

    return sqlalchemy.select(*columns)


def _store(url: str, table_name: str) -> SQLAlchemyStore:
    from statemachines_orchestrator.store.sqlalchemy import SQLAlchemyStore  # noqa: PLC0415

    # A long busy timeout: on SQLite, writers queue for the lock rather than conflict.
    return SQLAlchemyStore(url, table_name=table_name, busy_timeout=30)


def work(job: Job, barrier: Barrier) -> WorkerReport:
    """Run one worker's events; called in a worker process."""
    store = _store(job.url, job.table_name)
    report = WorkerReport(job.index)

    def conflict(_error: ConcurrentUpdateError, _attempt: int) -> None:
        report.conflicts += 1

    try:
        barrier.wait()
        started = time.perf_counter()
        for event_id, key in job.events:

            def deposit(event_id: str = event_id, key: str = key) -> int:
                report.calls += 1
                unit = store.transaction(Ledger, key)
                with unit as ledger:
                    ledger.account.deposit(event_id=event_id, amount=1)
                assert unit.saved_version is not None  # noqa: S101
                return unit.saved_version

            try:
                version = retry(
                    deposit, attempts=job.attempts, backoff=job.backoff, on_conflict=conflict
                )
            except ConcurrentUpdateError:
                report.gave_up.append((event_id, key))
            else:
                report.committed.append((event_id, key, version))
        report.seconds = time.perf_counter() - started
    finally:
        store.close()
    return report


def _run_worker(job: Job, barrier: Barrier, results: Queue[dict[str, Any]]) -> None:
    try:
        results.put(asdict(work(job, barrier)))
    except BaseException:
        results.put({"index": job.index, "error": traceback.format_exc()})
        raise


def plan(workers: int, events: int, keys: int, seed: int) -> list[list[tuple[str, str]]]:
    """Share ``events`` among ``workers``, each event on one of ``keys`` keys at random."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible plan, not cryptography
    key_names = [f"account-{k}" for k in range(keys)]
    shares: list[list[tuple[str, str]]] = [[] for _ in range(workers)]
    for number in range(events):
        shares[number % workers].append((f"e{number}", rng.choice(key_names)))
    return shares


def _check_row(
    key: str, document: Document, commits: list[tuple[str, int]], booked: dict[str, str]
) -> list[str]:
    """The problems of one row, given the commits reported for its key."""
    try:
        ledger = Ledger.restore(document.data)
    except Exception as error:  # noqa: BLE001 - reported as a corrupt row
        return [f"{key}: the row does not restore: {error}"]
    problems: list[str] = []
    seen = ledger.account.seen
    for event_id in seen:
        if event_id in booked:
            problems.append(f"{event_id} booked twice ({booked[event_id]}, {key})")
        booked[event_id] = key
    expected = sorted(event_id for event_id, _ in commits)
    if sorted(seen) != expected:
        # Multisets: an event reported committed twice but booked once is lost once.
        lost = sorted((Counter(expected) - Counter(seen)).elements())
        extra = sorted((Counter(seen) - Counter(expected)).elements())
        problems.append(f"{key}: lost {lost[:5]}, unreported {extra[:5]}")
    versions = sorted(version for _, version in commits)
    if versions != list(range(1, len(commits) + 1)) or document.version != len(commits):
        problems.append(
            f"{key}: version {document.version}, commits saved versions {versions[:10]}"
        )
    if ledger.account.balance != len(seen):
        problems.append(f"{key}: balance {ledger.account.balance} != {len(seen)} events")
    if ledger.audit.current_state_value != ("odd" if len(seen) % 2 else "even"):
        problems.append(f"{key}: audit machine out of step with the account")
    return problems


def _check_counts(reports: list[WorkerReport]) -> list[str]:
    # Every call ends in a commit or a conflict; a conflict is retried or given up.
    return [
        f"worker {r.index}: {r.calls} calls, {len(r.committed)} committed, "
        f"{r.conflicts} conflicts, {len(r.gave_up)} given up do not add up"
        for r in reports
        if r.calls != len(r.committed) + r.conflicts
    ]


def verify(url: str, table_name: str, reports: list[WorkerReport]) -> list[str]:
    """Read every row back; return the problems found (none: the run is sound)."""
    problems: list[str] = []
    store = _store(url, table_name)
    try:
        by_key: dict[str, list[tuple[str, int]]] = {}
        for r in reports:
            for event_id, key, version in r.committed:
                by_key.setdefault(key, []).append((event_id, version))
        # Every row of the table, not only those of reported commits: a row
        # holding an event no worker reported committed is a failure too.
        with store.engine.connect() as connection:
            for key in connection.execute(sa_select(store.table.c.key)).scalars():
                by_key.setdefault(key, [])
        booked: dict[str, str] = {}
        for key, commits in sorted(by_key.items()):
            document = store.read_document(type_name_of(Ledger), key)
            if document is None:
                problems.append(f"{key}: no row, though {len(commits)} events were committed")
            else:
                problems += _check_row(key, document, commits, booked)
        gave_up = {event_id for r in reports for event_id, _ in r.gave_up}
        problems += [
            f"{event_id} was reported as given up, but it is booked"
            for event_id in sorted(gave_up & set(booked))
        ]
        problems += _check_counts(reports)
    finally:
        store.close()
    return problems


def _process_context() -> multiprocessing.context.BaseContext:
    """Fresh worker processes (never a fork of this one's connections), started fast.

    A fork server imports the package and SQLAlchemy once and forks every
    worker from there; where there is none (Windows), workers are spawned.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["ledger", "statemachines_orchestrator.store.sqlalchemy"])
        return context
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def run(  # noqa: PLR0913 - the load test's knobs, keyword-only
    url: str,
    *,
    workers: int,
    events: int,
    keys: int,
    attempts: int = 50,
    backoff: float = 0.002,
    seed: int = 8,
) -> dict[str, Any]:
    """Run the load test once on a new table of ``url`` and return the report."""
    table_name = f"smo_load_{uuid.uuid4().hex[:10]}"
    setup = _store(url, table_name)
    setup.create_table()
    context = _process_context()
    barrier = context.Barrier(workers)
    results = context.Queue()
    shares = plan(workers, events, keys, seed)
    processes = [
        context.Process(
            target=_run_worker,
            args=(Job(i, url, table_name, shares[i], attempts, backoff), barrier, results),
        )
        for i in range(workers)
    ]
    try:
        started = time.perf_counter()
        for process in processes:
            process.start()
        raw = [results.get(timeout=600) for _ in processes]
        errors = [r["error"] for r in raw if "error" in r]
        if errors:
            raise RuntimeError("a worker failed:\n" + "\n".join(errors))
        for process in processes:
            process.join(timeout=60)
        wall = time.perf_counter() - started
        reports = [
            WorkerReport(
                index=r["index"],
                committed=[tuple(c) for c in r["committed"]],  # type: ignore[misc]
                gave_up=[tuple(g) for g in r["gave_up"]],  # type: ignore[misc]
                calls=r["calls"],
                conflicts=r["conflicts"],
                seconds=r["seconds"],
            )
            for r in sorted(raw, key=lambda r: r["index"])
        ]
        problems = verify(url, table_name, reports)
        failed = [p.exitcode for p in processes if p.exitcode != 0]
        if failed:
            problems.append(f"worker processes exited with {failed}")
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
        setup.table.drop(setup.engine, checkfirst=True)
        setup.close()
    committed = sum(len(r.committed) for r in reports)
    calls = sum(r.calls for r in reports)
    conflicts = sum(r.conflicts for r in reports)
    gave_up = sum(len(r.gave_up) for r in reports)
    busy = max(r.seconds for r in reports)
    return {
        "backend": url.split(":", 1)[0],
        "workers": workers,
        "events": events,
        "keys": keys,
        "committed": committed,
        "gave_up": gave_up,
        "units_of_work_run": calls,
        "conflicts": conflicts,
        "retries": conflicts - gave_up,
        "conflict_rate": conflicts / calls if calls else 0.0,
        "retry_rate": (conflicts - gave_up) / events if events else 0.0,
        "seconds": busy,
        "wall_seconds": wall,
        "events_per_second": committed / busy if busy else 0.0,
        "events_per_second_per_worker": committed / busy / workers if busy else 0.0,
        "problems": problems,
        "ok": not problems and committed + gave_up == events,
    }


def _url(backend: str, url: str | None, folder: str) -> str:
    if url:
        return url
    if backend == "sqlite":
        return f"sqlite:///{Path(folder) / 'load.db'}"
    env = os.environ.get(POSTGRES_ENV)
    if not env:
        sys.exit(f"--backend postgresql needs --url or {POSTGRES_ENV} (see .ci/pg-start)")
    return "postgresql+psycopg://" + env.split("://", 1)[1]


def _line(report: dict[str, Any]) -> str:
    return (
        f"| {report['backend']:<20} | {report['workers']:>7} | {report['committed']:>6} "
        f"| {report['events_per_second']:>8.0f} | {report['events_per_second_per_worker']:>10.0f} "
        f"| {report['conflict_rate']:>8.1%} | {report['retry_rate']:>10.1%} "
        f"| {report['gave_up']:>7} | {'ok' if report['ok'] else 'FAILED':<6} |"
    )


HEADER = (
    "| backend              | workers | events | events/s | per worker | conflicts "
    "| retried/ev | gave up | checks |\n"
    "|----------------------|--------:|-------:|---------:|-----------:|----------:"
    "|-----------:|--------:|--------|"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the load test, print the report, and return the exit status."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--url", help="a SQLAlchemy URL (default: a new SQLite file)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--keys", type=int, default=4)
    parser.add_argument("--attempts", type=int, default=50, help="retry() attempts per event")
    parser.add_argument("--backoff", type=float, default=0.002, help="retry() backoff, seconds")
    parser.add_argument("--scaling", action="store_true", help="run with 1, 2 and 4 workers")
    parser.add_argument("--json", action="store_true", help="print one JSON object per run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = _url(args.backend, args.url, folder)
        counts = [1, 2, 4] if args.scaling else [args.workers]
        reports = [
            run(
                url,
                workers=count,
                events=args.events,
                keys=args.keys,
                attempts=args.attempts,
                backoff=args.backoff,
            )
            for count in counts
        ]
    if args.json:
        for report in reports:
            print(json.dumps(report))
    else:
        print(f"statemachines-orchestrator {statemachines_orchestrator.__version__}")
        print(f"{args.events} events on {args.keys} keys, retry(attempts={args.attempts})")
        print(HEADER)
        for report in reports:
            print(_line(report))
        for report in reports:
            for problem in report["problems"]:
                print(f"PROBLEM ({report['workers']} workers): {problem}")
    return 0 if all(report["ok"] for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The store benchmark: a unit of work against a hand-written read-modify-write.

Both sides handle the same row of the same table on the same database, one
event per iteration:

- *by hand*: SQLAlchemy Core. Read the JSON snapshot and version, build the
  two machines on a model that holds each one's saved state (so that no entry
  action runs), copy their data in, send the event, copy the state and data
  back into the JSON, and write it with ``UPDATE ... WHERE version = :loaded``,
  checking the row count: the same version check the store makes, written by
  hand for one orchestrator class.
- *unit of work*: ``with store.transaction(Meter, key) as meter: meter.counter.tick()``.

The machines differ only in how the first reaches the second (an attribute set
by hand, or the orchestrator), as in the injection benchmarks.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ClassVar

from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator, built
from statemachines_orchestrator.store import type_name_of

if TYPE_CHECKING:
    from measure import Clock, Sampler
    from sqlalchemy import Engine, Table

    from statemachines_orchestrator.store.sqlalchemy import SQLAlchemyStore

__all__ = ["POSTGRES_ENV", "StoreScenario", "store_scenarios"]

POSTGRES_ENV = "SMO_POSTGRES_URL"


class _Counter(StateMachine):
    """Two states, one event that flips them, and a count of the flips."""

    snapshot_fields: ClassVar[tuple[str, ...]] = ("count",)

    low = State(initial=True)
    high = State()

    tick = low.to(high) | high.to(low)

    count = 0

    def on_tick(self) -> None:
        """Count the event."""
        self.count += 1


class _Echo(StateMachine):
    """Flips when the counter ticks."""

    left = State(initial=True)
    right = State()

    ping = left.to(right) | right.to(left)


class CounterOrc(_Counter):
    """Reaches the echo through the orchestrator."""

    def after_tick(self, orc: Meter) -> None:
        """Ping the echo."""
        orc.echo.ping()


class CounterByHand(_Counter):
    """Reaches the echo through an attribute set by hand."""

    echo: _Echo

    def after_tick(self, machine: CounterByHand) -> None:
        """Ping the echo."""
        machine.echo.ping()


class Meter(Orchestrator):
    """A counter and its echo."""

    counter: CounterOrc = built(factory=CounterOrc)
    echo: _Echo = built(factory=_Echo)


class _Model:
    """Holds a machine's state for the by-hand side (python-statemachine's ``model``)."""

    def __init__(self, state: str) -> None:
        self.state = state


@dataclass
class StoreScenario:
    """One database: a sampler for each side, and how to clean up."""

    name: str
    target: float
    baseline: Sampler
    candidate: Sampler
    close: Callable[[], None]


def _by_hand(engine: Engine, table: Table, key: str) -> Sampler:
    import sqlalchemy as sa  # noqa: PLC0415 - the benchmark imports SQLAlchemy only if asked

    c = table.c
    type_name = type_name_of(Meter)
    select = sa.select(c.snapshot, c.version).where(
        c.orchestrator_type == sa.bindparam("p_type"), c.key == sa.bindparam("p_key")
    )
    update = (
        table.update()
        .where(
            c.orchestrator_type == sa.bindparam("p_type"),
            c.key == sa.bindparam("p_key"),
            c.version == sa.bindparam("p_version"),
        )
        .values(
            snapshot=sa.bindparam("p_snapshot", type_=c.snapshot.type),
            version=sa.bindparam("p_new_version"),
            updated_at=sa.bindparam("p_now", type_=c.updated_at.type),
        )
    )

    def once() -> None:
        with engine.connect() as connection:
            data, version = connection.execute(select, {"p_type": type_name, "p_key": key}).one()
        machines = data["machines"]
        saved_counter, saved_echo = machines["counter"], machines["echo"]
        counter = CounterByHand(model=_Model(saved_counter["configuration"][0]))
        counter.count = saved_counter["data"]["count"]
        counter.echo = _Echo(model=_Model(saved_echo["configuration"][0]))
        counter.tick()
        saved_counter["configuration"] = [counter.current_state_value]
        saved_counter["data"] = {"count": counter.count}
        saved_echo["configuration"] = [counter.echo.current_state_value]
        with engine.begin() as connection:
            matched = connection.execute(
                update,
                {
                    "p_type": type_name,
                    "p_key": key,
                    "p_snapshot": data,
                    "p_now": datetime.now(timezone.utc),
                    "p_version": version,
                    "p_new_version": version + 1,
                },
            ).rowcount
        if matched != 1:
            raise RuntimeError(key)

    def sample(n: int, clock: Clock) -> int:
        start = clock()
        for _ in range(n):
            once()
        return clock() - start

    return sample


def _unit_of_work(store: SQLAlchemyStore, key: str) -> Sampler:
    def sample(n: int, clock: Clock) -> int:
        start = clock()
        for _ in range(n):
            with store.transaction(Meter, key) as meter:
                meter.counter.tick()
        return clock() - start

    return sample


def _scenario(name: str, url: str, target: float, cleanup: Callable[[], None]) -> StoreScenario:
    from statemachines_orchestrator.store.sqlalchemy import SQLAlchemyStore  # noqa: PLC0415

    store = SQLAlchemyStore(url, table_name=f"smo_bench_{uuid.uuid4().hex[:10]}")
    # Both sides start from the same snapshot, each on a row of its own.
    for key in ("by-hand", "unit-of-work"):
        with store.transaction(Meter, key):
            pass
        # The by-hand side reads the shape it expects.
        document = store.read_document(type_name_of(Meter), key)
        if document is None or set(document.data["machines"]) != {"counter", "echo"}:
            raise RuntimeError(document)

    def close() -> None:
        store.table.drop(store.engine, checkfirst=True)
        store.close()
        cleanup()

    return StoreScenario(
        name=name,
        target=target,
        baseline=_by_hand(store.engine, store.table, "by-hand"),
        candidate=_unit_of_work(store, "unit-of-work"),
        close=close,
    )


SQLITE_TARGET = 1.2
"""Largest acceptable median time ratio, unit of work over by hand, on a SQLite file."""

POSTGRES_TARGET = 1.5
"""Largest acceptable median time ratio on PostgreSQL."""


def store_scenarios() -> list[StoreScenario]:
    """A SQLite file, and PostgreSQL when ``SMO_POSTGRES_URL`` names a server."""
    folder = tempfile.TemporaryDirectory()
    url = f"sqlite:///{Path(folder.name) / 'bench.db'}"
    scenarios = [_scenario("SQLite file", url, SQLITE_TARGET, folder.cleanup)]
    postgres = os.environ.get(POSTGRES_ENV)
    if postgres:
        url = "postgresql+psycopg://" + postgres.split("://", 1)[1]
        scenarios.append(_scenario("PostgreSQL", url, POSTGRES_TARGET, lambda: None))
    return scenarios

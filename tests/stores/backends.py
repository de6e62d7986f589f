"""The stores the contract suite runs on, behind one synchronous face.

Every store is opened on a fresh database (a new SQLite file, a new table on
PostgreSQL) and driven through :class:`Backend`, so that one test body runs
on the memory, SQLite and PostgreSQL stores, sync and async: an async store
is driven through an event loop of its own, one awaited call at a time.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import pytest

from statemachines_orchestrator.store import (
    AsyncMemoryStore,
    AsyncStore,
    Document,
    MemoryStore,
    Store,
)

if TYPE_CHECKING:
    from pathlib import Path

    from statemachines_orchestrator import Orchestrator

DATABASES = ("memory", "sqlite", "postgresql")
MODES = ("sync", "async")
POSTGRES_ENV = "SMO_POSTGRES_URL"


def postgres_url() -> str:
    """The URL of the test PostgreSQL server (``.ci/pg-start``), or skip (fail under CI)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        reason = (
            f"no PostgreSQL server: {POSTGRES_ENV} is not set "
            f'(start one with `eval "$(bash .ci/pg-start)"`)'
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true, but {reason}")
        pytest.skip(reason)
    return url


def sqlalchemy_url(database: str, mode: str, tmp_path: Path) -> str:
    """A URL for ``database`` with the driver the ``mode`` store uses.

    PostgreSQL is reached through psycopg, sync and async, and once more
    through asyncpg (``mode`` ``"asyncpg"``, an async store).
    """
    if database == "sqlite":
        driver = "sqlite" if mode == "sync" else "sqlite+aiosqlite"
        return f"{driver}:///{tmp_path / 'store.db'}"
    base = postgres_url().split("://", 1)[1]
    driver = "postgresql+asyncpg" if mode == "asyncpg" else "postgresql+psycopg"
    return f"{driver}://{base}"


class UnitOfWorkFace:
    """An async unit of work entered and left through ``loop.run_until_complete``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, unit: Any) -> None:
        self._loop = loop
        self.unit = unit

    def __enter__(self) -> Any:
        return self._loop.run_until_complete(self.unit.__aenter__())

    def __exit__(self, *exc_info: object) -> Any:
        return self._loop.run_until_complete(self.unit.__aexit__(*exc_info))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unit, name)


@dataclass
class Backend:
    """One store under test, and how to open more stores on the same database."""

    name: str
    mode: str
    store: Any
    open_peer: Callable[[], Any]
    loop: asyncio.AbstractEventLoop | None = None
    _opened: list[Any] = field(default_factory=list)

    @property
    def is_async(self) -> bool:
        return self.mode != "sync"

    def run(self, value: Any) -> Any:
        """``value`` itself, or what it returns when awaited on this backend's loop."""
        if self.loop is not None and asyncio.iscoroutine(value):
            return self.loop.run_until_complete(value)
        return value

    def peer(self) -> Any:
        """Another store on the same database (the same store for memory ones)."""
        store = self.open_peer()
        self._opened.append(store)
        return store

    # The store's operations, called on ``store`` (this backend's store by default).

    def read(self, type_name: str, key: str, store: Any = None) -> Document | None:
        return self.run((store or self.store).read_document(type_name, key))

    def insert(
        self, type_name: str, key: str, data: dict[str, Any], store: Any = None
    ) -> Document:
        return self.run((store or self.store).insert_document(type_name, key, data))

    def update(
        self, type_name: str, key: str, data: dict[str, Any], version: int, store: Any = None
    ) -> Document:
        return self.run((store or self.store).update_document(type_name, key, data, version))

    def load(self, cls: type[Any], key: str, store: Any = None) -> Any:
        return self.run((store or self.store).load(cls, key))

    def create(self, orc: Orchestrator, key: str, store: Any = None) -> None:
        self.run((store or self.store).create(orc, key))

    def save(self, orc: Orchestrator, store: Any = None) -> None:
        self.run((store or self.store).save(orc))

    def transaction(self, cls: type[Any], key: str, store: Any = None, **kwargs: Any) -> Any:
        unit = (store or self.store).transaction(cls, key, **kwargs)
        if self.loop is not None:
            return UnitOfWorkFace(self.loop, unit)
        return unit

    def close(self) -> None:
        for store in [*self._opened, self.store]:
            self.run(store.close())
        if self.loop is not None:
            self.loop.close()


def open_backend(database: str, mode: str, tmp_path: Path) -> Backend:
    """A store of kind ``database`` and ``mode`` on a fresh database."""
    if database == "memory":
        if mode == "sync":
            memory: Store = MemoryStore()
            return Backend(database, mode, memory, lambda: memory)
        amemory: AsyncStore = AsyncMemoryStore()
        return Backend(database, mode, amemory, lambda: amemory, asyncio.new_event_loop())
    from statemachines_orchestrator.store.sqlalchemy import (
        AsyncSQLAlchemyStore,
        SQLAlchemyStore,
    )

    url = sqlalchemy_url(database, mode, tmp_path)
    table_name = f"smo_test_{uuid.uuid4().hex[:12]}"
    if mode == "sync":
        return Backend(
            database,
            mode,
            SQLAlchemyStore(url, table_name=table_name),
            lambda: SQLAlchemyStore(url, table_name=table_name),
        )
    loop = asyncio.new_event_loop()
    return Backend(
        database,
        mode,
        AsyncSQLAlchemyStore(url, table_name=table_name),
        lambda: AsyncSQLAlchemyStore(url, table_name=table_name),
        loop,
    )


def drop_table(backend: Backend) -> None:
    """Drop the test table a SQL backend's store created (PostgreSQL outlives the test)."""
    store = backend.store
    if backend.name != "postgresql":
        return
    if backend.loop is None:
        store.table.drop(store.engine, checkfirst=True)
        return

    async def drop() -> None:
        async with store.engine.begin() as connection:
            await connection.run_sync(store.table.drop, checkfirst=True)

    backend.run(drop())

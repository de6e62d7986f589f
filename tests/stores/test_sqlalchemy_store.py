"""What only the SQLAlchemy stores do: their table, SQLite's settings, busy databases."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

sa = pytest.importorskip("sqlalchemy")

from statemachines_orchestrator import (  # noqa: E402 - after the importorskip
    ConcurrentUpdateError,
    InvalidStoreArgumentError,
)
from statemachines_orchestrator.store.sqlalchemy import (  # noqa: E402
    DEFAULT_TABLE_NAME,
    AsyncSQLAlchemyStore,
    SQLAlchemyStore,
    snapshot_table,
)

if TYPE_CHECKING:
    from pathlib import Path

    from .backends import Backend

T = "tests.shop:Shop"


def _tables(backend: Backend) -> set[str]:
    store = backend.store
    if backend.loop is None:
        return set(sa.inspect(store.engine).get_table_names())

    async def names() -> set[str]:
        async with store.engine.connect() as connection:
            found: list[str] = await connection.run_sync(
                lambda sync: sa.inspect(sync).get_table_names()
            )
        return set(found)

    return backend.run(names())


def test_the_table_is_created_on_first_use_with_its_configured_name(sql_backend: Backend) -> None:
    name = sql_backend.store.table_name
    assert name.startswith("smo_test_")
    assert name not in _tables(sql_backend)
    assert sql_backend.read(T, "k") is None
    assert name in _tables(sql_backend)
    assert sql_backend.store.table.name == name


def test_the_table_has_the_documented_columns() -> None:
    table = snapshot_table(sa.MetaData())
    assert table.name == DEFAULT_TABLE_NAME == "orchestrator_snapshots"
    assert [c.name for c in table.columns] == [
        "orchestrator_type",
        "key",
        "snapshot",
        "version",
        "updated_at",
    ]
    assert [c.name for c in table.primary_key] == ["orchestrator_type", "key"]
    from sqlalchemy.dialects import postgresql, sqlite

    ddl = sa.schema.CreateTable(table)
    assert "snapshot JSONB NOT NULL" in str(ddl.compile(dialect=postgresql.dialect()))
    assert "snapshot JSON NOT NULL" in str(ddl.compile(dialect=sqlite.dialect()))


def test_a_store_on_sqlite_does_not_load_the_postgresql_dialect(tmp_path: Path) -> None:
    store = SQLAlchemyStore(f"sqlite:///{tmp_path / 'plain.db'}")
    try:
        assert str(store.table.c.snapshot.type.compile(store.engine.dialect)) == "JSON"
        assert not store.table.c.snapshot.type._variant_mapping  # noqa: SLF001
    finally:
        store.close()


def test_two_stores_creating_the_table_at_once_both_work(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    stores = [SQLAlchemyStore(url, table_name="race") for _ in range(4)]
    start = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def first_use(store: SQLAlchemyStore) -> None:
        start.wait()
        try:
            store.read_document(T, "k")
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=first_use, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not errors
        stores[0].insert_document(T, "k", {"n": 1})
        assert stores[3].read_document(T, "k") is not None
    finally:
        for store in stores:
            store.close()


def test_stores_opening_a_new_file_at_once_all_switch_it_to_wal(tmp_path: Path) -> None:
    """SQLite does not wait for the lock the switch to WAL takes; the store does."""
    errors: list[BaseException] = []
    for trial in range(10):
        url = f"sqlite:///{tmp_path / f'new{trial}.db'}"
        stores = [SQLAlchemyStore(url, table_name="fresh") for _ in range(6)]
        start = threading.Barrier(len(stores))

        def first_use(store: SQLAlchemyStore, start: threading.Barrier) -> None:
            start.wait()
            try:
                store.read_document(T, "k")
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)

        threads = [threading.Thread(target=first_use, args=(s, start)) for s in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for store in stores:
            store.close()
    assert errors == []


def test_a_wal_switch_that_stays_locked_past_the_timeout_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "stuck.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE blocker (n INTEGER)")
        setup.execute("INSERT INTO blocker VALUES (0)")
    setup.close()
    release = threading.Event()
    holder = _lock_for(path, release, exclusive=True)
    store = SQLAlchemyStore(f"sqlite:///{path}", busy_timeout=0.1)
    try:
        with pytest.raises(ConcurrentUpdateError, match="database was busy"):
            store.read_document(T, "k")
    finally:
        release.set()
        holder.join()
        store.close()


def test_an_existing_table_is_reused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'again.db'}"
    first = SQLAlchemyStore(url)
    first.insert_document(T, "k", {"n": 1})
    first.close()
    second = SQLAlchemyStore(url)
    try:
        document = second.read_document(T, "k")
        assert document is not None
        assert document.data == {"n": 1}
    finally:
        second.close()


def test_a_store_on_an_engine_it_did_not_build_leaves_the_engine_open(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'own.db'}")
    store = SQLAlchemyStore(engine, table_name="mine")
    store.insert_document(T, "k", {"n": 1})
    store.close()
    with engine.connect() as connection:
        assert connection.execute(sa.text("select count(*) from mine")).scalar() == 1
    engine.dispose()


def test_sqlite_files_are_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    store = SQLAlchemyStore(f"sqlite:///{path}")
    try:
        store.insert_document(T, "k", {"n": 1})
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.close()
    # The journal mode is a property of the file: a plain connection sees it too.
    with sqlite3.connect(path) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    plain.close()


def _lock_for(
    path: Path, release: threading.Event, *, exclusive: bool = False
) -> threading.Thread:
    """Hold a lock on the SQLite file ``path`` from another thread until ``release`` is set.

    The write lock (``BEGIN IMMEDIATE``), or with ``exclusive`` an exclusive one,
    which on a rollback-journal file (no WAL) locks readers out too.
    """
    locked = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            if exclusive:
                connection.execute("BEGIN EXCLUSIVE")
                connection.execute("UPDATE blocker SET n = n + 1")
            else:
                connection.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(10)
            connection.execute("COMMIT")
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(10)
    return thread


def test_a_busy_sqlite_database_past_the_timeout_is_a_conflict(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    store = SQLAlchemyStore(f"sqlite:///{path}", busy_timeout=0.05)
    try:
        store.insert_document(T, "k", {"n": 1})
        release = threading.Event()
        holder = _lock_for(path, release)
        try:
            with pytest.raises(ConcurrentUpdateError, match="database was busy"):
                store.update_document(T, "k", {"n": 2}, 1)
            with pytest.raises(ConcurrentUpdateError, match="database was busy"):
                store.insert_document(T, "k2", {"n": 1})
        finally:
            release.set()
            holder.join()
        document = store.read_document(T, "k")
        assert document is not None
        assert (document.data, document.version) == ({"n": 1}, 1)
        assert store.read_document(T, "k2") is None
    finally:
        store.close()


def test_a_busy_sqlite_database_is_waited_out(tmp_path: Path) -> None:
    path = tmp_path / "wait.db"
    store = SQLAlchemyStore(f"sqlite:///{path}", busy_timeout=10)
    try:
        store.insert_document(T, "k", {"n": 1})
        release = threading.Event()
        holder = _lock_for(path, release)
        timer = threading.Timer(0.3, release.set)
        started = time.monotonic()
        timer.start()
        # The lock goes 0.3 s from now: the write cannot end before, it waits.
        assert store.update_document(T, "k", {"n": 2}, 1).version == 2
        assert time.monotonic() - started >= 0.25
        holder.join()
        timer.join()
    finally:
        store.close()


def test_a_busy_sqlite_database_is_a_conflict_for_the_async_store(tmp_path: Path) -> None:
    path = tmp_path / "abusy.db"

    async def scenario() -> None:
        store = AsyncSQLAlchemyStore(f"sqlite+aiosqlite:///{path}", busy_timeout=0.05)
        try:
            await store.insert_document(T, "k", {"n": 1})
            release = threading.Event()
            holder = _lock_for(path, release)
            try:
                with pytest.raises(ConcurrentUpdateError, match="database was busy"):
                    await store.update_document(T, "k", {"n": 2}, 1)
                with pytest.raises(ConcurrentUpdateError, match="database was busy"):
                    await store.insert_document(T, "k2", {"n": 1})
            finally:
                release.set()
                holder.join()
        finally:
            await store.close()

    asyncio.run(scenario())


def test_other_database_errors_are_not_disguised_as_conflicts(sql_backend: Backend) -> None:
    # A table name the database refuses: the driver's error comes through.
    sql_backend.read(T, "k")
    store = sql_backend.store
    statement = sa.text(f"DROP TABLE {store.table_name}")
    if sql_backend.loop is None:
        with store.engine.begin() as connection:
            connection.execute(statement)
    else:

        async def drop() -> None:
            async with store.engine.begin() as connection:
                await connection.execute(statement)

        sql_backend.run(drop())
    with pytest.raises(sa.exc.DBAPIError) as info:
        sql_backend.update(T, "k", {"n": 1}, 1)
    assert not isinstance(info.value, ConcurrentUpdateError)
    with pytest.raises(sa.exc.DBAPIError):
        sql_backend.insert(T, "k", {"n": 1})


@pytest.mark.parametrize("name", ["", None, 3])
def test_a_bad_table_name_is_refused(name: object, tmp_path: Path) -> None:
    with pytest.raises(InvalidStoreArgumentError, match="table_name must be a non-empty str"):
        SQLAlchemyStore(f"sqlite:///{tmp_path / 'x.db'}", table_name=name)  # type: ignore[arg-type]


def _refuse_create(error_table: str) -> object:
    def create_all(*_args: object, **_kwargs: object) -> None:
        statement = f"CREATE TABLE {error_table}"
        raise sa.exc.OperationalError(statement, {}, Exception("table already exists"))

    return create_all


def test_a_table_created_by_another_process_meanwhile_is_used(tmp_path: Path) -> None:
    """CREATE fails because another process created the table after the check: carry on."""
    url = f"sqlite:///{tmp_path / 'meanwhile.db'}"
    other = SQLAlchemyStore(url, table_name="shared")
    other.create_table()
    store = SQLAlchemyStore(url, table_name="shared")
    store._statements.metadata.create_all = _refuse_create("shared")  # type: ignore[method-assign]  # noqa: SLF001
    try:
        store.insert_document(T, "k", {"n": 1})
        assert other.read_document(T, "k") is not None
        store.create_table()  # once ready, a no-op
    finally:
        store.close()
        other.close()


def test_a_table_that_cannot_be_created_is_an_error(tmp_path: Path) -> None:
    store = SQLAlchemyStore(f"sqlite:///{tmp_path / 'refused.db'}", table_name="refused")
    store._statements.metadata.create_all = _refuse_create("refused")  # type: ignore[method-assign]  # noqa: SLF001
    try:
        with pytest.raises(sa.exc.OperationalError, match="table already exists"):
            store.read_document(T, "k")
    finally:
        store.close()


def test_the_async_store_handles_a_table_created_meanwhile(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ameanwhile.db'}"

    async def scenario() -> None:
        other = AsyncSQLAlchemyStore(url, table_name="shared")
        await other.create_table()
        store = AsyncSQLAlchemyStore(url, table_name="shared")
        store._statements.metadata.create_all = _refuse_create("shared")  # type: ignore[method-assign]  # noqa: SLF001
        refused = AsyncSQLAlchemyStore(url, table_name="refused")
        refused._statements.metadata.create_all = _refuse_create("refused")  # type: ignore[method-assign]  # noqa: SLF001
        try:
            await store.insert_document(T, "k", {"n": 1})
            assert await other.read_document(T, "k") is not None
            await store.create_table()  # once ready, a no-op
            with pytest.raises(sa.exc.OperationalError, match="table already exists"):
                await refused.read_document(T, "k")
        finally:
            for each in (store, other, refused):
                await each.close()

    asyncio.run(scenario())


def test_an_async_store_on_an_engine_it_did_not_build_leaves_the_engine_open(
    tmp_path: Path,
) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    async def scenario() -> int:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'aown.db'}")
        store = AsyncSQLAlchemyStore(engine, table_name="mine")
        await store.insert_document(T, "k", {"n": 1})
        await store.close()
        try:
            async with engine.connect() as connection:
                result = await connection.execute(sa.text("select count(*) from mine"))
                return int(result.scalar_one())
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == 1


def test_a_read_of_a_locked_database_is_a_conflict_not_a_driver_error(tmp_path: Path) -> None:
    """An engine of the application's own, without WAL: a writer locks readers out."""
    path = tmp_path / "journal.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE blocker (n INTEGER)")
        setup.execute("INSERT INTO blocker VALUES (0)")
    setup.close()
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    store = SQLAlchemyStore(engine)
    try:
        store.insert_document(T, "k", {"n": 1})
        release = threading.Event()
        holder = _lock_for(path, release, exclusive=True)
        try:
            with pytest.raises(
                ConcurrentUpdateError, match="could not be read, the database was busy"
            ):
                store.read_document(T, "k")
        finally:
            release.set()
            holder.join()
        assert store.read_document(T, "k") is not None
    finally:
        engine.dispose()


def test_an_async_read_of_a_locked_database_is_a_conflict(tmp_path: Path) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    path = tmp_path / "ajournal.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE blocker (n INTEGER)")
        setup.execute("INSERT INTO blocker VALUES (0)")
    setup.close()

    async def scenario() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 0.05})
        store = AsyncSQLAlchemyStore(engine)
        try:
            await store.insert_document(T, "k", {"n": 1})
            release = threading.Event()
            holder = _lock_for(path, release, exclusive=True)
            try:
                with pytest.raises(ConcurrentUpdateError, match="could not be read"):
                    await store.read_document(T, "k")
            finally:
                release.set()
                holder.join()
        finally:
            await engine.dispose()

    asyncio.run(scenario())


def test_a_store_refuses_an_engine_of_the_other_kind(tmp_path: Path) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    async_engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    sync_engine = sa.create_engine(f"sqlite:///{tmp_path / 's.db'}")
    try:
        with pytest.raises(InvalidStoreArgumentError) as info:
            SQLAlchemyStore(async_engine)  # type: ignore[arg-type]
        assert str(info.value).startswith(
            "SQLAlchemyStore needs a URL or a SQLAlchemy Engine, got AsyncEngine "
        )
        assert str(info.value).endswith("; for an async engine use AsyncSQLAlchemyStore")
        with pytest.raises(InvalidStoreArgumentError) as info:
            AsyncSQLAlchemyStore(sync_engine)  # type: ignore[arg-type]
        assert str(info.value).startswith(
            "AsyncSQLAlchemyStore needs a URL or a SQLAlchemy AsyncEngine, got Engine "
        )
        assert str(info.value).endswith("; for a sync engine use SQLAlchemyStore")
        with pytest.raises(InvalidStoreArgumentError, match="got int 5"):
            SQLAlchemyStore(5)  # type: ignore[arg-type]
    finally:
        sync_engine.dispose()
        asyncio.run(async_engine.dispose())


class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "busy"),
    [
        (sa.exc.OperationalError("UPDATE", {}, _DriverError("database is locked")), True),
        (sa.exc.OperationalError("UPDATE", {}, _DriverError("no such table: x")), False),
        (sa.exc.DBAPIError("UPDATE", {}, _DriverError("could not serialize", "40001")), True),
        (sa.exc.DBAPIError("UPDATE", {}, _DriverError("deadlock detected", "40P01")), True),
        (sa.exc.DBAPIError("UPDATE", {}, _DriverError("value too long", "22001")), False),
    ],
)
def test_which_driver_errors_count_as_a_busy_database(error: object, busy: bool) -> None:  # noqa: FBT001
    from statemachines_orchestrator.store import sqlalchemy as module

    assert module._is_busy(error) is busy  # type: ignore[arg-type]  # noqa: SLF001


class _FailingCursor:
    def __init__(self, message: str) -> None:
        self.message = message

    def execute(self, _statement: str) -> None:
        raise sqlite3.OperationalError(self.message)


def test_the_wal_switch_retries_only_a_locked_database() -> None:
    from statemachines_orchestrator.store import sqlalchemy as module

    switch = module._SQLitePragmas._switch_to_wal  # noqa: SLF001
    far = time.monotonic() + 60
    assert switch(_FailingCursor("database is locked"), far) is False
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        switch(_FailingCursor("disk I/O error"), far)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        switch(_FailingCursor("database is locked"), time.monotonic() - 1)


class _RacingCursor:
    """Another connection switches the file to WAL while this one is refused."""

    def __init__(self) -> None:
        self.mode = "delete"
        self.statements: list[str] = []

    def execute(self, statement: str) -> None:
        self.statements.append(statement)
        if statement == "PRAGMA journal_mode=WAL":
            self.mode = "wal"  # the other connection's switch lands meanwhile
            msg = "database is locked"
            raise sqlite3.OperationalError(msg)

    def fetchone(self) -> tuple[str]:
        return (self.mode,)

    def close(self) -> None:
        self.statements.append("close")


def test_a_refused_wal_switch_is_not_repeated_once_another_connection_made_it() -> None:
    from statemachines_orchestrator.store import sqlalchemy as module

    cursor = _RacingCursor()
    connection = SimpleNamespace(cursor=lambda: cursor)
    module._SQLitePragmas(5)(connection, None)  # noqa: SLF001
    assert cursor.statements == [
        "PRAGMA journal_mode",
        "PRAGMA journal_mode=WAL",
        "PRAGMA journal_mode",
        "PRAGMA synchronous=NORMAL",
        "close",
    ]

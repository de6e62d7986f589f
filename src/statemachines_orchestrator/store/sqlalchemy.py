"""Stores on SQLAlchemy 2: one table, SQLite or PostgreSQL, sync and asyncio.

The only module of the package that imports SQLAlchemy (the ``sqlalchemy``
extra: ``pip install 'statemachines-orchestrator[sqlalchemy]'``). One table
holds every orchestrator, keyed by orchestrator type (``module:qualname``) and
key, with its snapshot (JSON; JSONB on PostgreSQL), a version number and the
time of the last write. The table is created when missing.

Loading and the final conditional write are two short transactions: no lock is
held while a unit of work's block runs. The write is ``UPDATE ... WHERE
version = <loaded>`` (or an ``INSERT`` for a new key); a write that matches no
row, a duplicate key, and on SQLite a database that stays busy past the busy
timeout are reported as :class:`~statemachines_orchestrator.ConcurrentUpdateError`.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar, Union

from statemachines_orchestrator.exceptions import (
    InvalidStoreArgumentError,
    StoreExtraMissingError,
)

try:
    import sqlalchemy as sa
    from sqlalchemy import event
    from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
except ImportError as _error:  # pragma: no cover - exercised in a subprocess without SQLAlchemy
    _msg = (
        "the SQLAlchemy store needs SQLAlchemy 2, which is not installed: "
        "pip install 'statemachines-orchestrator[sqlalchemy]'"
    )
    raise StoreExtraMissingError(_msg) from _error

from ._base import AsyncStore, Document, Store, conflict

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect, Engine
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["DEFAULT_TABLE_NAME", "AsyncSQLAlchemyStore", "SQLAlchemyStore", "snapshot_table"]

DEFAULT_TABLE_NAME = "orchestrator_snapshots"
"""The table a store uses unless told otherwise."""

DEFAULT_BUSY_TIMEOUT = 5.0
"""Seconds a SQLite connection waits for a busy database before the write is a conflict."""

EngineOrURL = Union[str, sa.URL, "Engine"]
AsyncEngineOrURL = Union[str, sa.URL, "AsyncEngine"]


def snapshot_table(
    metadata: sa.MetaData, name: str = DEFAULT_TABLE_NAME, schema: str | None = None
) -> sa.Table:
    """The store's table, declared on ``metadata`` (for migrations, e.g. with Alembic).

    The snapshot column is JSON, and JSONB on PostgreSQL.

    Args:
        metadata: The metadata to declare it on.
        name: The table name.
        schema: The schema (``None``: the connection's default).
    """
    return _table(metadata, name, schema, "postgresql")


def _snapshot_type(dialect_name: str) -> sa.types.TypeEngine[Any]:
    if dialect_name == "postgresql":
        # Imported only for PostgreSQL: the dialect package costs a SQLite user
        # a noticeable share of the import time.
        from sqlalchemy.dialects.postgresql import JSONB  # noqa: PLC0415

        return sa.JSON().with_variant(JSONB(), "postgresql")
    return sa.JSON()


def _table(metadata: sa.MetaData, name: str, schema: str | None, dialect_name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("orchestrator_type", sa.String(255), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("snapshot", _snapshot_type(dialect_name), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )


class _Statements:
    """The table and the three statements, compiled once per store (SQLAlchemy caches them)."""

    __slots__ = ("insert", "metadata", "select", "table", "update")

    def __init__(self, name: str, schema: str | None, dialect: Dialect) -> None:
        self.metadata = sa.MetaData()
        table = self.table = _table(self.metadata, name, schema, dialect.name)
        c = table.c
        self.select = sa.select(c.snapshot, c.version, c.updated_at).where(
            c.orchestrator_type == sa.bindparam("p_type"), c.key == sa.bindparam("p_key")
        )
        self.insert = table.insert().values(
            orchestrator_type=sa.bindparam("p_type"),
            key=sa.bindparam("p_key"),
            snapshot=sa.bindparam("p_snapshot", type_=c.snapshot.type),
            version=1,
            updated_at=sa.bindparam("p_now", type_=c.updated_at.type),
        )
        self.update = (
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


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes (every time the store wrote is UTC);
    # PostgreSQL aware ones, in the session's time zone.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _document(type_name: str, key: str, row: Any) -> Document | None:
    if row is None:
        return None
    return Document(type_name, key, row[0], row[1], _utc(row[2]))


def _is_busy(error: DBAPIError) -> bool:
    """Whether ``error`` says the database was locked or the transaction lost a race."""
    if isinstance(error, OperationalError) and "locked" in str(error.orig).lower():
        return True  # SQLite: "database is locked" after the busy timeout
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in {"40001", "40P01"}  # PostgreSQL: serialization failure, deadlock


class _SQLitePragmas:
    """The ``connect`` hook of a SQLite engine the store builds: WAL mode, synchronous NORMAL.

    WAL lets readers run beside the writer; NORMAL syncs at checkpoints, not on
    every commit (a power cut may lose the last commits, never the file's
    consistency). Switching a new file to WAL needs a lock that SQLite does not
    wait for: connections that open a new file at once get "database is
    locked" at once. So the switch is retried until the busy timeout, and
    skipped when another connection has made it meanwhile.
    """

    __slots__ = ("__weakref__", "busy_timeout")  # SQLAlchemy keeps listeners weakly

    def __init__(self, busy_timeout: float) -> None:
        self.busy_timeout = busy_timeout

    def __call__(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            deadline = time.monotonic() + self.busy_timeout
            while not self._in_wal_mode(cursor):
                if not self._switch_to_wal(cursor, deadline):
                    # Blocks an async engine's loop too, briefly: new files only.
                    time.sleep(0.005)
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @staticmethod
    def _switch_to_wal(cursor: Any, deadline: float) -> bool:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except Exception as error:  # the driver's OperationalError, sync or async
            if "locked" not in str(error).lower() or time.monotonic() >= deadline:
                raise
            return False
        return True

    @staticmethod
    def _in_wal_mode(cursor: Any) -> bool:
        cursor.execute("PRAGMA journal_mode")
        return str(cursor.fetchone()[0]).lower() == "wal"


def _engine_options(url: sa.URL, busy_timeout: float) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": busy_timeout}}
    return {}


def _setup_sqlite(engine: Engine, busy_timeout: float) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _SQLitePragmas(busy_timeout))


_E = TypeVar("_E")


def _check_engine(engine: object, kind: type[_E], store: str) -> _E:
    if not isinstance(engine, kind):
        other = "AsyncSQLAlchemyStore" if store == "SQLAlchemyStore" else "SQLAlchemyStore"
        msg = (
            f"{store} needs a URL or a SQLAlchemy {kind.__name__}, got "
            f"{type(engine).__qualname__} {engine!r}; for "
            f"{'an async engine' if store == 'SQLAlchemyStore' else 'a sync engine'} use {other}"
        )
        raise InvalidStoreArgumentError(msg)
    return engine


class _Core:
    """What the sync and async stores share: statements, parameters, error mapping."""

    __slots__ = ("_statements", "table_name")

    @staticmethod
    def check_table_name(table_name: object) -> str:
        # Typed `object`: callers without a type checker may pass anything.
        if not isinstance(table_name, str) or not table_name:
            msg = f"a store's table_name must be a non-empty str, got {table_name!r}"
            raise InvalidStoreArgumentError(msg)
        return table_name

    def __init__(self, table_name: str, schema: str | None, dialect: Dialect) -> None:
        self.table_name = table_name
        self._statements = _Statements(table_name, schema, dialect)

    @staticmethod
    def insert_params(type_name: str, key: str, data: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        return {"p_type": type_name, "p_key": key, "p_snapshot": data, "p_now": now}

    @staticmethod
    def update_params(
        type_name: str, key: str, data: dict[str, Any], version: int
    ) -> dict[str, Any]:
        return {
            "p_type": type_name,
            "p_key": key,
            "p_snapshot": data,
            "p_now": datetime.now(timezone.utc),
            "p_version": version,
            "p_new_version": version + 1,
        }


def _busy(type_name: str, key: str, error: DBAPIError, done: str = "written") -> Exception:
    return conflict(type_name, key, f"could not be {done}, the database was busy ({error.orig})")


class SQLAlchemyStore(Store, _Core):
    """A store in one table of a SQL database, through a SQLAlchemy 2 engine.

    ``SQLAlchemyStore("sqlite:///shop.db")`` keeps orchestrators in a SQLite file;
    ``SQLAlchemyStore("postgresql+psycopg://user@host/db")`` in PostgreSQL.

    Args:
        engine_or_url: An engine, or a URL to build one from. For a SQLite URL the
            store turns on WAL mode and a busy timeout on every connection of
            the engine it builds; an engine passed in is used as configured.
        table_name: The table's name; it is created when missing.
        schema: The table's schema (``None``: the connection's default).
        busy_timeout: Seconds a SQLite connection of an engine built from a URL
            waits for a busy database.
    """

    def __init__(
        self,
        engine_or_url: EngineOrURL,
        *,
        table_name: str = DEFAULT_TABLE_NAME,
        schema: str | None = None,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        Store.__init__(self)
        table_name = _Core.check_table_name(table_name)
        if isinstance(engine_or_url, (str, sa.URL)):
            url = sa.make_url(engine_or_url)
            self.engine: Engine = sa.create_engine(url, **_engine_options(url, busy_timeout))
            _setup_sqlite(self.engine, busy_timeout)
            self._owns_engine = True
        else:
            self.engine = _check_engine(engine_or_url, sa.Engine, "SQLAlchemyStore")
            self._owns_engine = False
        _Core.__init__(self, table_name, schema, self.engine.dialect)
        self._ready = False
        self._ready_lock = threading.Lock()

    @property
    def table(self) -> sa.Table:
        """The table the store keeps its orchestrators in."""
        return self._statements.table

    def create_table(self) -> None:
        """Create the table if it is missing (the store does it before its first use)."""
        with self._ready_lock:
            if self._ready:
                return
            try:
                self._statements.metadata.create_all(self.engine, checkfirst=True)
            except DBAPIError:
                # Another process created it between the check and the CREATE.
                if not sa.inspect(self.engine).has_table(self.table_name, self.table.schema):
                    raise
            self._ready = True

    def close(self) -> None:
        """Close the engine's connections, if the store built the engine."""
        if self._owns_engine:
            self.engine.dispose()

    def read_document(self, type_name: str, key: str) -> Document | None:
        """The document stored under ``(type_name, key)``, or ``None``."""
        try:
            if not self._ready:
                self.create_table()
            with self.engine.connect() as connection:
                row = connection.execute(
                    self._statements.select, {"p_type": type_name, "p_key": key}
                ).first()
        except DBAPIError as error:
            if _is_busy(error):
                raise _busy(type_name, key, error, "read") from error
            raise
        return _document(type_name, key, row)

    def insert_document(self, type_name: str, key: str, data: dict[str, Any]) -> Document:
        """Store a new document at version 1 (see :meth:`Store.insert_document`)."""
        if not self._ready:
            self.create_table()
        params = self.insert_params(type_name, key, data)
        try:
            with self.engine.begin() as connection:
                connection.execute(self._statements.insert, params)
        except IntegrityError as error:
            raise conflict(type_name, key, "was created by another writer first") from error
        except DBAPIError as error:
            if _is_busy(error):
                raise _busy(type_name, key, error) from error
            raise
        return Document(type_name, key, data, 1, params["p_now"])

    def update_document(
        self, type_name: str, key: str, data: dict[str, Any], version: int
    ) -> Document:
        """Replace the document at ``version`` (see :meth:`Store.update_document`)."""
        if not self._ready:
            self.create_table()
        params = self.update_params(type_name, key, data, version)
        try:
            with self.engine.begin() as connection:
                matched = connection.execute(self._statements.update, params).rowcount
        except DBAPIError as error:
            if _is_busy(error):
                raise _busy(type_name, key, error) from error
            raise
        if matched != 1:
            raise conflict(type_name, key, f"is no longer stored at version {version}")
        return Document(type_name, key, data, version + 1, params["p_now"])


class AsyncSQLAlchemyStore(AsyncStore, _Core):
    """The asyncio twin of :class:`SQLAlchemyStore`, on SQLAlchemy's asyncio extension.

    Drivers: ``sqlite+aiosqlite://``, ``postgresql+asyncpg://`` or
    ``postgresql+psycopg://``. SQLAlchemy's asyncio extension needs greenlet
    (``pip install 'sqlalchemy[asyncio]'``).

    Args:
        engine_or_url: An async engine, or a URL to build one from (see
            :class:`SQLAlchemyStore` for SQLite settings).
        table_name: The table's name; it is created when missing.
        schema: The table's schema (``None``: the connection's default).
        busy_timeout: Seconds a SQLite connection of an engine built from a URL
            waits for a busy database.
    """

    def __init__(
        self,
        engine_or_url: AsyncEngineOrURL,
        *,
        table_name: str = DEFAULT_TABLE_NAME,
        schema: str | None = None,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        if importlib.util.find_spec("greenlet") is None:
            msg = (
                "AsyncSQLAlchemyStore needs greenlet, for SQLAlchemy's asyncio extension: "
                "pip install 'sqlalchemy[asyncio]'"
            )
            raise StoreExtraMissingError(msg)
        # Imported here: a sync store's process need not load the asyncio extension.
        from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: PLC0415

        AsyncStore.__init__(self)
        table_name = _Core.check_table_name(table_name)
        if isinstance(engine_or_url, (str, sa.URL)):
            url = sa.make_url(engine_or_url)
            self.engine: AsyncEngine = create_async_engine(
                url, **_engine_options(url, busy_timeout)
            )
            _setup_sqlite(self.engine.sync_engine, busy_timeout)
            self._owns_engine = True
        else:
            self.engine = _check_engine(engine_or_url, AsyncEngine, "AsyncSQLAlchemyStore")
            self._owns_engine = False
        _Core.__init__(self, table_name, schema, self.engine.dialect)
        self._ready = False

    @property
    def table(self) -> sa.Table:
        """The table the store keeps its orchestrators in."""
        return self._statements.table

    async def create_table(self) -> None:
        """Create the table if it is missing (the store does it before its first use)."""
        if self._ready:
            return
        try:
            async with self.engine.begin() as connection:
                await connection.run_sync(self._statements.metadata.create_all, checkfirst=True)
        except DBAPIError:
            async with self.engine.connect() as connection:
                exists = await connection.run_sync(
                    lambda sync: sa.inspect(sync).has_table(self.table_name, self.table.schema)
                )
            if not exists:
                raise
        self._ready = True

    async def close(self) -> None:
        """Close the engine's connections, if the store built the engine."""
        if self._owns_engine:
            await self.engine.dispose()

    async def read_document(self, type_name: str, key: str) -> Document | None:
        """The document stored under ``(type_name, key)``, or ``None``."""
        try:
            if not self._ready:
                await self.create_table()
            async with self.engine.connect() as connection:
                result = await connection.execute(
                    self._statements.select, {"p_type": type_name, "p_key": key}
                )
                row = result.first()
        except DBAPIError as error:
            if _is_busy(error):
                raise _busy(type_name, key, error, "read") from error
            raise
        return _document(type_name, key, row)

    async def insert_document(self, type_name: str, key: str, data: dict[str, Any]) -> Document:
        """Store a new document at version 1 (see :meth:`Store.insert_document`)."""
        if not self._ready:
            await self.create_table()
        params = self.insert_params(type_name, key, data)
        try:
            async with self.engine.begin() as connection:
                await connection.execute(self._statements.insert, params)
        except IntegrityError as error:
            raise conflict(type_name, key, "was created by another writer first") from error
        except DBAPIError as error:
            if _is_busy(error):
                raise _busy(type_name, key, error) from error
            raise
        return Document(type_name, key, data, 1, params["p_now"])

    async def update_document(
        self, type_name: str, key: str, data: dict[str, Any], version: int
    ) -> Document:
        """Replace the document at ``version`` (see :meth:`Store.update_document`)."""
        if not self._ready:
            await self.create_table()
        params = self.update_params(type_name, key, data, version)
        try:
            async with self.engine.begin() as connection:
                result = await connection.execute(self._statements.update, params)
                matched = result.rowcount
        except DBAPIError as error:
            if _is_busy(error):
                raise _busy(type_name, key, error) from error
            raise
        if matched != 1:
            raise conflict(type_name, key, f"is no longer stored at version {version}")
        return Document(type_name, key, data, version + 1, params["p_now"])

"""Keep orchestrators in a store, and change them in units of work.

>>> from statemachines_orchestrator.store import MemoryStore, Store
>>> isinstance(MemoryStore(), Store)
True

:class:`Store` is the interface (:class:`AsyncStore` its asyncio twin),
:class:`MemoryStore` keeps orchestrators in memory, and
:mod:`statemachines_orchestrator.store.sqlalchemy` keeps them in a SQL table
(SQLite or PostgreSQL; it needs the ``sqlalchemy`` extra, and is the only
module that imports SQLAlchemy). ``store.transaction(Shop, key)`` is the unit
of work; :func:`retry` runs one again after a conflict.
"""

from __future__ import annotations

from ._base import AsyncStore, AsyncUnitOfWork, Document, Store, UnitOfWork, type_name_of
from ._memory import AsyncMemoryStore, MemoryStore
from ._retry import retry, retry_async

__all__ = [
    "AsyncMemoryStore",
    "AsyncStore",
    "AsyncUnitOfWork",
    "Document",
    "MemoryStore",
    "Store",
    "UnitOfWork",
    "retry",
    "retry_async",
    "type_name_of",
]

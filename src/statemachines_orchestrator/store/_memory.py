"""The in-memory stores: documents in a dict, for tests and single-process use."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Any

from ._base import AsyncStore, Document, Store, conflict

__all__ = ["AsyncMemoryStore", "MemoryStore"]


class _Documents:
    """The rows of a memory store: JSON text, version and time per (type name, key).

    Data is kept as JSON text, as a database would keep it, so that a caller
    never shares a mutable object with the store and unserialisable data
    fails on write, as it would on a database.
    """

    __slots__ = ("_lock", "_rows")

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], tuple[str, int, datetime]] = {}
        self._lock = threading.Lock()

    def read(self, type_name: str, key: str) -> Document | None:
        row = self._rows.get((type_name, key))
        if row is None:
            return None
        text, version, updated_at = row
        return Document(type_name, key, json.loads(text), version, updated_at)

    def write(
        self, type_name: str, key: str, data: dict[str, Any], version: int | None
    ) -> Document:
        text = json.dumps(data)
        now = datetime.now(timezone.utc)
        with self._lock:
            row = self._rows.get((type_name, key))
            if version is None:
                if row is not None:
                    raise conflict(type_name, key, "was created by another writer first")
                new_version = 1
            else:
                if row is None or row[1] != version:
                    raise conflict(type_name, key, f"is no longer stored at version {version}")
                new_version = version + 1
            self._rows[type_name, key] = (text, new_version, now)
        return Document(type_name, key, json.loads(text), new_version, now)


class MemoryStore(Store):
    """A store that keeps orchestrators in this process's memory.

    Safe to share between threads; gone when the process ends. The contract
    tests run on it as on every other store.

    Example:
        >>> from statemachines_orchestrator.store import MemoryStore
        >>> store = MemoryStore()
        >>> store.read_document("shop:Shop", "order-1") is None
        True
    """

    def __init__(self) -> None:
        super().__init__()
        self._documents = _Documents()

    def read_document(self, type_name: str, key: str) -> Document | None:
        """The document stored under ``(type_name, key)``, or ``None``."""
        return self._documents.read(type_name, key)

    def insert_document(self, type_name: str, key: str, data: dict[str, Any]) -> Document:
        """Store a new document at version 1 (see :meth:`Store.insert_document`)."""
        return self._documents.write(type_name, key, data, None)

    def update_document(
        self, type_name: str, key: str, data: dict[str, Any], version: int
    ) -> Document:
        """Replace the document at ``version`` (see :meth:`Store.update_document`)."""
        return self._documents.write(type_name, key, data, version)


class AsyncMemoryStore(AsyncStore):
    """The asyncio twin of :class:`MemoryStore`."""

    def __init__(self) -> None:
        super().__init__()
        self._documents = _Documents()

    async def read_document(self, type_name: str, key: str) -> Document | None:
        """The document stored under ``(type_name, key)``, or ``None``."""
        return self._documents.read(type_name, key)

    async def insert_document(self, type_name: str, key: str, data: dict[str, Any]) -> Document:
        """Store a new document at version 1 (see :meth:`Store.insert_document`)."""
        return self._documents.write(type_name, key, data, None)

    async def update_document(
        self, type_name: str, key: str, data: dict[str, Any], version: int
    ) -> Document:
        """Replace the document at ``version`` (see :meth:`Store.update_document`)."""
        return self._documents.write(type_name, key, data, version)

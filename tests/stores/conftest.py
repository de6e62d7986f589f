"""Fixtures of the store contract suite: one store per database and mode.

Helpers live in ``backends.py``; tests import nothing from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .backends import DATABASES, MODES, Backend, drop_table, open_backend

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ALL = [(database, mode) for database in DATABASES for mode in MODES]
ALL.append(("postgresql", "asyncpg"))  # the other async PostgreSQL driver


def _backend_fixture(kinds: list[tuple[str, str]], doc: str) -> Any:
    @pytest.fixture(params=kinds, ids=[f"{d}-{m}" for d, m in kinds])
    def fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
        database, mode = request.param
        opened = open_backend(database, mode, tmp_path)
        try:
            yield opened
        finally:
            drop_table(opened)
            opened.close()

    fixture.__doc__ = doc
    return fixture


backend = _backend_fixture(ALL, "Every store implementation, on a fresh database.")
sync_backend = _backend_fixture(
    [k for k in ALL if k[1] == "sync"], "Every synchronous store, on a fresh database."
)
async_backend = _backend_fixture(
    [k for k in ALL if k[1] != "sync"], "Every asyncio store, on a fresh database."
)
sql_backend = _backend_fixture(
    [k for k in ALL if k[0] != "memory"], "Every SQLAlchemy store, on a fresh database."
)

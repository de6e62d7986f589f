"""The document layer of every store: read, insert, update, each write version-checked."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from statemachines_orchestrator import ConcurrentUpdateError, OrchestratorError

if TYPE_CHECKING:
    from .backends import Backend

T = "tests.shop:Shop"


def test_reading_a_missing_document_gives_none(backend: Backend) -> None:
    assert backend.read(T, "nothing") is None


def test_insert_stores_version_1_and_the_data(backend: Backend) -> None:
    before = datetime.now(timezone.utc)
    written = backend.insert(T, "k1", {"order": "placed", "n": 1})
    read = backend.read(T, "k1")
    assert read is not None
    assert (written.version, read.version) == (1, 1)
    assert read.data == {"order": "placed", "n": 1}
    assert (read.type_name, read.key) == (T, "k1")
    assert read.updated_at.tzinfo is not None
    assert read.updated_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= read.updated_at <= datetime.now(timezone.utc)
    assert read.updated_at == written.updated_at


def test_inserting_an_existing_key_is_a_conflict_and_keeps_the_first(backend: Backend) -> None:
    backend.insert(T, "k1", {"n": 1})
    with pytest.raises(ConcurrentUpdateError, match="created by another writer first") as info:
        backend.insert(T, "k1", {"n": 2})
    assert isinstance(info.value, OrchestratorError)
    assert isinstance(info.value, RuntimeError)
    read = backend.read(T, "k1")
    assert read is not None
    assert (read.data, read.version) == ({"n": 1}, 1)


def test_update_at_the_stored_version_replaces_the_data(backend: Backend) -> None:
    backend.insert(T, "k1", {"n": 1})
    written = backend.update(T, "k1", {"n": 2}, 1)
    assert written.version == 2
    read = backend.read(T, "k1")
    assert read is not None
    assert (read.data, read.version) == ({"n": 2}, 2)
    assert backend.update(T, "k1", {"n": 3}, 2).version == 3


def test_update_at_a_stale_version_is_a_conflict_and_writes_nothing(backend: Backend) -> None:
    backend.insert(T, "k1", {"n": 1})
    backend.update(T, "k1", {"n": 2}, 1)
    with pytest.raises(ConcurrentUpdateError, match="no longer stored at version 1"):
        backend.update(T, "k1", {"n": 99}, 1)
    read = backend.read(T, "k1")
    assert read is not None
    assert (read.data, read.version) == ({"n": 2}, 2)


def test_update_of_a_missing_key_is_a_conflict(backend: Backend) -> None:
    with pytest.raises(ConcurrentUpdateError):
        backend.update(T, "never", {"n": 1}, 1)
    assert backend.read(T, "never") is None


def test_documents_are_keyed_by_type_and_key(backend: Backend) -> None:
    backend.insert(T, "k", {"who": "shop k"})
    backend.insert("tests.other:Other", "k", {"who": "other k"})
    backend.insert(T, "k2", {"who": "shop k2"})
    found = {(t, k): backend.read(t, k) for t in (T, "tests.other:Other") for k in ("k", "k2")}
    assert {key: doc.data["who"] for key, doc in found.items() if doc is not None} == {
        (T, "k"): "shop k",
        ("tests.other:Other", "k"): "other k",
        (T, "k2"): "shop k2",
    }


def test_json_data_round_trips(backend: Backend) -> None:
    data: dict[str, Any] = {
        "text": 'caf\u00e9 \u2603 "quoted"',
        "nested": {"list": [1, 2.5, None, True, False, [], {}], "empty": ""},
        "big": 2**53,
        "negative": -7,
    }
    backend.insert(T, "k \u00e9/\u2603", data)
    read = backend.read(T, "k \u00e9/\u2603")
    assert read is not None
    assert read.data == data


def test_read_data_is_a_copy_of_what_is_stored(backend: Backend) -> None:
    backend.insert(T, "k", {"items": [1]})
    first = backend.read(T, "k")
    assert first is not None
    first.data["items"].append(2)
    second = backend.read(T, "k")
    assert second is not None
    assert second.data == {"items": [1]}


def test_a_second_store_on_the_same_database_sees_writes_and_conflicts(backend: Backend) -> None:
    peer = backend.peer()
    backend.insert(T, "k", {"n": 1})
    read = backend.read(T, "k", store=peer)
    assert read is not None
    assert read.data == {"n": 1}
    backend.update(T, "k", {"n": 2}, 1, store=peer)
    with pytest.raises(ConcurrentUpdateError):
        backend.update(T, "k", {"n": 3}, 1)
    with pytest.raises(ConcurrentUpdateError):
        backend.insert(T, "k", {"n": 4}, store=peer)


def _increment(backend: Backend, store: Any, key: str) -> int:
    """Read, add one, write back; return the version written. May conflict."""
    document = backend.read(T, key, store=store)
    assert document is not None
    data = {"n": document.data["n"] + 1}
    return backend.update(T, key, data, document.version, store=store).version


def test_concurrent_increments_from_threads_lose_no_update(sync_backend: Backend) -> None:
    """Threads, each with its own store on the same database, retry until every update lands."""
    backend = sync_backend
    threads, per_thread = 4, 15
    backend.insert(T, "counter", {"n": 0})
    stores = [backend.peer() for _ in range(threads)]
    versions: list[int] = []
    conflicts = [0] * threads  # counted, not asserted: threads need not collide
    errors: list[BaseException] = []
    start = threading.Barrier(threads)
    lock = threading.Lock()

    def work(index: int) -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                for _attempt in range(1000):
                    try:
                        version = _increment(backend, stores[index], "counter")
                    except ConcurrentUpdateError:
                        conflicts[index] += 1
                        continue
                    with lock:
                        versions.append(version)
                    break
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors
    final = backend.read(T, "counter")
    assert final is not None
    assert final.data == {"n": threads * per_thread}
    assert final.version == 1 + threads * per_thread
    assert sorted(versions) == list(range(2, 2 + threads * per_thread))


def test_concurrent_increments_from_tasks_lose_no_update(async_backend: Backend) -> None:
    """Tasks of one event loop interleave their reads and writes; every update lands once."""
    backend = async_backend
    tasks, per_task = 4, 15
    backend.insert(T, "counter", {"n": 0})
    store = backend.store
    versions: list[int] = []
    conflicts: list[int] = []
    first_reads: list[int] = []

    async def work(all_read: asyncio.Event) -> None:
        for _ in range(per_task):
            while True:
                document = await store.read_document(T, "counter")
                if not all_read.is_set():
                    # The first round waits until every task has read version 1, so
                    # that their updates collide however the loop schedules them.
                    first_reads.append(1)
                    if len(first_reads) == tasks:
                        all_read.set()
                    await all_read.wait()
                await asyncio.sleep(0)  # let the other tasks read the same version
                try:
                    written = await store.update_document(
                        T, "counter", {"n": document.data["n"] + 1}, document.version
                    )
                except ConcurrentUpdateError:
                    conflicts.append(1)
                    continue
                versions.append(written.version)
                break

    async def all_work() -> None:
        all_read = asyncio.Event()  # made in the running loop (Python 3.9 binds it there)
        await asyncio.gather(*(work(all_read) for _ in range(tasks)))

    backend.run(all_work())
    final = backend.read(T, "counter")
    assert final is not None
    assert final.data == {"n": tasks * per_task}
    assert sorted(versions) == list(range(2, 2 + tasks * per_task))
    assert len(conflicts) >= tasks - 1  # the first round collides: one update of four lands

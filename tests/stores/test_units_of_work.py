"""The orchestrator layer of every store: load, create, save and the unit of work."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

from statemachines_orchestrator import (
    ConcurrentUpdateError,
    InvalidStoreArgumentError,
    MachineDataNotSerializableError,
    OrchestratorError,
    OrchestratorNotFromStoreError,
    SnapshotNotFoundError,
)
from statemachines_orchestrator.store import retry, type_name_of

from .shop import (
    CALLBACK_RUNS,
    Counter,
    NeedsArguments,
    Notifications,
    OrderMachine,
    PaymentMachine,
    Shop,
    configuration,
)

if TYPE_CHECKING:
    from .backends import Backend

SHOP = "tests.stores.shop:Shop"


def test_type_names_are_module_and_qualname() -> None:
    assert type_name_of(Shop) == SHOP


def test_a_unit_of_work_on_a_new_key_builds_and_saves_a_new_orchestrator(
    backend: Backend,
) -> None:
    unit = backend.transaction(Shop, "order-1")
    with unit as shop:
        assert isinstance(shop, Shop)
        assert configuration(shop) == {"order": "created", "payment": "pending"}
        shop.order.place(total=120)
    assert (unit.loaded_version, unit.saved_version, unit.orchestrator) == (None, 1, None)
    stored = backend.read(SHOP, "order-1")
    assert stored is not None
    assert stored.version == 1
    loaded = backend.load(Shop, "order-1")
    assert configuration(loaded) == {"order": "paid", "payment": "authorized"}
    assert loaded.order.total == 120


def test_a_unit_of_work_on_a_stored_key_continues_where_it_was_saved(backend: Backend) -> None:
    with backend.transaction(Shop, "order-1") as shop:
        shop.order.place(total=5000)
    unit = backend.transaction(Shop, "order-1")
    with unit as shop:
        assert configuration(shop) == {"order": "cancelled", "payment": "declined"}
        assert shop.order.total == 5000
        shop.order.total = 4000
    assert (unit.loaded_version, unit.saved_version) == (1, 2)
    assert backend.load(Shop, "order-1").order.total == 4000


class BoomError(Exception):
    """Raised inside a unit of work's block."""


def _fail_after(backend: Backend, key: str, total: int) -> None:
    with backend.transaction(Shop, key) as shop:
        shop.order.total = total
        raise BoomError


def test_an_exception_in_the_block_writes_nothing(backend: Backend) -> None:
    with pytest.raises(BoomError):
        _fail_after(backend, "new", 10)
    assert backend.read(SHOP, "new") is None

    with backend.transaction(Shop, "old") as shop:
        shop.order.place(total=10)
    before = backend.read(SHOP, "old")
    with pytest.raises(BoomError):
        _fail_after(backend, "old", 999)
    assert backend.read(SHOP, "old") == before


def _race(backend: Backend, key: str) -> None:
    """Two units of work on ``key``, the second inside the first, on another store."""
    with backend.transaction(Shop, key) as first:
        first.order.total = 1
        # A unit of work inside another, on the same database: no deadlock.
        with backend.transaction(Shop, key, store=backend.peer()) as second:
            second.order.total = 2


def test_the_losing_writer_gets_a_conflict_and_writes_nothing(backend: Backend) -> None:
    """Two units of work load version 1; the one that ends second loses."""
    with backend.transaction(Shop, "order-1"):
        pass
    with pytest.raises(ConcurrentUpdateError) as info:
        _race(backend, "order-1")
    assert isinstance(info.value, OrchestratorError)
    stored = backend.load(Shop, "order-1")
    assert stored.order.total == 2
    assert backend.read(SHOP, "order-1").version == 2  # type: ignore[union-attr]


def test_two_writers_creating_one_new_key_conflict(backend: Backend) -> None:
    with pytest.raises(ConcurrentUpdateError, match="created by another writer first"):
        _race(backend, "fresh")
    assert backend.load(Shop, "fresh").order.total == 2


def test_nested_units_of_work_on_other_keys_both_commit(backend: Backend) -> None:
    with backend.transaction(Shop, "a") as a:
        a.order.place(total=1)
        with backend.transaction(Shop, "b") as b:
            b.order.place(total=2)
    assert backend.load(Shop, "a").order.total == 1
    assert backend.load(Shop, "b").order.total == 2


def test_create_builds_new_orchestrators_only(backend: Backend) -> None:
    built: list[NeedsArguments] = []

    def create() -> NeedsArguments:
        built.append(NeedsArguments(order=OrderMachine(), payment=PaymentMachine()))
        return built[-1]

    with backend.transaction(NeedsArguments, "k", create=create) as orc:
        assert orc is built[0]
        orc.order.place(total=3)
    with backend.transaction(NeedsArguments, "k", create=create) as orc:
        assert configuration(orc)["order"] == "paid"
    assert len(built) == 1


def test_create_must_build_the_class_of_the_unit_of_work(backend: Backend) -> None:
    unit = backend.transaction(Shop, "k", create=Counter)
    with pytest.raises(InvalidStoreArgumentError) as info:
        unit.__enter__()
    assert str(info.value).startswith(
        "create() must give a Shop, got Counter Counter(tally=<Tally: 'counting'>); "
    )
    assert backend.read(SHOP, "k") is None


def test_without_create_the_class_must_build_itself(backend: Backend) -> None:
    with pytest.raises(TypeError), backend.transaction(NeedsArguments, "k"):
        pass


def test_loading_a_missing_key_is_a_clear_lookup_error(backend: Backend) -> None:
    with pytest.raises(SnapshotNotFoundError) as info:
        backend.load(Shop, "nobody")
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, OrchestratorError)
    assert str(info.value) == (
        "no Shop is stored under key 'nobody' (type 'tests.stores.shop:Shop'); create it "
        "with store.create(), or use store.transaction(Shop, key), which builds a new one "
        "for a new key"
    )


def test_create_then_save_checks_versions(backend: Backend) -> None:
    shop = Shop()
    backend.create(shop, "k")
    with pytest.raises(ConcurrentUpdateError):
        backend.create(Shop(), "k")
    shop.order.place(total=7)
    backend.save(shop)
    backend.save(shop)  # saving again continues from the version it wrote
    assert backend.read(SHOP, "k").version == 3  # type: ignore[union-attr]
    loaded = backend.load(Shop, "k")
    assert loaded.order.total == 7
    other = backend.load(Shop, "k")
    other.order.total = 8
    backend.save(other)
    with pytest.raises(ConcurrentUpdateError):
        backend.save(loaded)
    assert backend.load(Shop, "k").order.total == 8


def test_saving_an_orchestrator_the_store_did_not_hand_out_is_refused(backend: Backend) -> None:
    with pytest.raises(OrchestratorNotFromStoreError) as info:
        backend.save(Shop())
    assert isinstance(info.value, ValueError)
    assert "save() got a Shop it did not load or create" in str(info.value)
    peer_loaded = backend.transaction(Shop, "k")
    with peer_loaded as shop:
        pass
    # A store remembers what it handed out, not what other stores did.
    if backend.name != "memory":
        with pytest.raises(OrchestratorNotFromStoreError):
            backend.save(shop, store=backend.peer())


@pytest.mark.parametrize("key", [5, "", None, b"k"])
def test_keys_must_be_non_empty_strings(backend: Backend, key: Any) -> None:
    message = "a store key must be a non-empty str, got "
    with pytest.raises(InvalidStoreArgumentError, match=message):
        backend.load(Shop, key)
    with pytest.raises(InvalidStoreArgumentError, match=message):
        backend.transaction(Shop, key)
    with pytest.raises(InvalidStoreArgumentError, match=message):
        backend.create(Shop(), key)


def test_keys_are_at_most_255_characters(backend: Backend) -> None:
    longest = "k" * 255
    with backend.transaction(Shop, longest) as shop:
        shop.order.place(total=1)
    assert backend.load(Shop, longest).order.total == 1
    with pytest.raises(InvalidStoreArgumentError) as info:
        backend.transaction(Shop, longest + "k")
    assert str(info.value) == (
        "a store key must be at most 255 characters, got one of 256 ('kkkkkkkkkkkkkkkkkkkk'...); "
        "use a shorter identifier, or a hash of this one"
    )


def test_classes_must_be_orchestrator_classes(backend: Backend) -> None:
    with pytest.raises(InvalidStoreArgumentError) as info:
        backend.load(OrderMachine, "k")
    assert str(info.value).startswith("a store keeps orchestrators by their class; got <class ")
    with pytest.raises(InvalidStoreArgumentError):
        backend.transaction(Shop(), "k")


def test_retry_reruns_the_unit_of_work_on_fresh_state(backend: Backend) -> None:
    with backend.transaction(Counter, "c") as counter:
        counter.tally.add(event_id="first")
    peer = backend.peer()
    attempts: list[int] = []

    def add_second() -> int:
        with backend.transaction(Counter, "c") as counter:
            attempts.append(counter.tally.count)
            counter.tally.add(event_id="second")
            if len(attempts) == 1:  # another writer gets in between, once
                with backend.transaction(Counter, "c", store=peer) as other:
                    other.tally.add(event_id="other")
        return counter.tally.count

    assert retry(add_second, attempts=2) == 3
    assert attempts == [1, 2]
    assert backend.load(Counter, "c").tally.seen == ["first", "other", "second"]


def test_units_of_work_from_threads_lose_no_event(sync_backend: Backend) -> None:
    backend = sync_backend
    threads, per_thread = 4, 10
    stores = [backend.peer() for _ in range(threads)]
    committed: list[str] = []
    conflicts: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def work(index: int) -> None:
        try:
            start.wait()
            for number in range(per_thread):
                event_id = f"{index}-{number}"

                def unit(event_id: str = event_id) -> None:
                    with backend.transaction(Counter, "shared", store=stores[index]) as counter:
                        counter.tally.add(event_id=event_id)

                retry(unit, attempts=1000, on_conflict=lambda _e, _n: conflicts.append(1))
                with lock:
                    committed.append(event_id)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors
    final = backend.load(Counter, "shared")
    assert sorted(final.tally.seen) == sorted(committed)
    assert final.tally.count == threads * per_thread
    stored = backend.read("tests.stores.shop:Counter", "shared")
    assert stored is not None
    assert stored.version == threads * per_thread  # the first unit of work created it


def test_a_retried_unit_of_work_runs_its_callbacks_again_but_commits_one_outbox(
    backend: Backend,
) -> None:
    """Side effects recorded in the saved data are committed once, however many attempts."""
    with backend.transaction(Notifications, "n"):
        pass
    peer = backend.peer()
    del CALLBACK_RUNS[:]
    attempts: list[int] = []

    def confirm() -> None:
        with backend.transaction(Notifications, "n") as notes:
            notes.mailer.confirm(order_id="order-1")
            attempts.append(1)
            if len(attempts) == 1:  # another writer changes the row meanwhile, once
                with backend.transaction(Notifications, "n", store=peer) as other:
                    other.mailer.outbox.append("unrelated")

    retry(confirm, attempts=2)
    assert CALLBACK_RUNS == ["order-1", "order-1"]  # the callback ran on both attempts
    outbox = backend.load(Notifications, "n").mailer.outbox
    assert outbox == ["unrelated", "confirmation for order-1"]  # committed once


def test_a_snapshot_that_cannot_be_taken_writes_nothing(backend: Backend) -> None:
    with backend.transaction(Shop, "k") as shop:
        shop.order.place(total=1)
    before = backend.read(SHOP, "k")
    with pytest.raises(MachineDataNotSerializableError), backend.transaction(Shop, "k") as shop:
        shop.order.total = {1, 2}  # a set is no JSON data
    assert backend.read(SHOP, "k") == before

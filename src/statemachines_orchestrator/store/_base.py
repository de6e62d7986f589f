"""The store interfaces, the documents they hold, and the unit of work.

A store has two layers. The *document layer* is what a backend implements:
read, insert and update one JSON document per (orchestrator type, key), each
write checked against the document's version. The *orchestrator layer* is
written once, here, on top of it: ``load``, ``create``, ``save`` and the unit
of work, which turn documents into orchestrators with the snapshot API
(``orc.snapshot()`` and ``cls.restore(data)``).
"""

from __future__ import annotations

import inspect
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

from statemachines_orchestrator.exceptions import (
    ConcurrentUpdateError,
    InvalidStoreArgumentError,
    OrchestratorNotFromStoreError,
    SnapshotNotFoundError,
)
from statemachines_orchestrator.orchestrator import Orchestrator

if TYPE_CHECKING:
    from datetime import datetime
    from types import TracebackType

__all__ = [
    "AsyncStore",
    "AsyncUnitOfWork",
    "Document",
    "Store",
    "UnitOfWork",
    "activate_initial_states",
    "conflict",
    "type_name_of",
]

OrcT = TypeVar("OrcT", bound=Orchestrator)


@dataclass(frozen=True)
class Document:
    """One stored orchestrator, as the document layer of a store sees it.

    Attributes:
        type_name: The orchestrator class, as ``module:qualname`` (see :func:`type_name_of`).
        key: The key it is stored under.
        data: The snapshot: a JSON-compatible dict.
        version: 1 when created, one more on every update.
        updated_at: When it was last written (timezone-aware, UTC).
    """

    type_name: str
    key: str
    data: dict[str, Any]
    version: int
    updated_at: datetime


def type_name_of(cls: type[Orchestrator]) -> str:
    """The name a store files orchestrators of class ``cls`` under: ``module:qualname``.

    Only the name is stored; loading always uses the class the caller passes,
    never one the stored data names.

    Raises:
        InvalidStoreArgumentError: ``cls`` is not a subclass of ``Orchestrator``.
    """
    return _type_name(cls)


def _type_name(cls: object) -> str:
    # Typed `object`: callers without a type checker may pass anything.
    if not (isinstance(cls, type) and issubclass(cls, Orchestrator)):
        msg = (
            f"a store keeps orchestrators by their class; got {cls!r}, which is not a "
            f"subclass of Orchestrator: pass the orchestrator class, e.g. store.load(Shop, key)"
        )
        raise InvalidStoreArgumentError(msg)
    return f"{cls.__module__}:{cls.__qualname__}"


def conflict(type_name: str, key: str, problem: str) -> ConcurrentUpdateError:
    """The error every store raises when a write loses to another writer."""
    msg = (
        f"{type_name} {key!r} {problem}; nothing was written: run the unit of work again "
        f"on fresh state (see statemachines_orchestrator.store.retry)"
    )
    return ConcurrentUpdateError(msg)


MAX_KEY_LENGTH = 255
"""The longest key a store accepts (the SQL stores' key column is a VARCHAR(255))."""


def _check_key(key: object) -> str:
    if type(key) is not str or not key:
        msg = (
            f"a store key must be a non-empty str, got {type(key).__qualname__} {key!r}; "
            f"convert it first, e.g. str(order_id)"
        )
        raise InvalidStoreArgumentError(msg)
    if len(key) > MAX_KEY_LENGTH:
        msg = (
            f"a store key must be at most {MAX_KEY_LENGTH} characters, got one of {len(key)} "
            f"({key[:20]!r}...); use a shorter identifier, or a hash of this one"
        )
        raise InvalidStoreArgumentError(msg)
    return key


def _not_found(cls: type[Orchestrator], type_name: str, key: str) -> SnapshotNotFoundError:
    msg = (
        f"no {cls.__qualname__} is stored under key {key!r} (type {type_name!r}); "
        f"create it with store.create(), or use store.transaction({cls.__qualname__}, key), "
        f"which builds a new one for a new key"
    )
    return SnapshotNotFoundError(msg)


def _check_built(cls: type[OrcT], orc: object, where: str) -> OrcT:
    if not isinstance(orc, cls):
        msg = (
            f"{where} must give a {cls.__qualname__}, got {type(orc).__qualname__} {orc!r}; "
            f"return an instance of the class the unit of work was opened for"
        )
        raise InvalidStoreArgumentError(msg)
    return orc


class _Versions:
    """The version each orchestrator a store handed out was loaded or saved at.

    Keyed by identity (an orchestrator may define ``__eq__``), forgotten when
    the orchestrator is garbage collected.
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref[Any], str, str, int]] = {}

    def remember(self, orc: Orchestrator, type_name: str, key: str, version: int) -> None:
        ident = id(orc)
        entries = self._entries

        # A replaced entry's weakref dies with the entry, its callback unsent;
        # so the callback that runs belongs to the entry still there.
        def forget(_ref: weakref.ref[Any]) -> None:
            entries.pop(ident, None)

        entries[ident] = (weakref.ref(orc, forget), type_name, key, version)

    def lookup(self, orc: Orchestrator) -> tuple[str, str, int] | None:
        entry = self._entries.get(id(orc))
        if entry is None or entry[0]() is not orc:
            return None
        return entry[1], entry[2], entry[3]


def _refuse_untracked(store: object, orc: Orchestrator, seen: tuple[str, str, int] | None) -> None:
    if seen is None:
        msg = (
            f"{type(store).__qualname__}.save() got a {type(orc).__qualname__} it did not load "
            f"or create, so it has no version to check the write against; store a new one "
            f"with store.create(orc, key), or change stored ones in store.transaction(cls, key)"
        )
        raise OrchestratorNotFromStoreError(msg)


class Store(ABC):
    """A place that keeps orchestrators by class and key, with optimistic concurrency.

    Subclasses implement the three document methods (:meth:`read_document`,
    :meth:`insert_document`, :meth:`update_document`) and call
    ``super().__init__()``; everything else is written on top of them.
    Every write is checked against the version of the document it replaces, so
    of two writers that loaded the same version, the second one gets
    :class:`~statemachines_orchestrator.ConcurrentUpdateError` and writes
    nothing.
    """

    def __init__(self) -> None:
        self._versions = _Versions()

    # ------------------------------------------------------------------ documents

    @abstractmethod
    def read_document(self, type_name: str, key: str) -> Document | None:
        """The document stored under ``(type_name, key)``, or ``None``."""

    @abstractmethod
    def insert_document(self, type_name: str, key: str, data: dict[str, Any]) -> Document:
        """Store a new document at version 1.

        Raises:
            ConcurrentUpdateError: A document is already stored under that key.
        """

    @abstractmethod
    def update_document(
        self, type_name: str, key: str, data: dict[str, Any], version: int
    ) -> Document:
        """Replace the document stored at ``version`` by ``data``, at ``version + 1``.

        Raises:
            ConcurrentUpdateError: The stored document is not at ``version`` (or is gone).
        """

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op unless a backend holds resources
        """Release what the store holds (connections); a no-op for the memory store."""

    # ------------------------------------------------------------------ orchestrators

    def load(self, cls: type[OrcT], key: str) -> OrcT:
        """Restore the ``cls`` stored under ``key``.

        Raises:
            SnapshotNotFoundError: Nothing of that class is stored under ``key``.
        """
        type_name = type_name_of(cls)
        document = self.read_document(type_name, _check_key(key))
        if document is None:
            raise _not_found(cls, type_name, key)
        orc = cls.restore(document.data)
        self._versions.remember(orc, type_name, key, document.version)
        return orc

    def create(self, orc: Orchestrator, key: str) -> None:
        """Store ``orc``, a new orchestrator, under ``key``.

        Raises:
            ConcurrentUpdateError: An orchestrator of its class is already stored
                under ``key``.
        """
        type_name = type_name_of(type(orc))
        document = self.insert_document(type_name, _check_key(key), orc.snapshot())
        self._versions.remember(orc, type_name, key, document.version)

    def save(self, orc: Orchestrator) -> None:
        """Write ``orc`` back under the key it was loaded or created with.

        Raises:
            OrchestratorNotFromStoreError: This store did not load or create ``orc``.
            ConcurrentUpdateError: Someone else saved it since; nothing was written.
        """
        seen = self._versions.lookup(orc)
        _refuse_untracked(self, orc, seen)
        assert seen is not None  # noqa: S101 - for the type checkers; _refuse_untracked raised
        type_name, key, version = seen
        document = self.update_document(type_name, key, orc.snapshot(), version)
        self._versions.remember(orc, type_name, key, document.version)

    def transaction(
        self, cls: type[OrcT], key: str, *, create: Callable[[], OrcT] | None = None
    ) -> UnitOfWork[OrcT]:
        """A unit of work on the ``cls`` stored under ``key``: ``with store.transaction(...)``.

        Entering it loads the orchestrator, or builds a new one for a new key
        (``cls()``, or ``create()`` when given); leaving it without an exception
        saves it, with the version check; leaving it with an exception writes
        nothing. No database lock is held while the block runs.

        Args:
            cls: The orchestrator class.
            key: The key it is stored under.
            create: Builds the orchestrator when nothing is stored under ``key``
                (default: ``cls()``).

        Raises:
            ConcurrentUpdateError: On leaving the block, if another writer saved
                (or created) it first; nothing of this unit of work is written.
        """
        return UnitOfWork(self, self._versions, cls, key, create)


class _Work(Generic[OrcT]):
    """What :class:`UnitOfWork` and :class:`AsyncUnitOfWork` share: all but the I/O."""

    __slots__ = (
        "_cls",
        "_create",
        "_key",
        "_type_name",
        "_versions",
        "loaded_version",
        "orchestrator",
        "saved_version",
    )

    def __init__(
        self, versions: _Versions, cls: type[OrcT], key: str, create: Callable[[], OrcT] | None
    ) -> None:
        self._versions = versions
        self._cls = cls
        self._type_name = type_name_of(cls)
        self._key = _check_key(key)
        self._create = create
        self.orchestrator: OrcT | None = None
        self.loaded_version: int | None = None
        self.saved_version: int | None = None

    def _new(self) -> OrcT:
        """A new orchestrator, for a key with nothing stored."""
        cls = self._cls
        orc = _check_built(cls, self._create() if self._create else cls(), "create()")
        self.loaded_version = None
        return orc

    def _loaded(self, document: Document) -> OrcT:
        """The orchestrator restored from the document read on entry."""
        orc = self._cls.restore(document.data)
        self.loaded_version = document.version
        return orc

    def _leaving(self, exc_type: type[BaseException] | None) -> OrcT | None:
        """The orchestrator to save when the block ends, or ``None`` to write nothing."""
        orc = self.orchestrator
        self.orchestrator = None
        return None if exc_type is not None else orc

    def _saved(self, orc: OrcT, document: Document) -> None:
        self.saved_version = document.version
        self._versions.remember(orc, self._type_name, self._key, document.version)


class UnitOfWork(_Work[OrcT]):
    """Load, change and save one stored orchestrator; from :meth:`Store.transaction`.

    Attributes:
        orchestrator: The orchestrator the block works on (``None`` outside it).
        loaded_version: The version it was loaded at, ``None`` for a new key.
        saved_version: The version written when the block ended, ``None`` until then.
    """

    __slots__ = ("_store",)

    def __init__(
        self,
        store: Store,
        versions: _Versions,
        cls: type[OrcT],
        key: str,
        create: Callable[[], OrcT] | None,
    ) -> None:
        super().__init__(versions, cls, key, create)
        self._store = store

    def __enter__(self) -> OrcT:
        document = self._store.read_document(self._type_name, self._key)
        orc = self._new() if document is None else self._loaded(document)
        self.orchestrator = orc
        return orc

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        orc = self._leaving(exc_type)
        if orc is None:
            return
        store, type_name, key = self._store, self._type_name, self._key
        data = orc.snapshot()
        if self.loaded_version is None:
            document = store.insert_document(type_name, key, data)
        else:
            document = store.update_document(type_name, key, data, self.loaded_version)
        self._saved(orc, document)


class AsyncStore(ABC):
    """The asyncio twin of :class:`Store`: the same operations, awaited.

    A new orchestrator built by a unit of work has the initial state of each
    of its async machines activated (``await machine.activate_initial_state()``)
    before the block runs.
    """

    def __init__(self) -> None:
        self._versions = _Versions()

    @abstractmethod
    async def read_document(self, type_name: str, key: str) -> Document | None:
        """The document stored under ``(type_name, key)``, or ``None``."""

    @abstractmethod
    async def insert_document(self, type_name: str, key: str, data: dict[str, Any]) -> Document:
        """Store a new document at version 1.

        Raises:
            ConcurrentUpdateError: A document is already stored under that key.
        """

    @abstractmethod
    async def update_document(
        self, type_name: str, key: str, data: dict[str, Any], version: int
    ) -> Document:
        """Replace the document stored at ``version`` by ``data``, at ``version + 1``.

        Raises:
            ConcurrentUpdateError: The stored document is not at ``version`` (or is gone).
        """

    async def close(self) -> None:  # noqa: B027 - optional hook, see Store.close
        """Release what the store holds (connections); a no-op for the memory store."""

    async def load(self, cls: type[OrcT], key: str) -> OrcT:
        """Restore the ``cls`` stored under ``key`` (see :meth:`Store.load`)."""
        type_name = type_name_of(cls)
        document = await self.read_document(type_name, _check_key(key))
        if document is None:
            raise _not_found(cls, type_name, key)
        orc = cls.restore(document.data)
        self._versions.remember(orc, type_name, key, document.version)
        return orc

    async def create(self, orc: Orchestrator, key: str) -> None:
        """Store ``orc``, a new orchestrator, under ``key`` (see :meth:`Store.create`)."""
        type_name = type_name_of(type(orc))
        document = await self.insert_document(type_name, _check_key(key), orc.snapshot())
        self._versions.remember(orc, type_name, key, document.version)

    async def save(self, orc: Orchestrator) -> None:
        """Write ``orc`` back under the key it came from (see :meth:`Store.save`)."""
        seen = self._versions.lookup(orc)
        _refuse_untracked(self, orc, seen)
        assert seen is not None  # noqa: S101 - for the type checkers; _refuse_untracked raised
        type_name, key, version = seen
        document = await self.update_document(type_name, key, orc.snapshot(), version)
        self._versions.remember(orc, type_name, key, document.version)

    def transaction(
        self, cls: type[OrcT], key: str, *, create: Callable[[], OrcT] | None = None
    ) -> AsyncUnitOfWork[OrcT]:
        """A unit of work: ``async with store.transaction(cls, key) as orc``.

        See :meth:`Store.transaction`.
        """
        return AsyncUnitOfWork(self, self._versions, cls, key, create)


async def activate_initial_states(orc: Orchestrator) -> None:
    """Activate the initial state of each machine of ``orc`` that has none yet (async machines).

    Members of collections included.
    """
    from statemachines_orchestrator._collections import labelled_machines  # noqa: PLC0415

    for _name, _key, machine in labelled_machines(orc):
        if machine.current_state_value is None:
            result = machine.activate_initial_state()
            if inspect.isawaitable(result):
                await result


class AsyncUnitOfWork(_Work[OrcT]):
    """The asyncio twin of :class:`UnitOfWork`, from :meth:`AsyncStore.transaction`.

    Attributes:
        orchestrator: The orchestrator the block works on (``None`` outside it).
        loaded_version: The version it was loaded at, ``None`` for a new key.
        saved_version: The version written when the block ended, ``None`` until then.
    """

    __slots__ = ("_store",)

    def __init__(
        self,
        store: AsyncStore,
        versions: _Versions,
        cls: type[OrcT],
        key: str,
        create: Callable[[], OrcT] | None,
    ) -> None:
        super().__init__(versions, cls, key, create)
        self._store = store

    async def __aenter__(self) -> OrcT:
        document = await self._store.read_document(self._type_name, self._key)
        if document is None:
            orc = self._new()
            await activate_initial_states(orc)
        else:
            orc = self._loaded(document)
        self.orchestrator = orc
        return orc

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        orc = self._leaving(exc_type)
        if orc is None:
            return
        store, type_name, key = self._store, self._type_name, self._key
        data = orc.snapshot()
        if self.loaded_version is None:
            document = await store.insert_document(type_name, key, data)
        else:
            document = await store.update_document(type_name, key, data, self.loaded_version)
        self._saved(orc, document)

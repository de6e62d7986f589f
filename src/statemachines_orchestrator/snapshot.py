"""Snapshots: the format, the data a machine class saves, and upgrades of old snapshots.

:meth:`Orchestrator.snapshot() <statemachines_orchestrator.Orchestrator.snapshot>`
returns a :class:`Snapshot`, plain JSON data;
:meth:`Orchestrator.restore() <statemachines_orchestrator.Orchestrator.restore>`
builds an orchestrator from one. See :doc:`/snapshots`.

A machine class opts its own data in with :class:`SnapshotFields`' two class
attributes; an orchestrator class whose machines changed registers an
:func:`upgrade` for the snapshots saved before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar, TypeVar

from typing_extensions import Protocol, TypedDict

from . import _snapshot
from .exceptions import (
    MachineDataNotSerializableError,
    SnapshotError,
    SnapshotTypeError,
    SnapshotVersionError,
)

if TYPE_CHECKING:
    from .orchestrator import Orchestrator

__all__ = [
    "FORMAT_VERSION",
    "MachineDataNotSerializableError",
    "MachineSnapshot",
    "Snapshot",
    "SnapshotError",
    "SnapshotFields",
    "SnapshotTypeError",
    "SnapshotVersionError",
    "upgrade",
    "version_of",
]

FORMAT_VERSION: int = _snapshot.FORMAT_VERSION
"""The snapshot format this release writes under ``"format"``, and the newest it reads."""


# "class" is a keyword: the functional form spells the real key.
MachineSnapshot = TypedDict(
    "MachineSnapshot",
    {
        "class": str,
        "configuration": list[str],
        "history": dict[str, list[str]],
        "finished": bool,
        "data": dict[str, Any],
        "model": dict[str, Any],
    },
)
MachineSnapshot.__doc__ = """One machine of a :class:`Snapshot`.

Keys: ``"class"`` (the machine's class, ``"module:qualname"``, compared and never
imported), ``"configuration"`` (every active state's id, parents and parallel
regions included), ``"history"`` (history pseudo-state id to the ids it
recorded; 3.x), ``"finished"`` (whether a 3.x machine reached a top-level final
state), ``"data"`` (its :class:`SnapshotFields` ``snapshot_fields``) and
``"model"`` (its model's ``snapshot_model_fields``).
"""


class Snapshot(TypedDict):
    """What :meth:`~statemachines_orchestrator.Orchestrator.snapshot` returns."""

    #: The format version, :data:`FORMAT_VERSION` when written by this release.
    format: int
    #: The orchestrator class, ``"module:qualname"``; compared, never imported.
    orchestrator: str
    #: The orchestrator class's snapshot version (see :func:`upgrade`); 0 by default.
    version: int
    #: Machine field name to :class:`MachineSnapshot`.
    machines: dict[str, MachineSnapshot]


class SnapshotFields(Protocol):
    """The class attributes by which a machine class opts its data into snapshots.

    Declare either on the machine class (both are optional; a class without
    them saves none of its own data). Each names attributes whose values must
    be JSON data (str, int, finite float, bool, None, lists, dicts with str
    keys), checked when the snapshot is taken.

    Example:
        >>> from typing import ClassVar
        >>> from statemachine import State, StateMachine
        >>> class Cart(StateMachine):
        ...     snapshot_fields: ClassVar[tuple[str, ...]] = ("items",)
        ...     open = State(initial=True)
        ...     closed = State(final=True)
        ...     checkout = open.to(closed)
        ...     def __init__(self, **kwargs):
        ...         self.items = []
        ...         super().__init__(**kwargs)
    """

    snapshot_fields: ClassVar[tuple[str, ...]]
    """Attributes of the machine itself (those its callbacks set), saved under ``"data"``.

    Public names only; not a state, an event, a method or a python-statemachine
    attribute. Restoring sets them on the new machine (after its ``__init__``).
    """

    snapshot_model_fields: ClassVar[tuple[str, ...]]
    """Attributes of the machine's model, saved under ``"model"`` (not its state field)."""


_U = TypeVar("_U", bound=Callable[[dict[str, Any], int], dict[str, Any]])


def upgrade(cls: type[Orchestrator], *, version: int) -> Callable[[_U], _U]:
    """Register a function that upgrades ``cls``'s older snapshots to ``version``.

    From then on ``cls``'s snapshots carry ``"version": version``, and
    :meth:`~statemachines_orchestrator.Orchestrator.restore` hands a snapshot
    of an older version (0 before any upgrade) to the function, with that
    version, before checking it. The function receives a copy of the raw data,
    returns the upgraded data with ``"version"`` set to ``version`` (rename a
    state id, drop a machine...), and is registered once per class (a later
    registration replaces it): it upgrades every older version.

    Args:
        cls: The orchestrator class whose snapshots it upgrades.
        version: The version it upgrades to: 1 or more.

    Returns:
        A decorator that registers the function and returns it unchanged.

    Raises:
        SnapshotTypeError: ``cls`` is no orchestrator class, or ``version`` no
            int of 1 or more.

    Example:
        >>> from statemachine import State, StateMachine
        >>> from statemachines_orchestrator import Orchestrator
        >>> class Light(StateMachine):
        ...     dark = State(initial=True)  # was called "off" in version 0
        ...     lit = State()
        ...     flip = dark.to(lit) | lit.to(dark)
        >>> class Room(Orchestrator):
        ...     light: Light
        >>> @upgrade(Room, version=1)
        ... def rename_off(data, saved_version):
        ...     light = data["machines"]["light"]
        ...     light["configuration"] = [
        ...         "dark" if s == "off" else s for s in light["configuration"]
        ...     ]
        ...     data["version"] = 1
        ...     return data
        >>> old = {"format": 1, "orchestrator": Room.restore.__self__.__module__ + ":Room",
        ...        "version": 0, "machines": {"light": {
        ...            "class": Light.__module__ + ":Light", "configuration": ["off"],
        ...            "history": {}, "finished": False, "data": {}, "model": {}}}}
        >>> Room.restore(old).light.current_state_value
        'dark'
    """

    def register(function: _U) -> _U:
        _snapshot.register_upgrade(cls, version, function)
        return function

    return register


def version_of(cls: type[Orchestrator]) -> int:
    """The version ``cls``'s snapshots carry: the last :func:`upgrade` registered, or 0."""
    return _snapshot.version_of(cls)

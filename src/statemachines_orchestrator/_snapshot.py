"""Snapshots of an orchestrator as plain JSON data, and restoring them.

The format (version :data:`FORMAT_VERSION`)::

    {"format": 1, "orchestrator": "module:Qualname", "version": 0,
     "machines": {field: {"class": "module:Qualname",
                          "configuration": [state ids], "history": {history id: [state ids]},
                          "finished": bool, "data": {attr: JSON}, "model": {attr: JSON}}}}

A snapshot is data from outside: restoring one imports nothing and calls
nothing it names; every value is checked (with plain type checks, so that
restoring stays cheap) before a machine is built or wired.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, NoReturn, TypeVar, cast

from . import _collections, _joining, _psm
from .exceptions import (
    MachineBusyError,
    MachineDataNotSerializableError,
    NoMachinesOnOrchestratorError,
    SnapshotError,
    SnapshotTypeError,
    SnapshotVersionError,
)

if TYPE_CHECKING:
    from ._fields import MachineField
    from .orchestrator import Orchestrator

__all__ = [
    "FORMAT_VERSION",
    "MACHINE_KEYS",
    "TOP_KEYS",
    "MachineInfo",
    "Upgrade",
    "class_path",
    "declared_fields",
    "machine_info",
    "refuse_busy",
    "register_upgrade",
    "restore",
    "snapshot",
    "version_of",
]

FORMAT_VERSION = 1
"""The version of the snapshot format this release writes (and the newest it reads)."""

TOP_KEYS = frozenset({"format", "orchestrator", "version", "machines"})
MACHINE_KEYS = frozenset({"class", "configuration", "history", "finished", "data", "model"})

Upgrade = Callable[[dict[str, Any], int], dict[str, Any]]
"""An upgrade function: the raw snapshot and the version it was saved with, to the upgraded one."""

_O = TypeVar("_O", bound="Orchestrator")

_UPGRADE = "_statemachines_orchestrator_snapshot_upgrade"
"""The attribute of an orchestrator class's own ``__dict__`` that holds its registered
upgrade, ``(version, function)``: never inherited, since a subclass is another class
with snapshots of its own."""

_SCALARS = frozenset({str, int, bool, type(None)})
"""The JSON types a value is copied by reference for (floats need a finiteness check)."""

_RESERVED_DATA_NAMES = frozenset(
    {"model", "state_field", "history_values", "start_value", "start_configuration_values"}
)


def class_path(cls: type[Any]) -> str:
    """A class's import path, ``"module:qualname"``."""
    return f"{cls.__module__}:{cls.__qualname__}"


def _registered(cls: type[Any]) -> tuple[int, Upgrade] | None:
    registered: tuple[int, Upgrade] | None = cls.__dict__.get(_UPGRADE)
    return registered


def version_of(cls: type[Any]) -> int:
    """The snapshot version of an orchestrator class: its upgrade's, or 0."""
    registered = _registered(cls)
    return 0 if registered is None else registered[0]


def register_upgrade(cls: type[Any], version: int, function: Upgrade) -> None:
    """Record ``function`` as the upgrade of ``cls``'s snapshots to ``version``."""
    from .orchestrator import Orchestrator  # noqa: PLC0415 - no upward edge at import time

    candidate: object = cls
    if not (isinstance(candidate, type) and issubclass(candidate, Orchestrator)) or (  # pyright: ignore[reportUnnecessaryIsInstance]
        candidate is Orchestrator
    ):
        msg = f"upgrade() takes an Orchestrator subclass, got {cls!r}"
        raise SnapshotTypeError(msg)
    if type(version) is not int or version < 1:
        msg = (
            f"upgrade({cls.__qualname__}, version=...) takes an int of 1 or more (the version "
            f"of {cls.__qualname__}'s snapshots the function upgrades to), got {version!r}"
        )
        raise SnapshotTypeError(msg)
    if not callable(function):
        msg = (
            f"upgrade({cls.__qualname__}, version={version}) decorates a function, got "
            f"{function!r}"
        )
        raise SnapshotTypeError(msg)
    type.__setattr__(cls, _UPGRADE, (version, function))
    if _COMMON in cls.__dict__:  # it holds the version the fast path expects
        type.__delattr__(cls, _COMMON)


# --- what a machine class declares --------------------------------------------------------

_INFO = "_statemachines_orchestrator_snapshot_info"
"""The attribute of a machine class's own ``__dict__`` that caches its :class:`MachineInfo`."""


class MachineInfo:
    """What snapshots need of a machine class, worked out once (restoring must be cheap)."""

    __slots__ = ("fields", "flat_values", "model_fields", "path", "shape")

    def __init__(self, cls: type[Any]) -> None:
        self.shape = _psm.shape_of(cls)
        self.path = class_path(cls)
        # State id to state value, for the machines that have one state at a time.
        self.flat_values: dict[str, Any] = (
            {i: state.value for i, state in self.shape.states.items()} if self.shape.flat else {}
        )
        self.fields = _check_declared(cls, "snapshot_fields")
        self.model_fields = _check_declared(cls, "snapshot_model_fields")


def machine_info(cls: type[Any]) -> MachineInfo:
    """The (cached, checked) :class:`MachineInfo` of a machine class."""
    # Kept in the class's own __dict__: a lookup there is cheaper than in a
    # WeakKeyDictionary, and dies with the class. Never inherited: a subclass
    # has states and fields of its own.
    info: MachineInfo | None = cls.__dict__.get(_INFO)
    if info is None:
        info = MachineInfo(cls)
        type.__setattr__(cls, _INFO, info)
    return info


def declared_fields(cls: type[Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (checked) ``snapshot_fields`` and ``snapshot_model_fields`` of a machine class."""
    info = machine_info(cls)
    return info.fields, info.model_fields


def _check_declared(cls: type[Any], attribute: str) -> tuple[str, ...]:
    declared: object = getattr(cls, attribute, ())
    where = f"{cls.__qualname__}.{attribute}"
    if not isinstance(declared, tuple) or not all(
        n.__class__ is str for n in cast("tuple[object, ...]", declared)
    ):
        msg = f"{where} must be a tuple of attribute names (str), got {declared!r}"
        raise SnapshotTypeError(msg)
    names = cast("tuple[str, ...]", declared)
    for name in names:
        problem = None
        if not name.isidentifier() or name.startswith("__"):
            problem = "is not a plain attribute name"
        elif names.count(name) > 1:
            problem = "is listed twice"
        elif attribute == "snapshot_fields" and name.startswith("_"):
            problem = "is private (python-statemachine keeps its own state in such names)"
        elif attribute == "snapshot_fields" and (
            name in _RESERVED_DATA_NAMES
            or name in _psm.shape_of(cls).states
            or hasattr(_psm.MACHINE_BASE, name)
            or callable(getattr(cls, name, None))
        ):
            problem = "is a state, an event, a method, or an attribute of python-statemachine"
        if problem is not None:
            msg = f"{where}: {name!r} {problem}; list the attributes your callbacks set"
            raise SnapshotTypeError(msg)
    return names


# --- JSON values ----------------------------------------------------------------------------


def _json_copy(
    value: Any, path: tuple[Any, ...], fail: Callable[[tuple[Any, ...], Any], None]
) -> Any:
    """Copy a value made of JSON types only (exactly), or call ``fail(path, bad value)``."""
    kind: type[Any] = value.__class__
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if not math.isfinite(value):
            fail(path, value)
        return value
    if kind is list:
        return [_json_copy(item, (*path, i), fail) for i, item in enumerate(value)]
    if kind is dict:
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                fail((*path, key), key)
            copied[key] = _json_copy(item, (*path, key), fail)
        return copied
    fail(path, value)
    return None  # pragma: no cover - fail() raises


def _path_text(path: tuple[Any, ...]) -> str:
    return "".join(f"[{part!r}]" for part in path)


# --- taking a snapshot ----------------------------------------------------------------------


def refuse_busy(orc: Orchestrator, name: str, machine: Any) -> NoReturn:
    """Refuse a snapshot: machine ``name`` processes an event or has events queued."""
    if _psm.is_processing(machine):
        why = "is processing an event (called from one of its callbacks, or another thread)"
    else:
        why = "has events waiting in its queue (delayed events included)"
    msg = (
        f"{type(orc).__qualname__}: cannot take a snapshot while machine {name!r} {why}; a "
        f"snapshot holds configurations only, never events in flight: do it once the "
        f"events are processed (or cancelled), e.g. from the code that sent them"
    )
    raise MachineBusyError(msg)


def snapshot(orc: Orchestrator) -> dict[str, Any]:
    """What :meth:`Orchestrator.snapshot` returns."""
    cls = type(orc)
    own = vars(orc)
    machines: dict[str, Any] = {}
    for name in cls.__machine_fields__:
        machine = own.get(name)
        if machine is None:
            msg = f"cannot snapshot a released {cls.__qualname__}: it holds no machine"
            raise SnapshotError(msg)
        if isinstance(machine, (list, dict)):
            machines[name] = _collection_entries(orc, name, machine)
            continue
        machines[name] = _entry(orc, name, machine)
    path: str | None = cls.__dict__.get(_PATH)
    if path is None:
        path = class_path(cls)
        type.__setattr__(cls, _PATH, path)
    return {
        "format": FORMAT_VERSION,
        "orchestrator": path,
        "version": version_of(cls),
        "machines": machines,
    }


def _collection_entries(orc: Orchestrator, name: str, value: Any) -> Any:
    """The entries of a collection field: a list in order, or a dict by member key."""
    if isinstance(value, list):
        items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        return [_entry(orc, f"{name}[{i}]", machine) for i, machine in enumerate(items)]
    entries: dict[str, Any] = value
    return {key: _entry(orc, f"{name}[{key!r}]", machine) for key, machine in entries.items()}


def _refuse_value(orc: Orchestrator, name: str, machine: Any, exc: KeyError) -> NoReturn:
    msg = (
        f"{type(orc).__qualname__}: machine {name!r} ({type(machine).__qualname__}) holds the "
        f"state value {exc.args[0]!r} in its model, which is no state of its class"
    )
    raise SnapshotError(msg) from None


def _entry(orc: Orchestrator, name: str, machine: Any) -> dict[str, Any]:
    """The snapshot of one machine: a single field's, or a member's (``name``: ``field[key]``)."""
    machine_cls: type[Any] = machine.__class__
    info: MachineInfo | None = machine_cls.__dict__.get(_INFO)
    if info is None:
        info = machine_info(machine_cls)
    try:
        state = _psm.read_state(machine, info.shape)
    except KeyError as exc:
        _refuse_value(orc, name, machine, exc)
    if state is None:
        refuse_busy(orc, name, machine)
    ids, history, finished = state
    return {
        "class": info.path,
        "configuration": ids,
        "history": history,
        "finished": finished,
        "data": _collect(orc, name, machine, machine, info.fields) if info.fields else {},
        "model": _collect(orc, name, machine, machine.model, info.model_fields, _MODEL_FIELDS)
        if info.model_fields
        else {},
    }


_PATH = "_statemachines_orchestrator_snapshot_path"
"""The attribute of an orchestrator class's own ``__dict__`` caching its import path."""

_MODEL_FIELDS = "snapshot_model_fields"


def _collect(  # noqa: PLR0913, PLR0917 - a private helper on the hot path: no options object
    orc: Orchestrator,
    name: str,
    machine: Any,
    source: Any,
    attributes: tuple[str, ...],
    declaration: str = "snapshot_fields",
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if declaration is not _MODEL_FIELDS:
        # The common case: the machine's own attributes, each a JSON scalar.
        for attribute in attributes:
            value = getattr(source, attribute, data)
            if value.__class__ not in _SCALARS:
                break
            data[attribute] = value
        else:
            return data
        data = {}
    model = source is not machine
    owner = _owner(orc, name, machine, source)
    for attribute in attributes:
        if model and attribute == machine.state_field:
            msg = (
                f"{owner} lists its state field {attribute!r} in "
                f"{declaration}; the snapshot saves the configuration already: remove it "
                f"from {declaration}"
            )
            raise SnapshotTypeError(msg)
        try:
            value = getattr(source, attribute)
        except AttributeError:
            msg = (
                f"{owner} has no attribute {attribute!r}, which its class "
                f"lists in {declaration}; give it a value in __init__ or a class-level default"
            )
            raise SnapshotError(msg) from None
        if value.__class__ in _SCALARS:
            data[attribute] = value
            continue

        def fail(path: tuple[Any, ...], bad: Any, attribute: str = attribute) -> None:
            msg = (
                f"{owner}: attribute {attribute!r}{_path_text(path)} holds "
                f"{type(bad).__qualname__} {bad!r}, which is not JSON data (str, int, finite "
                f"float, bool, None, list, dict with str keys); store it in a JSON form, or "
                f"remove {attribute!r} from {declaration}"
            )
            raise MachineDataNotSerializableError(msg)

        data[attribute] = _json_copy(value, (), fail)
    return data


def _owner(orc: Orchestrator, name: str, machine: Any, source: Any) -> str:
    """How errors name a machine (or its model) of ``orc``."""
    owner = "machine" if source is machine else "model of machine"
    return f"{type(orc).__qualname__}: {owner} {name!r} ({type(machine).__qualname__})"


# --- restoring ------------------------------------------------------------------------------


class _Plan:
    """One machine field's checked entry of a snapshot."""

    __slots__ = ("data", "field", "finished", "given", "history", "ids", "model", "shape")

    def __init__(  # noqa: PLR0913, PLR0917 - one per attribute, positional for speed
        self,
        field: MachineField,
        given: Any,
        shape: _psm.ChartShape,
        ids: list[str],
        history: dict[str, list[str]],
        finished: bool,  # noqa: FBT001 - positional, for speed; a private record
        data: dict[str, Any],
        model: dict[str, Any],
    ) -> None:
        self.field = field
        self.given = given
        self.shape = shape
        self.ids = ids
        self.history = history
        self.finished = finished
        self.data = data
        self.model = model


def _type_error(where: str, what: str, value: Any) -> SnapshotTypeError:
    return SnapshotTypeError(
        f"{where}: {what} must be {_KINDS[what]}, got {type(value).__qualname__} {value!r}"
    )


_KINDS = {
    "the snapshot": "a dict (a JSON object, as Orchestrator.snapshot() returns)",
    '"format"': "an int",
    '"orchestrator"': 'a str ("module:qualname")',
    '"version"': "an int",
    '"machines"': "a dict of machine field name to machine snapshot",
    "its snapshot": "a dict",
    '"class"': 'a str ("module:qualname")',
    '"history"': "a dict of history state id to a list of state ids",
    '"finished"': "a bool",
    '"data"': "a dict of attribute name to JSON value",
    '"model"': "a dict of attribute name to JSON value",
}


def _checked_format(top: dict[str, Any], where: str) -> None:
    fmt = top.get("format")
    if type(fmt) is not int:
        if "format" not in top:
            msg = f'{where}: the snapshot has no "format" key; is it a snapshot at all?'
            raise SnapshotError(msg)
        raise _type_error(where, '"format"', fmt)
    if fmt > FORMAT_VERSION:
        msg = (
            f"{where}: the snapshot's format {fmt} is newer than this release reads "
            f"({FORMAT_VERSION}); upgrade statemachines-orchestrator"
        )
        raise SnapshotVersionError(msg)
    if fmt < 1:
        msg = f"{where}: the snapshot's format {fmt} does not exist (formats start at 1)"
        raise SnapshotError(msg)


def _checked_top(cls: type[Orchestrator], data: Any, where: str) -> dict[str, Any]:
    """Check the top level of a snapshot (its machines aside); return it as a dict."""
    if not isinstance(data, dict):
        if not isinstance(data, Mapping):
            raise _type_error(where, "the snapshot", data)
        data = dict(cast("Mapping[str, Any]", data))
    top = cast("dict[str, Any]", data)
    # The format first: a newer format may have other keys.
    _checked_format(top, where)
    if top.keys() != TOP_KEYS:
        _refuse_keys(where, "the snapshot", top, TOP_KEYS)
    path = top["orchestrator"]
    if type(path) is not str:
        raise _type_error(where, '"orchestrator"', path)
    expected = class_path(cls)
    if path != expected:
        msg = (
            f"{where}: the snapshot is one of {path}, not of {expected}; restore it with "
            f"the class that took it"
        )
        raise SnapshotError(msg)
    if type(top["version"]) is not int:
        raise _type_error(where, '"version"', top["version"])
    if type(top["machines"]) is not dict:
        raise _type_error(where, '"machines"', top["machines"])
    return top


def _refuse_keys(where: str, what: str, value: dict[str, Any], expected: frozenset[str]) -> None:
    missing = sorted(expected - value.keys())
    unknown = sorted(map(repr, value.keys() - expected))
    parts: list[str] = []
    if missing:
        parts.append(f"lacks the keys {', '.join(map(repr, missing))}")
    if unknown:
        parts.append(f"has keys the format does not know: {', '.join(unknown)}")
    msg = f"{where}: {what} {' and '.join(parts)}"
    raise SnapshotError(msg)


def _upgraded(cls: type[Orchestrator], data: Any, where: str) -> dict[str, Any]:
    """The checked top level of ``data``, upgraded when it is of an older version."""
    top = _checked_top(cls, data, where)
    saved: int = top["version"]
    current = version_of(cls)
    if saved == current:
        return top
    if saved > current:
        msg = (
            f"{where}: the snapshot's version {saved} is newer than {cls.__qualname__}'s "
            f"({current}, registered with statemachines_orchestrator.snapshot.upgrade); restore "
            f"it with the release of your application that wrote it"
        )
        raise SnapshotVersionError(msg)
    registered = _registered(cls)
    if saved < 0 or registered is None:
        msg = f"{where}: the snapshot's version {saved} does not exist (versions start at 0)"
        raise SnapshotVersionError(msg)
    function = registered[1]

    def fail(path: tuple[Any, ...], bad: Any) -> None:
        msg = (
            f"{where}: the snapshot{_path_text(path)} holds {type(bad).__qualname__} {bad!r}, "
            f"which is not JSON data"
        )
        raise SnapshotTypeError(msg)

    result = function(_json_copy(top, (), fail), saved)
    name = getattr(function, "__qualname__", repr(function))
    upgraded = _checked_top(cls, result, f"{where}, after the upgrade {name}()")
    if upgraded["version"] != current:
        msg = (
            f"{where}: the upgrade {name}() returned a snapshot of version "
            f'{upgraded["version"]!r}; it must set "version" to {current}'
        )
        raise SnapshotVersionError(msg)
    return upgraded


def restore(cls: type[_O], data: Any, given: dict[str, Any]) -> _O:  # noqa: C901 - each kind of snapshot its branch
    """What :meth:`Orchestrator.restore` does."""
    if not given and _psm.FAST:
        common = _restore_common(cls, data)
        if common is not None:
            return common
    if cls.__orchestrator_pending__:
        _joining.resolve(cls)
    fields = cls.__machine_fields__
    where = f"{cls.__qualname__}.restore()"
    if not fields:
        msg = (
            f"{cls.__qualname__} declares no machine fields; restore a snapshot with the "
            f"orchestrator class that took it"
        )
        raise NoMachinesOnOrchestratorError(msg)
    top = _upgraded(cls, data, where)
    saved: dict[str, Any] = top["machines"]
    _check_names(cls, where, saved, given)
    orc: _O = cls.__new__(cls)
    if _collections.coordinated(cls):
        # Collections, or fan-ins (whose trackers setup() starts): the general path.
        _restore_members(orc, where, saved, given)
        return orc
    # Everything is checked before anything is built, and built before anything is wired.
    plans, fresh, passed = _plans(orc, where, saved, given)
    machines = _build(orc, plans, passed)
    own = vars(orc)
    own.update(machines)
    try:
        _joining.wire_all(orc, machines)
    except BaseException:
        own.clear()
        raise
    try:
        for plan in plans:
            if plan.given is not None:
                _apply(plan.given, plan)
    except BaseException:
        _joining.release(orc)
        raise
    if fresh:
        _joining.build_missing(orc, fresh)
    return orc


def _restore_common(cls: type[_O], data: Any) -> _O | None:  # noqa: C901, PLR0911, PLR0912 - inline on purpose: restoring must cost what unpickling costs
    """Restore the common case cheaply, or return ``None`` for :func:`restore` to do it.

    The common case: a snapshot of the current format and version, no machine
    passed in, every field saved, each a flat machine in one state with
    scalar data (or none). It is checked inline, with the same rules as the
    general path (``tests/test_snapshot_properties.py`` and the fixtures run
    both), built, and wired as the generated ``__init__`` wires machines. On
    the first thing that does not fit, nothing has been wired, and the general
    path checks again and words the error.
    """
    common: _CommonInfo | None = cls.__dict__.get(_COMMON)
    if common is None:
        common = _common_info(cls)
        if common is None:
            return None
    if (
        data.__class__ is not dict
        or data.keys() != TOP_KEYS
        or data["format"].__class__ is not int
        or data["format"] != FORMAT_VERSION
        or data["orchestrator"] != common.path
        or data["version"].__class__ is not int
        or data["version"] != common.version
    ):
        return None
    saved = data["machines"]
    if saved.__class__ is not dict or len(saved) != len(common.machines):
        return None
    plans: list[tuple[str, type[Any], Any, Any, bool, dict[str, Any]]] = []
    for name, machine_cls, path, values, top_final, fields, shape in common.machines:
        entry = saved.get(name)
        if entry.__class__ is not dict or entry.keys() != MACHINE_KEYS:
            return None
        ids = entry["configuration"]
        if ids.__class__ is not list or len(ids) != 1:
            return None
        state_id = ids[0]
        if state_id.__class__ is not str:
            return None
        raw = values.get(state_id, _NO_STATE)
        finished = entry["finished"]
        history = entry["history"]
        model = entry["model"]
        fields_data = entry["data"]
        if (
            raw is _NO_STATE
            or entry["class"] != path
            or finished is not (state_id in top_final)
            or history.__class__ is not dict
            or history
            or model.__class__ is not dict
            or model
            or fields_data.__class__ is not dict
            or len(fields_data) != len(fields)
        ):
            return None
        for attribute in fields:
            if fields_data.get(attribute, _NO_STATE).__class__ not in _SCALARS:
                return None
        plans.append((name, machine_cls, shape, raw, finished, fields_data))
    orc: _O = cls.__new__(cls)
    own = vars(orc)
    mark = _psm.OwnerMark(orc)
    registries: list[Any] = []
    for name, machine_cls, shape, raw, finished, fields_data in plans:
        machine = _psm.build_with_value(machine_cls, shape, raw)
        if finished:
            _psm.write_history(machine, shape, {}, finished=True)
        for attribute, value in fields_data.items():
            setattr(machine, attribute, value)
        # Fresh machines: unowned, on models of their own.
        registry = _psm.registry_of(machine)
        registry[_psm.OWNER_KEY] = mark
        registries.append(registry)
        own[name] = machine
    try:
        _psm.wire_registries(registries, orc, common.keyword)
    except BaseException:
        _joining.release(orc)
        raise
    _psm.own_listeners(own.values())
    return orc


_COMMON = "_statemachines_orchestrator_snapshot_common"
"""The attribute of an orchestrator class's own ``__dict__`` caching its :class:`_CommonInfo`."""

_NO_STATE = object()

_SINGLE = "single"
_LIST = "list"


def _restore_members(orc: Orchestrator, where: str, saved: dict[str, Any], given: Any) -> None:
    """:func:`restore` for an orchestrator class with collection fields.

    Every entry is checked, every saved machine and member built (no entry
    action runs), then all of them are checked, claimed and wired in one pass,
    as the generated ``__init__`` does for collections: on any failure,
    nothing stays owned.
    """
    cls = type(orc)
    fields = cls.__machine_fields__
    _refuse_given_members(cls, where, given)
    singles = {n: e for n, e in saved.items() if fields[n].kind == _SINGLE}
    plans, _fresh, passed = _plans(orc, where, singles, given, collections=False)
    values: list[Any] = []
    built = _build(orc, plans, passed)
    for name, field in fields.items():
        if field.kind == _SINGLE:
            values.append(built.get(name, field.built))
        elif name in saved:
            values.append(_members(orc, where, field, saved[name]))
        elif field.built is None:
            msg = (
                f"{where}: the snapshot lacks collection field {name!r}; give the field a "
                f"built() default (it is then built fresh), or register an upgrade that "
                f"adds it (statemachines_orchestrator.snapshot.upgrade)"
            )
            raise SnapshotError(msg)
        else:
            values.append(field.built)
    try:
        _collections.setup(orc, tuple(values), cls, post_init=False)
    except BaseException:
        vars(orc).clear()
        raise
    try:
        for plan in plans:
            if plan.given is not None:
                _apply(plan.given, plan)
    except BaseException:  # pragma: no cover - _apply sets checked values only
        _joining.release(orc)
        raise


def _refuse_given_members(cls: type[Orchestrator], where: str, given: dict[str, Any]) -> None:
    for name in given:
        if cls.__machine_fields__[name].kind != _SINGLE:
            msg = (
                f"{where} got machines for {name!r}, a collection field of "
                f"{cls.__qualname__}; restore() rebuilds its members from the snapshot: add "
                f"or replace members after restoring"
            )
            raise SnapshotTypeError(msg)


def _members(orc: Orchestrator, where: str, field: MachineField, entry: Any) -> Any:
    """Check and build the members of one collection field's entry (a list or a dict)."""
    name = field.name
    if field.kind == _LIST:
        if entry.__class__ is not list:
            msg = (
                f"{where}: collection field {name!r} is a list, so its snapshot must be a "
                f"list of machine snapshots, got {type(entry).__qualname__} {entry!r:.80}"
            )
            raise SnapshotTypeError(msg)
        items: list[Any] = entry
        plans = [_plan(where, f"{name}[{i}]", field, item, None) for i, item in enumerate(items)]
        built = _build(orc, plans, {}, all_fields=False)
        return [built[str(i)] for i in range(len(plans))]
    if entry.__class__ is not dict:
        msg = (
            f"{where}: collection field {name!r} is a dict, so its snapshot must be a dict of "
            f"member key (str) to machine snapshot, got {type(entry).__qualname__} "
            f"{entry!r:.80}"
        )
        raise SnapshotTypeError(msg)
    keyed: dict[Any, Any] = entry
    for key in keyed:
        if key.__class__ is not str:
            msg = (
                f"{where}: collection field {name!r} holds the member key {key!r} "
                f"({type(key).__qualname__}); member keys are str"
            )
            raise SnapshotTypeError(msg)
    plans = [_plan(where, f"{name}[{key!r}]", field, item, None) for key, item in keyed.items()]
    built = _build(orc, plans, {}, all_fields=False)
    return {key: built[str(i)] for i, key in enumerate(keyed)}


class _CommonInfo:
    """What :func:`_restore_common` needs of an orchestrator class whose machines are flat."""

    __slots__ = ("keyword", "machines", "path", "version")

    def __init__(self, cls: type[Any], machines: tuple[_CommonMachine, ...]) -> None:
        self.path = class_path(cls)
        self.version = version_of(cls)  # register_upgrade() drops the cache
        self.keyword: str = cls.orchestrator_name
        self.machines = machines


_CommonMachine = tuple[str, type[Any], str, dict[str, Any], frozenset[str], tuple[str, ...], Any]
"""A field's name, machine class, its path, state values by id, top-level final
state ids, snapshot fields, and shape (for :func:`_restore_common`)."""


def _common_info(cls: type[Orchestrator]) -> _CommonInfo | None:
    """Work out (and cache) :class:`_CommonInfo`, or ``None`` when the case does not apply.

    It does not while annotations are pending, nor when a machine class is not
    flat, keeps model fields, or declares its fields wrongly (the general path
    reports that).
    """
    if (
        cls.__orchestrator_pending__
        or not cls.__machine_fields__
        or _collections.coordinated(cls)  # fan-ins are tracked from the start
    ):
        return None
    machines: list[_CommonMachine] = []
    for name, field in cls.__machine_fields__.items():
        if field.kind != _SINGLE:
            return None
        machine_cls: type[Any] = field.expected_class
        try:
            info = machine_info(machine_cls)
        except SnapshotError:
            return None
        if not info.shape.flat or info.model_fields:
            return None
        shape = info.shape
        machines.append(
            (name, machine_cls, info.path, info.flat_values, shape.top_final, info.fields, shape)
        )
    common = _CommonInfo(cls, tuple(machines))
    type.__setattr__(cls, _COMMON, common)
    return common


def _check_names(
    cls: type[Orchestrator], where: str, saved: dict[str, Any], given: dict[str, Any]
) -> None:
    fields = cls.__machine_fields__
    for name in saved:
        if name not in fields:
            msg = (
                f"{where}: the snapshot holds a machine for {name!r}, which is no machine "
                f"field of {cls.__qualname__}; register an upgrade that removes it "
                f"(statemachines_orchestrator.snapshot.upgrade)"
            )
            raise SnapshotError(msg)
    for name in given:
        if name not in fields:
            msg = (
                f"{where} got a machine for {name!r}, which is no machine field of "
                f"{cls.__qualname__} (its fields: {', '.join(fields)})"
            )
            raise SnapshotTypeError(msg)


def _plans(
    orc: Orchestrator,
    where: str,
    saved: dict[str, Any],
    given: dict[str, Any],
    *,
    collections: bool = True,
) -> tuple[list[_Plan], list[MachineField], dict[str, Any]]:
    """Check every saved machine and every machine given; build nothing.

    With ``collections=False``, collection fields are left to the caller.
    """
    plans: list[_Plan] = []
    fresh: list[MachineField] = []
    passed: dict[str, Any] = {}
    for name, field in type(orc).__machine_fields__.items():
        if not collections and field.kind != _SINGLE:
            continue
        machine = given.get(name)
        if machine is not None:
            _joining.check_machine(orc, field, machine, passed)
            if _psm.is_processing(machine) or _psm.has_queued_events(machine):
                msg = (
                    f"{where}: the machine given for {name!r} is processing an event or has "
                    f"events queued; pass an idle machine"
                )
                raise MachineBusyError(msg)
            passed[name] = machine
        if name in saved:
            plans.append(_plan(where, name, field, saved[name], machine))
        elif field.built is None:
            msg = (
                f"{where}: the snapshot lacks machine field {name!r}; give the field a "
                f"built() default (it is then built fresh), or register an upgrade that "
                f"adds it (statemachines_orchestrator.snapshot.upgrade)"
            )
            raise SnapshotError(msg)
        elif machine is None:
            fresh.append(field)
    return plans, fresh, passed


def _build(
    orc: Orchestrator, plans: list[_Plan], passed: dict[str, Any], *, all_fields: bool = True
) -> dict[str, Any]:
    """Build the saved machines the caller did not pass, in their saved state; no wiring.

    With ``all_fields=False`` (a collection's members), machines are keyed by
    their plan's index, as a str.
    """
    machines: dict[str, Any] = {}
    for index, plan in enumerate(plans):
        if plan.given is None:
            machine_cls: Any = plan.field.expected_class
            # Fresh, unowned, on a model of its own: nothing check_machine() would refuse.
            machine = _psm.build_in_state(machine_cls, plan.shape, plan.ids)
            if plan.history or plan.finished:
                _psm.write_history(machine, plan.shape, plan.history, finished=plan.finished)
            if plan.data or plan.model:
                _apply_data(machine, plan)
            machines[plan.field.name if all_fields else str(index)] = machine
    if not all_fields:
        return machines
    for name in type(orc).__machine_fields__:
        if name in passed:
            machines[name] = passed[name]
    return machines


def _apply(machine: Any, plan: _Plan) -> None:
    _psm.write_state(machine, plan.shape, plan.ids, plan.history, finished=plan.finished)
    _apply_data(machine, plan)


def _apply_data(machine: Any, plan: _Plan) -> None:
    for attribute, value in plan.data.items():
        setattr(machine, attribute, value)
    model = machine.model
    for attribute, value in plan.model.items():
        setattr(model, attribute, value)


def _plan(where: str, name: str, field: MachineField, entry: Any, given: Any) -> _Plan:
    """Check one machine's entry of a snapshot against its class (the given machine's)."""
    # The common case, checked inline: a flat machine in one state, no history, JSON
    # scalars for data. Anything else, and every error, takes the full path below.
    if entry.__class__ is dict and entry.keys() == MACHINE_KEYS:
        machine_cls: type[Any] = field.expected_class if given is None else given.__class__
        info: MachineInfo | None = machine_cls.__dict__.get(_INFO)
        ids = entry["configuration"]
        history = entry["history"]
        data = entry["data"]
        model = entry["model"]
        if (
            info is not None
            and info.shape.flat
            and entry["class"] == info.path
            and ids.__class__ is list
            and len(ids) == 1
            and ids[0].__class__ is str
            and ids[0] in info.shape.states
            and entry["finished"] is (ids[0] in info.shape.top_final)
            and history.__class__ is dict
            and not history
            and model.__class__ is dict
            and not model
            and not info.model_fields
            and data.__class__ is dict
            and len(data) == len(info.fields)
            and all(data.get(f, data).__class__ in _SCALARS for f in info.fields)
        ):
            return _Plan(field, given, info.shape, [ids[0]], {}, entry["finished"], dict(data), {})
    return _checked_plan(where, name, field, entry, given)


def _checked_plan(where: str, name: str, field: MachineField, entry: Any, given: Any) -> _Plan:
    """:func:`_plan`, every rule checked one by one, each failure with its own message."""
    here = f"{where}: machine {name!r}"
    if entry.__class__ is not dict:
        raise _type_error(here, "its snapshot", entry)
    entry = cast("dict[str, Any]", entry)
    if entry.keys() != MACHINE_KEYS:
        _refuse_keys(here, "its snapshot", entry, MACHINE_KEYS)
    machine_cls: type[Any] = field.expected_class if given is None else given.__class__
    info = machine_info(machine_cls)
    shape = info.shape
    path = entry["class"]
    if path != info.path:
        if path.__class__ is not str:
            raise _type_error(here, '"class"', path)
        msg = (
            f"{here} was saved as a {path}, but is now a {info.path}; pass a machine of the "
            f'saved class by field name, or register an upgrade that changes "class"'
        )
        raise SnapshotError(msg)
    ids: Any = entry["configuration"]
    if (
        shape.flat
        and ids.__class__ is list
        and len(ids) == 1
        and ids[0].__class__ is str
        and ids[0] in shape.states
    ):
        ids = [ids[0]]
    else:
        ids = _configuration(here, ids, shape, machine_cls)
    history: Any = entry["history"]
    if history.__class__ is dict and not history:
        history = {}
    else:
        history = _history(here, history, shape, machine_cls)
    finished = _finished(here, entry["finished"], shape, ids)
    data: Any = entry["data"]
    if data.__class__ is dict and not data and not info.fields:
        data = {}
    else:
        data = _data(here, '"data"', data, info.fields, "snapshot_fields")
    model: Any = entry["model"]
    if model.__class__ is dict and not model and not info.model_fields:
        model = {}
    else:
        model = _data(here, '"model"', model, info.model_fields, "snapshot_model_fields")
    return _Plan(field, given, shape, ids, history, finished, data, model)


def _configuration(
    here: str, value: Any, shape: _psm.ChartShape, machine_cls: type[Any]
) -> list[str]:
    ids = _id_list(here, '"configuration"', value, shape.states, machine_cls)
    if len(set(ids)) != len(ids):
        msg = f"{here}: its configuration {ids} lists a state twice"
        raise SnapshotError(msg)
    if not _psm.IS_V3:
        problem = None if len(ids) == 1 else f"it has {len(ids)} states, not one"
    else:
        problem = _psm.illegal_configuration(shape, ids)
    if problem is not None:
        msg = (
            f"{here}: {ids} is no configuration a {machine_cls.__qualname__} can be in: {problem}"
        )
        raise SnapshotError(msg)
    return ids


def _history(
    here: str, value: Any, shape: _psm.ChartShape, machine_cls: type[Any]
) -> dict[str, list[str]]:
    if type(value) is not dict:
        raise _type_error(here, '"history"', value)
    history: dict[str, list[str]] = {}
    for key, values in value.items():  # pyright: ignore[reportUnknownVariableType]
        owner = shape.history.get(key) if type(key) is str else None  # pyright: ignore[reportUnknownArgumentType]
        if owner is None:
            msg = (
                f"{here}: its history names {key!r}, which is no history state of "
                f"{machine_cls.__qualname__}"
            )
            raise SnapshotError(msg)
        recorded = _id_list(here, f'"history"[{key!r}]', values, shape.states, machine_cls)
        for state_id in recorded:
            if not _descends(shape.states, state_id, owner):
                msg = (
                    f"{here}: the history {key!r} of {owner!r} records {state_id!r}, which is "
                    f"not inside {owner!r}"
                )
                raise SnapshotError(msg)
        history[key] = recorded
    return history


def _finished(here: str, value: Any, shape: _psm.ChartShape, ids: list[str]) -> bool:
    if value.__class__ is not bool:
        raise _type_error(here, '"finished"', value)
    at_final = not shape.top_final.isdisjoint(ids)
    if value is at_final:
        return at_final
    # A chart whose top-level parallel state has every region final stops too (3.x).
    if value and not shape.top_parallel.isdisjoint(ids):
        return True
    msg = (
        f'{here}: "finished" is {value}, which its configuration {ids} contradicts (a '
        f"machine is finished when it reached a top-level final state, and only then)"
    )
    raise SnapshotError(msg)


def _id_list(
    here: str, what: str, value: Any, states: Mapping[str, Any], machine_cls: type[Any]
) -> list[str]:
    if type(value) is not list:
        msg = (
            f"{here}: {what} must be a list of state ids, got {type(value).__qualname__} {value!r}"
        )
        raise SnapshotTypeError(msg)
    items = cast("list[object]", value)
    for item in items:
        if item.__class__ is not str:
            msg = f"{here}: {what} holds {type(item).__qualname__} {item!r}, not a state id (str)"
            raise SnapshotTypeError(msg)
        if item not in states:
            msg = (
                f"{here}: {what} names the state {item!r}, which {machine_cls.__qualname__} no "
                f"longer has; register an upgrade that renames or replaces it "
                f"(statemachines_orchestrator.snapshot.upgrade)"
            )
            raise SnapshotError(msg)
    return cast("list[str]", list(items))


def _descends(states: Mapping[str, Any], state_id: str, ancestor: str) -> bool:
    parent = states[state_id].parent
    while parent is not None:
        if parent == ancestor:
            return True
        parent = states[parent].parent
    return False


def _data(
    here: str, what: str, value: Any, attributes: tuple[str, ...], declaration: str
) -> dict[str, Any]:
    if type(value) is not dict:
        raise _type_error(here, what, value)
    if len(value) != len(attributes) or any(a not in value for a in attributes):  # pyright: ignore[reportUnknownArgumentType]
        msg = (
            f"{here}: {what} holds {sorted(map(repr, value))}, but its class's "  # pyright: ignore[reportUnknownArgumentType]
            f"{declaration} lists {list(attributes)}; register an upgrade that converts the "
            f"data (statemachines_orchestrator.snapshot.upgrade)"
        )
        raise SnapshotError(msg)

    def fail(path: tuple[Any, ...], bad: Any) -> None:
        msg = (
            f"{here}: {what}{_path_text(path)} holds {type(bad).__qualname__} {bad!r}, "
            f"not JSON data"
        )
        raise SnapshotTypeError(msg)

    copied: dict[str, Any] = _json_copy(value, (), fail)
    return copied

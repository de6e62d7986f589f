"""Collections of machines: fields annotated ``list[Machine]`` or ``dict[str, Machine]``.

An orchestrator keeps each collection in a list (or dict) subclass of its own,
:class:`MachineList` (:class:`MachineDict`), which checks every machine that
joins through any mutator before anything changes, claims and wires it, and
unwires the machines that leave. The rules are the core's (:mod:`._joining`):
a member is an instance of the field's class, belongs to no other live
orchestrator, is held once, and shares no model and state field with any other
machine of the orchestrator.

Building an orchestrator with collections runs the inline path of its
generated ``__init__`` (:mod:`._init_gen`) for the common case of a class
without fan-in, and :func:`setup` (the general path) otherwise: all machines,
single or members, are checked in one pass, claimed with one ownership mark
and wired in one call (:func:`._psm.join_all`). The index of (model, state
field) pairs that run-time joins are checked against is built only at the
first run-time join, so that building costs no memory beyond the collection
objects.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, NoReturn, Union

from typing_extensions import Self

from . import _attachments, _fan_in, _joining, _psm
from ._fields import DICT, LIST, SINGLE
from .exceptions import (
    InvalidMemberKeyError,
    MachineAlreadyOrchestratedError,
    MachineBusyError,
    MachineTypeMismatchError,
    StateFieldIsNotUniqueError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from ._fields import MachineField
    from ._psm import Mark
    from .orchestrator import Orchestrator

__all__ = [
    "MachineDict",
    "MachineList",
    "assign",
    "coordinated",
    "describe",
    "detach_collection",
    "labelled_machines",
    "members",
    "refuse_busy_members",
    "released",
    "restore",
    "setup",
]

Key = Union[int, str]
"""A member's index in a list, or key in a dict."""


def coordinated(cls: type[Orchestrator]) -> bool:
    """Whether ``cls`` has a collection field or declares a fan-in (general path only)."""
    cached = cls.__dict__.get("__orchestrator_coordinated__")
    if cached is not None:
        return bool(cached)
    fan_ins = _fan_in.declared(cls)  # checks the declarations, when the class is created
    result = bool(fan_ins) or any(f.kind != SINGLE for f in cls.__machine_fields__.values())
    if not cls.__orchestrator_pending__:
        type.__setattr__(cls, "__orchestrator_coordinated__", result)
    return result


def members(value: Any) -> Iterable[Any]:
    """The machines a field's value holds: itself, or the members of a collection."""
    if isinstance(value, list):
        machines: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        return machines
    if isinstance(value, dict):
        entries: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return entries.values()
    return (value,)


def labelled_machines(orc: Orchestrator) -> Iterator[tuple[str, Key | None, Any]]:
    """Every machine of ``orc``: field name, index or key (``None`` for a single), machine."""
    own: dict[str, Any] = vars(orc)
    for name in type(orc).__machine_fields__:
        value: Any = own.get(name)
        if value is None:
            continue
        if isinstance(value, list):
            machines: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
            for index, machine in enumerate(machines):
                yield name, index, machine
        elif isinstance(value, dict):
            entries: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
            for key, machine in entries.items():
                yield name, key, machine
        else:
            yield name, None, value


def label(name: str, key: Key | None) -> str:
    """How messages name a machine: ``order``, ``items[0]`` or ``items['a']``."""
    return name if key is None else f"{name}[{key!r}]"


def describe(value: Any, describe_machine: Callable[[Any], str]) -> str:
    """The ``repr`` of a collection: each member described by ``describe_machine``."""
    if isinstance(value, list):
        machines: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        return f"[{', '.join(describe_machine(m) for m in machines)}]"
    entries: dict[str, Any] = value
    return "{" + ", ".join(f"{k!r}: {describe_machine(m)}" for k, m in entries.items()) + "}"


# --------------------------------------------------------------------------- checks


def _refuse_type(
    orc: Orchestrator, field: MachineField, key: Key | None, machine: Any
) -> NoReturn:
    where = f"machine field {field.name!r}" if key is None else f"member {label(field.name, key)}"
    msg = (
        f"{type(orc).__qualname__}: {where} expects an instance of "
        f"{field.expected_class.__qualname__}, got {type(machine).__qualname__} {machine!r}"
    )
    raise MachineTypeMismatchError(msg)


def _refuse_container(orc: Orchestrator, field: MachineField, value: object) -> NoReturn:
    shape = (
        f"a list of {field.expected_class.__qualname__}"
        if field.kind == LIST
        else f"a dict of str to {field.expected_class.__qualname__}"
    )
    msg = (
        f"{type(orc).__qualname__}: machine field {field.name!r} is a collection and expects "
        f"{shape}, got {type(value).__qualname__} {value!r}"
    )
    raise MachineTypeMismatchError(msg)


def _refuse_key(orc: Orchestrator, field: MachineField, key: object) -> NoReturn:
    msg = (
        f"{type(orc).__qualname__}: the members of {field.name!r} are keyed by str, got the "
        f"key {key!r} ({type(key).__qualname__}); use str keys"
    )
    raise InvalidMemberKeyError(msg)


def _refuse_twice(orc: Orchestrator, machine: Any, first: str, second: str) -> NoReturn:
    msg = (
        f"{type(orc).__qualname__}: the same {type(machine).__qualname__} instance is given "
        f"for {first} and {second}; each place needs a machine of its own"
    )
    raise MachineAlreadyOrchestratedError(msg)


def _refuse_shared(orc: Orchestrator, machine: Any, first: str, second: str) -> NoReturn:
    msg = (
        f"{type(orc).__qualname__}: machines {first} and {second} share one model and both "
        f"keep their state in its {machine.state_field!r} attribute; give one of them "
        f"another state_field"
    )
    raise StateFieldIsNotUniqueError(msg)


def _refuse_owned(orc: Orchestrator, where: str, owner: object) -> NoReturn:
    if owner is orc:
        msg = (
            f"{type(orc).__qualname__}: the machine given for {where} already belongs to this "
            f"orchestrator; a machine has one place in it (remove it from the other first)"
        )
    else:
        msg = (
            f"{type(orc).__qualname__}: the machine given for {where} already belongs to "
            f"{type(owner).__qualname__} at {id(owner):#x}; pass a new machine, or release "
            f"it from that orchestrator first"
        )
    raise MachineAlreadyOrchestratedError(msg)


def _label_of(orc: Orchestrator, machine: Any) -> str:
    for name, key, other in labelled_machines(orc):
        if other is machine:
            return label(name, key)
    return "another machine"  # pragma: no cover - only machines of orc are indexed


def _member_entries(
    orc: Orchestrator, field: MachineField, value: object
) -> tuple[Any, list[Any], list[Key]]:
    """Check a collection's container and members' classes; return (collection, machines, keys)."""
    expected = field.expected_class
    if field.kind == LIST:
        if not isinstance(value, (list, tuple)):
            _refuse_container(orc, field, value)
        machines: list[Any] = list(value)  # pyright: ignore[reportUnknownArgumentType]
        if not all(map(isinstance, machines, repeat(expected))):  # a C loop: the common case
            for index, machine in enumerate(machines):
                if not isinstance(machine, expected):
                    _refuse_type(orc, field, index, machine)
        return machines, machines, []
    if not isinstance(value, Mapping):
        _refuse_container(orc, field, value)
    entries: dict[Any, Any] = dict(value)  # pyright: ignore[reportUnknownArgumentType]
    for key, machine in entries.items():
        if not isinstance(key, str):
            _refuse_key(orc, field, key)
        if machine.__class__ is not expected and not isinstance(machine, expected):
            _refuse_type(orc, field, key, machine)
    return entries, list(entries.values()), list(entries)


_MODEL = attrgetter("model")
_STATE_FIELD = attrgetter("state_field")


def _check_pairs(orc: Orchestrator, machines: Sequence[Any], where: Callable[[int], str]) -> None:
    """Refuse a machine given twice, or two sharing a model and state field, among ``machines``."""
    # The common case in C loops: as many distinct (model, state field) pairs as machines.
    distinct = set(zip(map(id, map(_MODEL, machines)), map(_STATE_FIELD, machines)))
    if len(distinct) == len(machines):
        return
    pairs: dict[tuple[int, str], int] = {}
    for index, machine in enumerate(machines):
        other = pairs.setdefault((id(machine.model), machine.state_field), index)
        if other != index:
            first, second = where(other), where(index)
            if machines[other] is machine:
                _refuse_twice(orc, machine, first, second)
            _refuse_shared(orc, machine, first, second)


# --------------------------------------------------------------------------- building


def setup(
    orc: Orchestrator, values: tuple[Any, ...], cls: type[Orchestrator], *, post_init: bool = True
) -> None:
    """The general path of every generated ``__init__``: collections and fan-ins here.

    ``post_init=False`` (restoring a snapshot) skips ``__post_init__``.
    """
    # What this needs of the class, read once and kept in its own __dict__: right
    # after machines were built, each class attribute read tends to miss
    # CPython's type attribute cache and walk the metaclass's and the class's MRO.
    plan: _Plan | None = cls.__dict__.get("__orchestrator_setup_plan__")
    if plan is None or type(orc) is not cls:
        if type(orc) is cls and cls.__orchestrator_pending__:
            _joining.resolve(cls)
        if type(orc) is not cls or not coordinated(cls):
            _joining.setup(orc, values, cls)
            return
        plan = _plan(cls)
    fields = plan.fields
    stored: dict[str, Any] = {}
    missing: list[MachineField] = []
    machines: list[Any] = []
    spans: list[tuple[MachineField, int, list[Key]]] = []
    for field, value in zip(fields, values):
        if value is field.built:
            missing.append(field)
        elif field.kind == SINGLE:
            if not isinstance(value, field.expected_class):
                _refuse_type(orc, field, None, value)
            spans.append((field, len(machines), []))
            machines.append(value)
            stored[field.name] = value
        else:
            collection, group, keys = _member_entries(orc, field, value)
            spans.append((field, len(machines), keys))
            machines += group
            stored[field.name] = collection
    if missing:
        _build_missing(orc, missing, stored, machines, spans)
    _join(orc, plan, stored, machines, spans, post_init=post_init)


def _build_missing(
    orc: Orchestrator,
    missing: list[MachineField],
    stored: dict[str, Any],
    machines: list[Any],
    spans: list[tuple[MachineField, int, list[Key]]],
) -> None:
    """Build the fields left out (``built()``) and add them to the batch :func:`setup` makes."""
    for field in missing:
        value = _build(orc, field)
        keys: list[Key]
        if field.kind == SINGLE:
            if not isinstance(value, field.expected_class):
                _joining.detach(value)  # a machine class factory wired it already
                _refuse_type(orc, field, None, value)
            group, keys = [value], []
        else:
            value, group, keys = _member_entries(orc, field, value)
        spans.append((field, len(machines), keys))
        machines += group
        stored[field.name] = value


class _Plan(NamedTuple):
    """What building an orchestrator of a coordinated class needs of the class."""

    fields: tuple[MachineField, ...]
    name: str
    post_init: bool
    fan_ins: bool


def _plan(cls: type[Orchestrator]) -> _Plan:
    """Read :class:`_Plan` from ``cls``; keep it in the class once its annotations are resolved."""
    plan = _Plan(
        tuple(cls.__machine_fields__.values()),
        cls.orchestrator_name,
        bool(cls.__orchestrator_post_init__),
        bool(_fan_in.declared(cls)),
    )
    if not cls.__orchestrator_pending__:
        type.__setattr__(cls, "__orchestrator_setup_plan__", plan)
    return plan


def _build(orc: Orchestrator, field: MachineField) -> Any:
    assert field.built is not None  # noqa: S101 - only built fields are missing
    if field.kind == SINGLE:
        return _psm.build(field.built.factory, orc, type(orc).orchestrator_name)
    # A collection factory (list, dict, or a callable returning machines) takes no argument.
    return field.built.factory()


def _where(spans: list[tuple[MachineField, int, list[Key]]]) -> Callable[[int], str]:
    """Name the machine at an index of a batch laid out by ``spans``."""

    def where(index: int) -> str:
        for field, start, keys in reversed(spans):
            if index >= start:
                if field.kind == SINGLE:
                    return repr(field.name)
                key: Key = index - start if field.kind == LIST else keys[index - start]
                return label(field.name, key)
        return "?"  # pragma: no cover - every index falls in a span

    return where


def _join(  # noqa: PLR0913 - the orchestrator, its class's plan and the batch
    orc: Orchestrator,
    plan: _Plan,
    stored: dict[str, Any],
    machines: list[Any],
    spans: list[tuple[MachineField, int, list[Key]]],
    *,
    post_init: bool = True,
) -> None:
    """Check the whole set, then claim and wire it with one mark; store the fields."""
    try:
        # As many distinct models as machines (python-statemachine gives each
        # machine its own by default): no two share a model and state field,
        # and no machine is there twice. Counted in C, without the pairs.
        if len(set(map(id, map(_MODEL, machines)))) != len(machines):
            _check_pairs(orc, machines, _where(spans))
        mark = _psm.OwnerMark(orc)
        refused = _psm.join_all(machines, mark, orc, plan.name)
        if refused >= 0:
            _refuse_owned(orc, _where(spans)(refused), _psm.owner_of(machines[refused]))
    except BaseException:
        # Machines built by a machine-class factory were wired before the checks.
        for field, start, _keys in spans:
            if field.built is not None and field.kind == SINGLE and field.name in stored:
                machine = machines[start]
                if _psm.owner_of(machine) is None:
                    _psm.unwire(machine)
        raise
    own = vars(orc)
    for field in plan.fields:
        own[field.name] = _wrap(field, stored[field.name], mark)
    _started(orc, plan, post_init=post_init)


def _started(orc: Orchestrator, plan: _Plan, *, post_init: bool) -> None:
    """What follows joining: fan-ins checked, events logged at DEBUG, ``__post_init__``."""
    if plan.fan_ins:
        _fan_in.start(orc)
    if _attachments.events_debug_enabled():
        _attachments.log_events_if_debug(orc)
    if post_init and plan.post_init:
        _joining.post_init(orc)


def detach_collection(value: Any) -> list[Any] | dict[str, Any]:
    """Unwire every member of a collection and return them as a plain list or dict."""
    value.detach()
    for machine in members(value):
        _joining.detach(machine)
    if isinstance(value, list):
        return list(value)  # pyright: ignore[reportUnknownArgumentType]
    return dict(value)


def released(orc: Orchestrator) -> None:
    """Forget what was kept for ``orc``'s machines once it handed them back."""
    _INDEXES.pop(orc, None)
    _fan_in.released(orc)


def refuse_busy_members(orc: Orchestrator, value: Any, name: str, action: str) -> None:
    """Refuse ``action`` while a member of a collection is processing an event."""
    for machine in members(value):
        if _psm.is_processing(machine):
            msg = (
                f"{type(orc).__qualname__}: cannot {action} while a member of {name!r} is "
                f"processing an event (called from one of its callbacks, or from another "
                f"thread); do it after the event, e.g. from the code that sent it"
            )
            raise MachineBusyError(msg)


# --------------------------------------------------------------------------- replacing


def assign(orc: Orchestrator, field: MachineField, value: Any) -> None:
    """``orc.<field> = value`` on an orchestrator class with collections or fan-ins."""
    own = vars(orc)
    old = own.get(field.name)
    if old is value:
        return
    if old is not None:
        _joining.refuse_busy(orc, (field.name,), f"replace {field.name!r}")
    stored = {field.name: value}
    machines: list[Any] = []
    spans: list[tuple[MachineField, int, list[Key]]] = []
    if field.kind == SINGLE:
        if not isinstance(value, field.expected_class):
            _refuse_type(orc, field, None, value)
        spans.append((field, 0, []))
        machines.append(value)
    else:
        collection, group, keys = _member_entries(orc, field, value)
        stored[field.name] = collection
        spans.append((field, 0, keys))
        machines += group
    old_members = list(members(old)) if old is not None else []
    staying = {id(m) for m in old_members}
    # The others, as they will be: every machine of orc outside this field.
    others = [m for name, _key, m in labelled_machines(orc) if name != field.name]
    where = _where(spans)

    def where_all(index: int) -> str:
        return where(index) if index < len(machines) else _label_of(orc, everything[index])

    everything = machines + others
    _check_pairs(orc, everything, where_all)
    _refuse_foreign(orc, machines, staying, where)
    new = [m for m in machines if id(m) not in staying]
    mark = _psm.OwnerMark(orc)
    refused = _psm.join_all(new, mark, orc, type(orc).orchestrator_name)
    if refused >= 0:
        # Another thread's orchestrator won it since it was checked.
        _refuse_owned(  # pragma: no cover - a race between two threads
            orc, where(machines.index(new[refused])), _psm.owner_of(new[refused])
        )
    kept = {id(m) for m in machines}
    leaving = [m for m in old_members if id(m) not in kept]
    if isinstance(old, (MachineList, MachineDict)):
        old.detach()
    own[field.name] = _wrap(field, stored[field.name], mark)
    for machine in leaving:
        _joining.detach(machine)
    _INDEXES.pop(orc, None)
    if _attachments.ATTACHED:  # listeners, traces: see _attachments
        _attachments.members_changed(orc, field.name, new)
    _changed(orc, field.name, new, leaving)


def _refuse_foreign(
    orc: Orchestrator, machines: list[Any], staying: set[int], where: Callable[[int], str]
) -> None:
    """Refuse a machine another orchestrator owns, or ``orc`` owns elsewhere than here."""
    for index, machine in enumerate(machines):
        owner = _psm.owner_of(machine)
        if owner is not None and (owner is not orc or id(machine) not in staying):
            _refuse_owned(orc, where(index), owner)


def _wrap(field: MachineField, value: Any, mark: Mark) -> Any:
    """What the orchestrator stores for ``field``: the machine, or its own collection."""
    if field.kind == LIST:
        return MachineList(value).attach(mark, field)
    if field.kind == DICT:
        return MachineDict(value).attach(mark, field)
    return value


def _changed(orc: Orchestrator, name: str, joined: Sequence[Any], left: Sequence[Any]) -> None:
    if _fan_in.declared(type(orc)):
        _fan_in.changed(orc, name, joined, left)


def restore(orc: Orchestrator, state: dict[str, Any]) -> None:
    """``__setstate__`` for an orchestrator class with collections or fan-ins."""
    cls = type(orc)
    fields = cls.__machine_fields__
    values = tuple(state.pop(name, field.built) for name, field in fields.items())
    own = vars(orc)
    own.update(state)
    try:
        setup(orc, values, cls)
    except BaseException:
        own.clear()
        raise


# --------------------------------------------------------------------------- run-time changes

_INDEXES: weakref.WeakKeyDictionary[Any, dict[tuple[int, str], Any]] = weakref.WeakKeyDictionary()
"""Per orchestrator, (id of model, state field) to machine: built at the first run-time join."""


def _index(orc: Orchestrator) -> dict[tuple[int, str], Any]:
    index = _INDEXES.get(orc)
    if index is None:
        index = _INDEXES[orc] = {
            (id(m.model), m.state_field): m for _name, _key, m in labelled_machines(orc)
        }
    return index


class _Change:
    """One run-time change of a collection: checked first, then applied, then settled."""

    __slots__ = ("joined", "left", "name", "orc")

    def __init__(self, orc: Orchestrator, name: str, joined: list[Any], left: list[Any]) -> None:
        self.orc = orc
        self.name = name
        self.joined = joined
        self.left = left


def _refuse_busy_leaving(orc: Orchestrator, field: MachineField, leaving: list[Any]) -> None:
    for machine in leaving:
        if _psm.is_processing(machine):
            msg = (
                f"{type(orc).__qualname__}: cannot remove a member of {field.name!r} while it "
                f"is processing an event (called from one of its callbacks, or from another "
                f"thread); do it after the event, e.g. from the code that sent it"
            )
            raise MachineBusyError(msg)


def _check_member(orc: Orchestrator, field: MachineField, key: Key, machine: Any) -> None:
    if field.kind == DICT and not isinstance(key, str):
        _refuse_key(orc, field, key)
    if not isinstance(machine, field.expected_class):
        _refuse_type(orc, field, key, machine)


def _admit(
    coll: MachineList | MachineDict, joining: list[tuple[Key, Any]], leaving: list[Any]
) -> _Change | None:
    """Check and join the machines entering ``coll``; ``None`` for a detached collection."""
    mark, field = coll.owner()
    if mark is None:
        return None
    orc: Orchestrator | None = mark()
    if orc is None:
        return None
    _refuse_busy_leaving(orc, field, leaving)
    left_ids = {id(m) for m in leaving}
    new: list[Any] = []
    new_keys: list[Key] = []
    seen: dict[tuple[int, str], int] = {}
    index = _index(orc)
    for position, (key, machine) in enumerate(joining):
        _check_member(orc, field, key, machine)
        pair = (id(machine.model), machine.state_field)
        first = seen.setdefault(pair, position)
        if first != position:
            first_key, first_machine = joining[first]
            refuse = _refuse_twice if first_machine is machine else _refuse_shared
            refuse(orc, machine, label(field.name, first_key), label(field.name, key))
        if id(machine) in left_ids:
            continue
        owner = _psm.owner_of(machine)
        if owner is not None:
            _refuse_owned(orc, label(field.name, key), owner)
        other = index.get(pair)
        if other is not None and id(other) not in left_ids:
            _refuse_shared(orc, machine, _label_of(orc, other), label(field.name, key))
        new.append(machine)
        new_keys.append(key)
    if new:
        refused = _psm.join_all(new, mark, orc, type(orc).orchestrator_name)
        if refused >= 0:  # another thread's orchestrator won it since it was checked
            _refuse_owned(  # pragma: no cover - a race between two threads
                orc, label(field.name, new_keys[refused]), _psm.owner_of(new[refused])
            )
    joined_ids = {id(m) for _k, m in joining}
    return _Change(orc, field.name, new, [m for m in leaving if id(m) not in joined_ids])


def _settle(change: _Change | None) -> None:
    """After the mutation: unwire the machines that left, update the index, tell the fan-ins."""
    if change is None:
        return
    orc = change.orc
    for machine in change.left:
        _joining.detach(machine)
    index = _index(orc)
    for machine in change.left:
        index.pop((id(machine.model), machine.state_field), None)
    for machine in change.joined:
        index[(id(machine.model), machine.state_field)] = machine
    if _attachments.ATTACHED:  # listeners, traces (members may only have moved)
        _attachments.members_changed(orc, change.name, change.joined)
    if change.joined or change.left:
        _changed(orc, change.name, change.joined, change.left)


class _Owned:
    """What :class:`MachineList` and :class:`MachineDict` share: their owner and field.

    No slots of its own (a slotted base cannot sit beside ``list`` or ``dict``):
    each collection class declares ``_orc_mark`` and ``_orc_field``.
    """

    __slots__ = ()

    _orc_mark: Mark | None
    _orc_field: MachineField

    def owner(self) -> tuple[Mark | None, MachineField]:
        """The ownership mark (``None`` once detached) and the field."""
        return self._orc_mark, self._orc_field

    def attach(self, mark: Mark, field: MachineField) -> Self:
        """Belong to ``mark``'s orchestrator as its ``field``; once, right after being made.

        Both collection classes are made as a plain list or dict is, by the C
        ``__init__`` (a Python one would cost a call and ``super()`` for every
        orchestrator built); their mutators fail until this runs, so nothing
        shows them before. The generated ``__init__`` sets the two slots itself.
        """
        self._orc_mark = mark  # type: ignore[misc]  # the slots are each subclass's
        self._orc_field = field  # type: ignore[misc]
        return self

    def detach(self) -> None:
        """Behave as a plain collection from now on (the orchestrator let go of it)."""
        self._orc_mark = None  # type: ignore[misc]  # the slot is each subclass's


class MachineList(_Owned, list[Any]):
    """The list an orchestrator keeps for a ``list[Machine]`` field.

    A ``list`` in every respect, except that the machines entering it through
    any mutator are checked, claimed and wired first (all or nothing), and the
    machines leaving it are unwired. Once the orchestrator is released (or the
    field replaced), it behaves as a plain list. It pickles and copies as a
    plain list, which the orchestrator's copy wraps again.
    """

    __slots__ = ("_orc_field", "_orc_mark")

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))

    def _replace(self, index: Any, joining: list[tuple[Key, Any]], leaving: list[Any]) -> None:
        # The index was checked (read) before: the assignment itself cannot fail now.
        change = _admit(self, joining, leaving)
        if isinstance(index, slice):
            super().__setitem__(index, [m for _k, m in joining])  # pyright: ignore[reportUnknownArgumentType]
        else:
            super().__setitem__(index, joining[0][1])
        _settle(change)

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            old = super().__getitem__(index)  # pyright: ignore[reportUnknownArgumentType]
            new = list(value)
            start, _stop, step = index.indices(len(self))
            if step != 1 and len(new) != len(old):
                msg = (
                    f"attempt to assign sequence of size {len(new)} to extended slice of "
                    f"size {len(old)}"
                )
                raise ValueError(msg)
            self._replace(index, [(start + i, m) for i, m in enumerate(new)], old)
            return
        old_machine = super().__getitem__(index)
        if old_machine is value:
            return
        position = index if index >= 0 else len(self) + index
        self._replace(index, [(position, value)], [old_machine])

    def __delitem__(self, index: Any) -> None:
        old = super().__getitem__(index)
        leaving = old if isinstance(index, slice) else [old]
        change = _admit(self, [], leaving)
        super().__delitem__(index)  # pyright: ignore[reportUnknownArgumentType]
        _settle(change)

    def append(self, machine: Any) -> None:
        """Check, wire and append a machine."""
        change = _admit(self, [(len(self), machine)], [])
        super().append(machine)
        _settle(change)

    def insert(self, index: Any, machine: Any) -> None:
        """Check, wire and insert a machine."""
        change = _admit(self, [(index, machine)], [])
        super().insert(index, machine)
        _settle(change)

    def extend(self, machines: Iterable[Any]) -> None:
        """Check, wire and append machines: all of them, or none."""
        new = list(machines)
        change = _admit(self, [(len(self) + i, m) for i, m in enumerate(new)], [])
        super().extend(new)
        _settle(change)

    def __iadd__(self, machines: Iterable[Any]) -> Self:  # type: ignore[misc]
        self.extend(machines)
        return self

    def __imul__(self, times: Any) -> Self:  # type: ignore[misc]
        if self and times > 1:
            msg = (
                "a list of machines cannot hold a machine twice; *= refuses to repeat its members"
            )
            raise MachineAlreadyOrchestratedError(msg)
        if times <= 0:
            self.clear()
        return self

    def pop(self, index: Any = -1) -> Any:
        """Remove, unwire and return a member."""
        machine = super().__getitem__(index)
        change = _admit(self, [], [machine])
        super().pop(index)
        _settle(change)
        return machine

    def remove(self, machine: Any) -> None:
        """Remove and unwire a member (the very instance, not one equal to it)."""
        for index, member in enumerate(self):
            if member is machine:
                del self[index]
                return
        msg = f"{machine!r} is not a member of this list"
        raise ValueError(msg)

    def clear(self) -> None:
        """Remove and unwire every member."""
        change = _admit(self, [], list(self))
        super().clear()
        _settle(change)

    def sort(self, *, key: Any = None, reverse: bool = False) -> None:
        """Sort the members (``key`` is needed: machines do not compare)."""
        super().sort(key=key, reverse=reverse)
        self._moved()

    def reverse(self) -> None:
        """Reverse the members' order."""
        super().reverse()
        self._moved()

    def _moved(self) -> None:
        # Members changed places: traced ones are named by their new index.
        _settle(_admit(self, [], []))


class MachineDict(_Owned, dict[str, Any]):
    """The dict an orchestrator keeps for a ``dict[str, Machine]`` field.

    A ``dict`` in every respect, except that the machines entering it through
    any mutator are checked, claimed and wired first (all or nothing), and the
    machines leaving it are unwired. Once the orchestrator is released (or the
    field replaced), it behaves as a plain dict. It pickles and copies as a
    plain dict, which the orchestrator's copy wraps again.
    """

    __slots__ = ("_orc_field", "_orc_mark")

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self),))

    def _apply(self, entries: Mapping[Any, Any]) -> None:
        leaving = [self[k] for k in entries if k in self]
        change = _admit(self, list(entries.items()), leaving)
        super().update(entries)
        _settle(change)

    def __setitem__(self, key: Any, machine: Any) -> None:
        if key in self and super().__getitem__(key) is machine:
            return
        self._apply({key: machine})

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Check, wire and set members: all of them, or none."""
        self._apply(dict(*args, **kwargs))

    def __ior__(self, other: Any) -> Self:  # type: ignore[override, misc, unused-ignore]
        self.update(other)
        return self

    def setdefault(self, key: Any, default: Any = None) -> Any:
        """The member under ``key``, after setting it to ``default`` (checked) if missing."""
        if key not in self:
            self[key] = default
        return super().__getitem__(key)

    def __delitem__(self, key: Any) -> None:
        machine = super().__getitem__(key)
        change = _admit(self, [], [machine])
        super().__delitem__(key)
        _settle(change)

    _MISSING: Any = object()

    def pop(self, key: Any, default: Any = _MISSING) -> Any:
        """Remove, unwire and return the member under ``key``."""
        if key not in self:
            if default is MachineDict._MISSING:
                raise KeyError(key)
            return default
        machine = super().__getitem__(key)
        del self[key]
        return machine

    def popitem(self) -> tuple[Any, Any]:
        """Remove, unwire and return the last member with its key."""
        if not self:
            msg = "popitem(): dictionary is empty"
            raise KeyError(msg)
        key = next(reversed(self.keys()))
        return key, self.pop(key)

    def clear(self) -> None:
        """Remove and unwire every member."""
        change = _admit(self, [], list(self.values()))
        super().clear()
        _settle(change)

    @classmethod
    def fromkeys(cls, iterable: Iterable[Any], value: Any = None) -> dict[Any, Any]:
        """A plain dict: a dict of machines belongs to an orchestrator."""
        return dict.fromkeys(iterable, value)

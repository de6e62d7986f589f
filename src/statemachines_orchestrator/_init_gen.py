"""The generator of each orchestrator class's ``__init__``.

Generated like dataclasses' ``__init__``: Python itself then words a missing,
unexpected or doubled argument, and :func:`inspect.signature` sees what runs.
The source is registered in :mod:`linecache` under a filename naming the class
(``<statemachines_orchestrator generated __init__ module.Class-N>``), so that
tracebacks show its lines and :func:`inspect.getsource` finds it, as attrs does.
"""

from __future__ import annotations

import itertools
import linecache
import operator
from typing import TYPE_CHECKING, Any, Callable

from . import _attachments, _collections, _fan_in, _joining, _psm
from ._fields import LIST, SINGLE

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ._fields import MachineField
    from .orchestrator import Orchestrator

__all__ = ["make_init"]

PAIRWISE_LIMIT = 8
"""Up to this many fields, the generated ``__init__`` compares machines pairwise;
beyond, it counts distinct (model, state field) pairs in a set."""

_COUNTER = itertools.count(1)


def _filename(cls: type) -> str:
    # Unique even for two classes of one name (a notebook cell run twice).
    return (
        f"<statemachines_orchestrator generated __init__ "
        f"{cls.__module__}.{cls.__qualname__}-{next(_COUNTER)}>"
    )


def make_init(cls: type[Orchestrator], fields: Mapping[str, MachineField]) -> Callable[..., None]:
    """Write ``cls.__init__``: one parameter per field, as a dataclass would.

    Its body is also what keeps building an orchestrator cheap (every one built
    runs it): the common case, a machine given for every field, each free and
    of its field's class, no two on one model and state field (so no machine
    twice), is checked inline, with no loop and no lookup of a class
    attribute, claimed and wired in one call. Anything else goes through
    :func:`._joining.setup`, which words the errors;
    ``tests/test_generated_init.py`` checks that the two paths agree. When
    python-statemachine's internals are not recognised, only the general path
    is generated.
    """
    names = list(fields)
    # Every name the body uses besides the fields starts with a prefix no field
    # name starts with, builtins included: a field may be called ``type``.
    p = "_orc_"
    while any(name.startswith(p) for name in names):
        p = f"_{p}"
    namespace: dict[str, Any] = {
        f"{p}cls": cls,
        f"{p}name": cls.orchestrator_name,
        f"{p}setup": _collections.setup,
        f"{p}wire": _psm.wire_machines,
        f"{p}mark": _psm.OwnerMark,
        f"{p}key": _psm.OWNER_KEY,
        f"{p}abandon": _joining.abandon,
        f"{p}post_init": _joining.post_init,
        f"{p}log_events": _attachments.log_events_if_debug,
        f"{p}debug": _attachments.events_debug_enabled,
        f"{p}plans": _psm.deferral_plans(cls.orchestrator_name),
        f"{p}pending": _psm.PendingRegistry,
        f"{p}plain": _psm.PLAIN_REGISTRY,
        f"{p}type": type,
        f"{p}isinstance": isinstance,
        f"{p}id": id,
        f"{p}len": len,
        f"{p}BaseException": BaseException,
    }
    params = ["self"]
    # No class attribute is read on the inline paths: right after machines were
    # built, looking one up tends to miss CPython's type attribute cache and
    # walk the MRO. The keyword and __post_init__ are fixed when the class is
    # defined; a pending annotation makes its field's inline_class fail the
    # check until the first instantiation resolves it.
    given = [f"{p}cls is {p}type(self)"]
    for i, (name, field) in enumerate(fields.items()):
        namespace[f"{p}field{i}"] = field
        if field.built is None:
            params.append(name)
        else:
            namespace[f"{p}default{i}"] = field.built
            params.append(f"{name}={p}default{i}")
            given.append(f"{name} is not {p}default{i}")
    values = "".join(f"{name}, " for name in names)
    general = f"    {p}setup(self, ({values}), {p}cls)"
    lines = [f"def __init__({', '.join(params)}):"]
    post_init = bool(cls.__orchestrator_post_init__)
    if _psm.FAST and not _collections.coordinated(cls):
        fits = given + [
            f"{p}isinstance({name}, {p}field{i}.inline_class)" for i, name in enumerate(names)
        ]
        lines += _inline_path(p, names, fits, post_init=post_init)
    elif _psm.FAST and not _fan_in.declared(cls):
        namespace.update({f"{p}{name}": value for name, value in _COLLECTION_NAMES.items()})
        lines += _collection_path(p, list(fields.values()), given, post_init=post_init)
    # Fan-ins (and anything the inline paths refuse) take the general path.
    lines.append(general)
    source = "\n".join(lines) + "\n"
    filename = _filename(cls)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = {name: field.annotation for name, field in fields.items()}
    init.__annotations__["return"] = None
    init.__doc__ = f"Wire the machines {', '.join(fields)} into a new {cls.__qualname__}."
    return init


def _inline_path(p: str, names: list[str], fits: list[str], *, post_init: bool) -> list[str]:
    """The lines of the inline path: check, claim and wire the common case."""
    values = "".join(f"{name}, " for name in names)
    free = [f"{p}key not in {p}r{i}" for i in range(len(names))]
    plain = [f"{p}type({p}r{i}) is {p}plain" for i in range(len(names))]
    if len(names) <= PAIRWISE_LIMIT:
        distinct = [
            f"({a}.model is not {b}.model or {a}.state_field != {b}.state_field)"
            for i, a in enumerate(names)
            for b in names[i + 1 :]
        ]
    else:
        pairs = ", ".join(f"({p}id({name}.model), {name}.state_field)" for name in names)
        distinct = [f"{p}len({{{pairs}}}) == {len(names)}"]
    # dict.setdefault is atomic: a machine another thread claimed in between
    # is not claimed here, and the general path words the refusal.
    claims = " and ".join(f"{p}r{i}.setdefault({p}key, {p}m) is {p}m" for i in range(len(names)))
    n = len(names)
    # Every machine's class asks for the orchestrator and has a plan: each
    # registry is left pending inline (see _psm._deferred), no call made.
    planned = " and ".join(f"{p}plans.get({p}type({name}))" for name in names)
    defer = [
        line
        for i, name in enumerate(names)
        for line in (
            f"                        {p}q = {p}pending({p}r{i}.default_factory, {p}r{i})",
            f"                        {p}q.machine = {name}",
            f"                        {p}q.orc = self",
            f"                        {p}c{i}._registry = {p}q",
        )
    ]
    return [
        f"    if {' and '.join(fits)}:",
        *(f"        {p}c{i} = {name}._callbacks" for i, name in enumerate(names)),
        *(f"        {p}r{i} = {p}c{i}._registry" for i in range(n)),
        # A registry still pending for a collected orchestrator is not a plain
        # one: the general path claims it.
        f"        if {' and '.join(plain + free + distinct)}:",
        f"            {p}m = {p}mark(self)",
        f"            if {claims}:",
        f"                {p}own = self.__dict__",
        *(f"                {p}own[{name!r}] = {name}" for name in names),
        "                try:",
        f"                    if {planned}:",
        *defer,
        "                    else:",
        # Wired now or on each machine's first use, and listeners added later
        # with python-statemachine's add_listener() too.
        f"                        {p}wire(({values}), self, {p}name)",
        f"                except {p}BaseException:",
        f"                    {p}abandon(self)",
        "                    raise",
        f"                if {p}debug():",
        f"                    {p}log_events(self)",
        *([f"                {p}post_init(self)"] if post_init else []),
        "                return",
        *(f"            if {p}r{i}.get({p}key) is {p}m: del {p}r{i}[{p}key]" for i in range(n)),
    ]


_COLLECTION_NAMES: dict[str, Any] = {
    "join": _psm.join_all,
    "list": list,
    "dict": dict,
    "str": str,
    "all": all,
    "map": map,
    "set": set,
    "repeat": itertools.repeat,
    "model": operator.attrgetter("model"),
    "mlist": _collections.MachineList,
    "mdict": _collections.MachineDict,
}
"""What :func:`_collection_path`'s lines use besides the names of every ``__init__``
(each under the body's prefix)."""


def _collection_path(
    p: str, fields: list[MachineField], given: list[str], *, post_init: bool
) -> list[str]:
    """The lines of the inline path of a class with collections and no fan-in.

    The common case (plain lists and dicts of free machines of the field's
    class, string keys, every machine on a model and state field of its own) is
    checked with C loops over the new collections, then claimed and wired in one
    call (:func:`._psm.join_all`); anything else, and any refusal, goes to
    :func:`._collections.setup`, which words the errors. Only the collections
    are made before the checks: the machines are checked in them, so a list
    changed meanwhile by another thread cannot slip a machine past the checks.
    """
    fits = list(given)
    made: list[str] = []  # the collections, made once the containers fit
    checks: list[str] = []  # the members, in them
    batch: list[str] = []  # every machine, in declaration order
    stored: list[str] = []
    for i, field in enumerate(fields):
        name = field.name
        if field.kind == SINGLE:
            fits.append(f"{p}isinstance({name}, {p}field{i}.inline_class)")
            batch.append(name)
            stored.append(f"{p}o[{name!r}] = {name}")
            continue
        member = f"{p}repeat({p}field{i}.expected_class)"
        if field.kind == LIST:
            fits.append(f"{p}type({name}) is {p}list")
            made.append(f"{p}c{i} = {p}mlist({name})")
            checks.append(f"{p}all({p}map({p}isinstance, {p}c{i}, {member}))")
            batch.append(f"*{p}c{i}")
        else:
            fits.append(f"{p}type({name}) is {p}dict")
            made.append(f"{p}c{i} = {p}mdict({name})")
            checks.append(f"{p}all({p}map({p}isinstance, {p}c{i}, {p}repeat({p}str)))")
            checks.append(f"{p}all({p}map({p}isinstance, {p}c{i}.values(), {member}))")
            batch.append(f"*{p}c{i}.values()")
        # The collection's owner and field, as its attach() sets them.
        stored += [
            f"{p}c{i}._orc_mark = {p}m",
            f"{p}c{i}._orc_field = {p}field{i}",
            f"{p}o[{name!r}] = {p}c{i}",
        ]
    # One list field alone is its own batch: no second list.
    machines = f"{p}c0" if batch == [f"*{p}c0"] else f"[{', '.join(batch)}]"
    # As many distinct models as machines (each machine has its own model by
    # default): no two share a model and state field, and none is there twice.
    checks.append(f"{p}len({p}set({p}map({p}id, {p}map({p}model, {p}ms)))) == {p}len({p}ms)")
    return [
        f"    if {' and '.join(fits)}:",
        *(f"        {line}" for line in made),
        f"        {p}ms = {machines}",
        f"        if {' and '.join(checks)}:",
        f"            {p}m = {p}mark(self)",
        # A machine of another live orchestrator: join_all frees what it claimed
        # and the general path words the refusal.
        f"            if {p}join({p}ms, {p}m, self, {p}name) < 0:",
        f"                {p}o = self.__dict__",
        *(f"                {line}" for line in stored),
        f"                if {p}debug():",
        f"                    {p}log_events(self)",
        *([f"                {p}post_init(self)"] if post_init else []),
        "                return",
    ]

"""Wiring deferred to a machine's first use (python-statemachine 2.5 to 3.2, fast path).

Building an orchestrator could rewrite, right away, every callback of every
machine that asks for the orchestrator (:mod:`._binding`). Reaching those
callbacks is most of what building an orchestrator costs (for a large
collection whose members were built long before, mostly waiting on memory).
So instead the dictionary of executors of a machine's callback registry
(``machine._callbacks._registry``, a ``defaultdict`` on every line) is
replaced by a copy of class :class:`PendingRegistry`, which holds the machine
and, when needed, its orchestrator. Every way python-statemachine reads that
dictionary (``key in``, ``[key]``, ``values()``; it reads
``machine._callbacks._registry`` anew for every callback it runs, for every
listener it adds) first *settles* it: the callbacks are wired into a fresh
plain ``defaultdict``, which takes the pending copy's place. From then on
nothing differs from a machine wired while its orchestrator was built, and no
event pays anything for the deferral. The ownership mark
(:mod:`._ownership`) is read and written with ``get``, ``setdefault`` and
``pop``, which do not settle.

Nothing is added to python-statemachine's objects: an attribute that exists
already takes another value, and the pending copy is a dictionary of the
same size plus two slots. (Swapping the registry object's class instead,
tried first, makes CPython 3.11 give that object a real instance dictionary
for good: 64 bytes more per machine.)

Lifetime is what it was: a machine whose callbacks take the orchestrator keeps
it alive, one whose callbacks do not leaves it free once it is collected.
Until it settles, a pending machine holds its orchestrator (``PendingRegistry.orc``)
when its class's callbacks ask for it. That is known per machine class and
keyword, from the first machine of the class wired right away (a *plan*), and
trusted only for machines that take their callbacks from their class alone:
no listeners and python-statemachine's default model. A class that does not
ask gets a plan only when it keeps python-statemachine's own ``__init__``
(another one could give an instance a callback of its own before
python-statemachine resolves them). Any other machine is wired right away.

Listeners added with python-statemachine's ``add_listener()`` while a machine
is pending are recorded in its ``_listeners`` before their callbacks are
resolved; that resolution settles the registry, and settling resolves and
wires the recorded listeners first (as :class:`._listening.OwnedListeners`
does for a wired machine, which settling installs).

Two threads settling one registry at once both wire it; wiring a callback
twice leaves it as wiring it once, so that is harmless.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from . import _binding, _listening
from ._ownership import KEY as OWNER_KEY

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "PLAIN_REGISTRY",
    "PROBLEM",
    "PendingRegistry",
    "cancel",
    "is_pending",
    "join",
    "plans",
    "settle",
    "wire_machines",
]

PLAIN_REGISTRY = defaultdict
"""The class of a machine's dictionary of executors on every supported line."""


class PendingRegistry(defaultdict[Any, Any]):
    """A machine's dictionary of executors whose wiring waits for its first use."""

    __slots__ = ("machine", "orc")

    machine: Any
    """The machine whose ``_callbacks._registry`` this is."""
    orc: Any
    """The orchestrator, kept alive until the machine settles, or ``None``."""


_SETTLING = (
    "__contains__",
    "__getitem__",
    "__eq__",
    "__ne__",
    "__or__",
    "__ior__",
    "__repr__",
    "__reduce__",
    "__reduce_ex__",
    "__copy__",
    "copy",
    "values",
    "items",
    "update",
    "clear",
    "popitem",
)
"""What settles a pending dictionary: every way to read or change its executors.
``get``, ``setdefault``, ``pop``, item assignment and deletion (the ownership
mark's ways) and iterating keys do not; nor does copying it into another
dictionary at C level, which is how :func:`settle` copies it."""


def _settling(name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(settle(self), name)(*args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"PendingRegistry.{name}"
    method.__doc__ = f"Settle the registry, then call its ``{name}``."
    return method


def _install() -> None:
    for name in _SETTLING:
        setattr(PendingRegistry, name, _settling(name))


_install()


def _shape() -> tuple[type[Any], type[Any], str | None]:
    """python-statemachine's model class and machine base, and why deferral is off (or None)."""
    try:
        import statemachine  # noqa: PLC0415
        from statemachine.callbacks import CallbacksRegistry  # noqa: PLC0415 - may be gone
        from statemachine.model import Model  # noqa: PLC0415

        base: Any = getattr(statemachine, "StateChart", None) or statemachine.StateMachine
        probe: Any = CallbacksRegistry()
        registry: Any = probe._registry  # noqa: SLF001
        if type(registry) is not defaultdict:
            return (
                type(None),
                type(None),
                (f"CallbacksRegistry._registry is a {type(registry).__name__}, not a defaultdict"),
            )
    except Exception as exc:  # noqa: BLE001 - any other shape: wire right away, as before
        return type(None), type(None), f"{type(exc).__name__}: {exc}"
    return Model, base, None


_MODEL_CLASS, _MACHINE_BASE, PROBLEM = _shape()
"""``PROBLEM``: why wiring cannot be deferred here (then every machine is wired right away)."""


_PLANS: dict[str, dict[type[Any], bool]] = {}
"""By keyword, then by machine class: whether its callbacks ask for the orchestrator."""


def plans(name: str) -> dict[type[Any], bool]:
    """The plans for keyword ``name``, by machine class (the same dictionary for good).

    Generated ``__init__``s hold it: a machine whose class's plan is ``True`` is
    left pending inline. No plan is made where deferral is off (:data:`PROBLEM`).
    """
    found = _PLANS.get(name)
    if found is None:
        found = _PLANS[name] = {}
    return found


def _copy(registry: Any) -> defaultdict[Any, Any]:
    # defaultdict's constructor copies a dict whose iteration is dict's own at C
    # level: no method of PendingRegistry runs.
    copied: defaultdict[Any, Any] = defaultdict(registry.default_factory, registry)
    return copied


def settle(pending: PendingRegistry) -> Any:
    """Wire a pending dictionary of executors now; return the plain one that replaces it."""
    machine = pending.machine
    callbacks: Any = machine._callbacks  # noqa: SLF001
    current: Any = callbacks._registry  # noqa: SLF001
    if current is not pending:  # settled meanwhile (another thread)
        return current
    orc: Any = pending.orc
    if orc is None:
        mark: Any = pending.get(OWNER_KEY)  # get() does not settle
        orc = None if mark is None else mark()
    fresh = _copy(pending)
    if orc is not None:
        orc_class: Any = orc.__class__
        # Before the swap: should wiring raise, the machine stays pending and
        # its next use tries again (wiring twice is wiring once).
        _binding.wire_registries((fresh,), orc, orc_class.orchestrator_name)
    callbacks._registry = fresh  # noqa: SLF001
    pending.orc = None
    if orc is not None:
        _listening.own_recorded(machine)
    return fresh


def is_pending(machine: Any) -> bool:
    """Whether ``machine``'s callbacks wait for their first use to be wired."""
    callbacks: Any = machine.__dict__.get("_callbacks")
    return type(getattr(callbacks, "_registry", None)) is PendingRegistry


def cancel(machine: Any) -> None:
    """Make a pending machine's registry plain again, without wiring it."""
    callbacks: Any = machine.__dict__.get("_callbacks")
    pending = getattr(callbacks, "_registry", None)
    if type(pending) is PendingRegistry:
        callbacks._registry = _copy(pending)  # noqa: SLF001
        pending.orc = None


def _asks(registry: dict[Any, Any]) -> bool:
    """Whether a wired registry holds a callback that receives the orchestrator."""
    return any(
        _binding.wired_parts(wrapper._callback) is not None  # noqa: SLF001
        or _binding.composite_wired(wrapper._callback)  # noqa: SLF001
        for executor in registry.values()
        for wrapper in executor.items
    )


def _plan(machine_class: type[Any], registry: dict[Any, Any]) -> bool | None:
    """The plan a plain machine of ``machine_class``, just wired, makes (``None``: none)."""
    if _asks(registry):
        return True
    own_init = machine_class.__init__ is not _MACHINE_BASE.__init__
    return None if own_init else False


def wire_machines(machines: Iterable[Any], orc: object, name: str) -> None:
    """Wire freshly claimed machines for ``orc``: on their first use where their class allows.

    The others are wired now, and their later listeners too
    (:func:`._listening.own`).
    """
    planned = plans(name)
    model_class = _MODEL_CLASS
    deferring = PROBLEM is None
    for machine in machines:
        callbacks = machine._callbacks  # noqa: SLF001
        registry = callbacks._registry  # noqa: SLF001
        plan = planned.get(machine.__class__)
        if plan is not None and deferring and type(registry) is defaultdict:
            # A class whose callbacks ask gives every machine of it callbacks
            # that ask: held whatever else the machine has. One that does not
            # ask says so only of machines that take callbacks from it alone.
            if plan or _plain(machine, model_class):
                pending = PendingRegistry(registry.default_factory, registry)  # pyright: ignore[reportUnknownArgumentType]
                pending.machine = machine
                pending.orc = orc if plan else None
                callbacks._registry = pending  # noqa: SLF001
                continue
        elif type(registry) is PendingRegistry:
            # Pending still for an orchestrator collected since: plain again first.
            cancel(machine)
            registry = callbacks._registry  # noqa: SLF001
        _binding.wire_registries((registry,), orc, name)  # pyright: ignore[reportUnknownArgumentType]
        _listening.own(machine)
        if plan is None and deferring and _plain(machine, model_class):
            plan = _plan(machine.__class__, registry)  # pyright: ignore[reportUnknownArgumentType]
            if plan is not None:
                planned[machine.__class__] = plan


def join(machines: Sequence[Any], start: int, mark: object, orc: object, name: str) -> int:
    """Claim each machine of ``machines[start:]`` for ``mark`` and wire it (:func:`wire_machines`).

    One pass, each registry claimed with one ``dict.setdefault`` right before
    it is left pending or wired, while it is in the CPU's cache.

    Returns:
        The index of the first machine whose registry holds another mark, or
        ``len(machines)``.
    """
    planned = plans(name)
    deferring = PROBLEM is None
    key = OWNER_KEY
    for index in range(start, len(machines)):
        machine = machines[index]
        callbacks = machine._callbacks  # noqa: SLF001
        registry = callbacks._registry  # noqa: SLF001
        if registry.setdefault(key, mark) is not mark:
            return index
        if deferring and type(registry) is defaultdict and planned.get(machine.__class__):
            pending = PendingRegistry(registry.default_factory, registry)  # pyright: ignore[reportUnknownArgumentType]
            pending.machine = machine
            pending.orc = orc
            callbacks._registry = pending  # noqa: SLF001
        else:
            wire_machines((machine,), orc, name)
    return len(machines)


def _plain(machine: Any, model_class: type[Any]) -> bool:
    """Whether ``machine`` takes its callbacks from its class alone (as far as is cheap to see).

    No listeners, and python-statemachine's default model.
    """
    own = machine.__dict__
    return not own.get("_listeners", True) and type(own.get("model")) is model_class

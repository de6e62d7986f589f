"""Wiring deferred to a machine's first use (python-statemachine 2.5 to 3.2, fast path).

Building an orchestrator used to rewrite, right away, every callback of every
machine that asks for the orchestrator (:mod:`._binding`). Reaching those
callbacks is most of what building an orchestrator costs, and for a large
collection whose members were built long before, most of that is waiting on
memory. Instead, a machine's callback registry (``machine._callbacks``, a
``CallbacksRegistry``) is marked *pending*: its class becomes
:data:`PENDING`, a subclass that adds no state, whose first attribute access
or operator (python-statemachine reads ``machine._callbacks`` anew for every
callback it runs, for every listener it adds and every diagram it draws, on
every line) wires the registry, then gives the object its own class back.
From then on nothing differs from a machine wired when the orchestrator was
built, and no event ever pays anything for the deferral. Reading
``machine._callbacks._registry`` (the ownership mark, :mod:`._ownership`) does
not settle it.

Lifetime is what it was: a machine whose callbacks take the orchestrator keeps
it alive, one whose callbacks do not leaves it free once it is collected.
Until its registry settles, a pending machine holds its orchestrator through an
empty executor in its registry (``_HOLDER``, under :data:`HOLD`) when its
class's callbacks ask for the orchestrator. That is known per machine class,
from the first machine of the class wired right away (a *plan*), and trusted
only for machines that take their callbacks from their class alone: no
listeners and python-statemachine's default model (:func:`_plain`). Any other
machine is wired right away, as before. A class whose callbacks do not ask for
the orchestrator is marked pending too, without a holder: if its class was
changed since its plan was made, its first use still wires it, for the
orchestrator that owns it then.

Two threads settling one registry at once both wire it; wiring a callback
twice leaves it as wiring it once, so that is harmless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _binding
from ._ownership import KEY as OWNER_KEY

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["HOLD", "PENDING", "cancel", "is_pending", "settle", "wire_machines"]

HOLD = "statemachines_orchestrator.pending"
"""The key, in a pending machine's callback registry, of what keeps its orchestrator alive."""

_NOT_WRAPPED = frozenset(
    {"__init__", "__new__", "__init_subclass__", "__subclasshook__", "__class_getitem__"}
)


def _classes() -> tuple[type[Any], type[Any], type[Any], type[Any]]:
    """python-statemachine's registry and model classes, the pending class and the holder class.

    Raises:
        _binding.Unrecognised: They are not shaped as this module needs.
    """
    from statemachine.callbacks import (  # noqa: PLC0415 - any of them may be gone
        CallbacksExecutor,
        CallbacksRegistry,
    )
    from statemachine.model import Model  # noqa: PLC0415

    if any(name in vars(CallbacksRegistry) for name in ("__getattribute__", "__getattr__")):
        msg = "CallbacksRegistry customises attribute access"
        raise _binding.Unrecognised(msg)
    namespace: dict[str, Any] = {
        "__slots__": (),
        "__getattribute__": _getattribute,
        "__doc__": "A callback registry whose wiring waits for its first use.",
    }
    for name, value in vars(CallbacksRegistry).items():
        if name.startswith("__") and callable(value) and name not in _NOT_WRAPPED:
            namespace[name] = _settling(name)
    pending = type("PendingCallbacksRegistry", (CallbacksRegistry,), namespace)
    # Checked once here: the class of a live registry can become the pending
    # class and back (same layout: the subclass adds no slot).
    probe: Any = CallbacksRegistry()
    probe.__class__ = pending
    probe.__class__ = CallbacksRegistry

    class Holder(CallbacksExecutor):
        """An empty executor that keeps a pending machine's orchestrator alive."""

        __slots__ = ("orc",)

        items: Any = ()
        """Always empty: read by the base class's ``__iter__``."""

        def __init__(self, orc: object) -> None:  # no super().__init__(): it holds no callback
            self.orc = orc

    return CallbacksRegistry, Model, pending, Holder


def _shape() -> tuple[type[Any], type[Any], type[Any], type[Any], str | None]:
    try:
        return (*_classes(), None)
    except Exception as exc:  # noqa: BLE001 - any other shape: wire right away, as before
        return type(None), type(None), type(None), type(None), f"{type(exc).__name__}: {exc}"


def _getattribute(self: Any, attribute: str) -> Any:
    if attribute != "_registry":
        settle(self)
    return object.__getattribute__(self, attribute)


def _settling(name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        settle(self)
        cls: Any = self.__class__  # python-statemachine's own class again
        return getattr(cls, name)(self, *args, **kwargs)

    method.__name__ = name
    return method


_REGISTRY_CLASS, _MODEL_CLASS, PENDING, _HOLDER, PROBLEM = _shape()
"""``PROBLEM``: why wiring cannot be deferred here (then every machine is wired right away)."""


_PLANS: dict[str, dict[type[Any], bool]] = {}
"""By keyword, then by machine class: whether its callbacks ask for the orchestrator."""


def settle(callbacks: Any) -> None:
    """Wire a pending registry (a machine's ``_callbacks``) now, and make it an ordinary one."""
    registry: dict[str, Any] = object.__getattribute__(callbacks, "_registry")
    holder = registry.get(HOLD)
    orc: Any = holder.orc if holder is not None else _owner(registry)
    if orc is not None:
        orc_class: Any = orc.__class__
        _binding.wire_registries((registry,), orc, orc_class.orchestrator_name)
    registry.pop(HOLD, None)
    if type(callbacks) is PENDING:
        object.__setattr__(callbacks, "__class__", _REGISTRY_CLASS)


def _owner(registry: dict[str, Any]) -> Any:
    mark = registry.get(OWNER_KEY)
    return None if mark is None else mark()


def is_pending(machine: Any) -> bool:
    """Whether ``machine``'s callbacks wait for their first use to be wired."""
    callbacks: Any = machine.__dict__.get("_callbacks")
    return type(callbacks) is PENDING


def cancel(machine: Any) -> None:
    """Make a pending machine's registry ordinary again, without wiring it."""
    callbacks: Any = machine.__dict__.get("_callbacks")
    if type(callbacks) is PENDING:
        registry: dict[str, Any] = object.__getattribute__(callbacks, "_registry")
        registry.pop(HOLD, None)
        object.__setattr__(callbacks, "__class__", _REGISTRY_CLASS)


def _plain(own: dict[str, Any]) -> bool:
    """Whether a machine (its ``__dict__``) takes its callbacks from its class alone.

    No listeners, and python-statemachine's default model. Attributes set on
    that model or on the machine itself before python-statemachine resolved its
    callbacks are not looked at (reading them costs each member a cache miss);
    should they add a callback that asks for the orchestrator to a class whose
    own callbacks do not, that machine holds its orchestrator weakly until its
    first use, as a machine whose callbacks do not ask for it does.
    """
    return not own.get("_listeners", True) and type(own.get("model")) is _MODEL_CLASS


def _asks(registry: dict[str, Any]) -> bool:
    """Whether a wired registry holds a callback that receives the orchestrator."""
    return any(
        _binding.wired_parts(wrapper._callback) is not None  # noqa: SLF001
        or _binding.composite_wired(wrapper._callback)  # noqa: SLF001
        for executor in registry.values()
        for wrapper in executor
    )


def wire_machines(machines: Iterable[Any], orc: object, name: str) -> None:
    """Wire freshly claimed machines for ``orc``: pending where their class allows, else now."""
    plans = _PLANS.get(name)
    if plans is None:
        plans = _PLANS[name] = {}
    holder = None
    for machine in machines:
        own = machine.__dict__
        callbacks = own["_callbacks"]
        plan = plans.get(machine.__class__)
        if plan is not None and PROBLEM is None and _plain(own):
            if plan:
                if holder is None:
                    holder = _HOLDER(orc)
                callbacks._registry[HOLD] = holder  # noqa: SLF001
            callbacks.__class__ = PENDING
            continue
        registry = callbacks._registry  # noqa: SLF001
        _binding.wire_registries((registry,), orc, name)
        if plan is None and _plain(own):
            plans[machine.__class__] = _asks(registry)

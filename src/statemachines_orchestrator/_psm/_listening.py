"""Listeners that receive the orchestrator (python-statemachine 2.5 to 3.2, fast path).

Two things live here:

- an orchestrator's own listeners (``orc.add_listener``): each is resolved
  into a machine's per-instance callback registry as python-statemachine's
  ``add_listener`` would resolve it, but without entering the machine's
  ``_listeners`` (which a machine pickles and copies), and each resulting
  callback is rebound to receive the orchestrator and the machine's field
  name. Removing one removes its callbacks from the registry again; that is
  possible because every callback python-statemachine resolves for a listener
  is keyed ``"<name>@<id of the listener>"``.
- the registry of a machine owned by an orchestrator is an
  :class:`OwnedRegistry` (its class is swapped while the machine is wired),
  whose lookups, which python-statemachine makes only while resolving
  listeners, hand out executors that wire what is added to them: a listener
  added later with python-statemachine's own ``add_listener()`` receives the
  orchestrator too. Events never look executors up this way (they read the
  registry's dictionary directly), so this costs them nothing. The registry
  is not pickled nor copied with its machine.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from statemachine.callbacks import SPECS_SAFE, CallbacksRegistry
from statemachine.dispatcher import Listener, Listeners

from . import _binding
from ._ownership import KEY as OWNER_KEY

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "FIELD_PARAMETER",
    "OwnedRegistry",
    "disown_registry",
    "listen",
    "own_registry",
    "unlisten",
    "unlisten_all",
]

FIELD_PARAMETER = "field"
"""The keyword under which an orchestrator's listeners receive the machine's field name."""


def _call_listener(
    bind: Callable[..., Any],
    func: Callable[..., Any],
    keyword: str,
    orc: object,
    field: str,
    /,
    *args: Any,
    **kwargs: Any,
) -> Any:
    kwargs[keyword] = orc
    kwargs[FIELD_PARAMETER] = field
    bound = bind(*args, **kwargs)
    return func(*bound.args, **bound.kwargs)


def _parts(callback: Any) -> tuple[Callable[..., Any], Callable[..., Any]] | None:
    """The signature binder and the function of a callback python-statemachine made."""
    if isinstance(callback, partial) and callback.func in (
        _binding.call_with_orchestrator,
        _call_listener,
    ):
        return callback.args[0], callback.args[1]
    return _binding.adapter_parts(callback)


def _wrappers(machine: Any) -> Iterator[tuple[Any, Any]]:
    for executor in list(machine._callbacks._registry.values()):  # noqa: SLF001
        for wrapper in list(executor.items):
            yield executor, wrapper


def listen(machine: Any, listener: object, orc: object, keyword: str, field: str) -> None:
    """Resolve ``listener``'s callbacks on ``machine``; they receive ``orc`` and ``field``."""
    listener_class: Any = Listener
    resolved = Listeners.from_listeners((listener_class.from_obj(listener),))
    machine._add_listener(resolved, allowed_references=SPECS_SAFE)  # noqa: SLF001
    suffix = f"@{id(listener)}"
    for _executor, wrapper in _wrappers(machine):
        if not wrapper.unique_key.endswith(suffix):
            continue
        parts = _parts(wrapper._callback)  # noqa: SLF001
        if parts is not None:
            bind, func = parts
            wrapper._callback = partial(_call_listener, bind, func, keyword, orc, field)  # noqa: SLF001


def _remove(machine: Any, keep: Callable[[Any], bool]) -> None:
    for executor, wrapper in _wrappers(machine):
        if not keep(wrapper):
            executor.items.remove(wrapper)
            executor.items_already_seen.discard(wrapper.unique_key)


def unlisten(machine: Any, listener: object) -> None:
    """Remove the callbacks :func:`listen` resolved for ``listener`` from ``machine``."""
    suffix = f"@{id(listener)}"

    def keep(wrapper: Any) -> bool:
        callback = wrapper._callback  # noqa: SLF001
        return not (
            wrapper.unique_key.endswith(suffix)
            and isinstance(callback, partial)
            and callback.func is _call_listener
        )

    _remove(machine, keep)


def unlisten_all(machine: Any) -> None:
    """Remove every orchestrator listener's callbacks from ``machine``."""

    def keep(wrapper: Any) -> bool:
        callback = wrapper._callback  # noqa: SLF001
        return not (isinstance(callback, partial) and callback.func is _call_listener)

    _remove(machine, keep)


class _WiringExecutor:
    """An executor as :class:`OwnedRegistry` hands it out: what is added to it is wired."""

    __slots__ = ("_executor", "_registry")

    def __init__(self, executor: Any, registry: OwnedRegistry) -> None:
        self._executor = executor
        self._registry = registry

    def add(self, key: str, spec: Any, builder: Callable[[], Any]) -> Any:
        """Add as python-statemachine does, then give the callback the orchestrator."""
        return self._executor.add(key, spec, partial(self._wired, builder))

    def _wired(self, builder: Callable[[], Any]) -> Any:
        callback = builder()
        registry: Any = self._registry
        mark: Any = registry._registry.get(OWNER_KEY)  # noqa: SLF001
        orc: Any = None if mark is None else mark()
        if orc is None:  # pragma: no cover - the owner was collected meanwhile
            return callback
        orc_class: Any = orc.__class__
        keyword: str = orc_class.orchestrator_name
        new = _binding.wired(callback, orc, keyword)
        return callback if new is None else new

    def __iter__(self) -> Iterator[Any]:
        return iter(self._executor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._executor, name)


class OwnedRegistry(CallbacksRegistry):
    """The class of a wired machine's callback registry; see the module docstring."""

    def __getitem__(self, key: str) -> Any:
        """Return the executor of ``key``, wiring what is added to it."""
        return _WiringExecutor(super().__getitem__(key), self)


def own_registry(machine: Any) -> None:
    """Make ``machine``'s registry wire listeners added to it from now on."""
    registry = machine._callbacks  # noqa: SLF001
    if type(registry) is CallbacksRegistry:
        registry.__class__ = OwnedRegistry


def disown_registry(machine: Any) -> None:
    """Undo :func:`own_registry`."""
    registry: Any = machine._callbacks  # noqa: SLF001
    if type(registry) is OwnedRegistry:
        plain: Any = CallbacksRegistry  # what python-statemachine made
        registry.__class__ = plain

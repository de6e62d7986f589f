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
- the ``_listeners`` mapping of a machine owned by an orchestrator is an
  :class:`OwnedListeners`, which python-statemachine's ``add_listener()``
  updates before it resolves the new listeners' callbacks: the update
  resolves and wires them first, so a listener added later with
  python-statemachine's own API receives the orchestrator too. Events never
  read that mapping, so it costs them nothing; nothing on the objects events
  use changes (not even a class: an object whose class is swapped loses
  CPython's specialised attribute access). It pickles and copies as a plain
  ``dict``.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Callable

import statemachine
from statemachine.callbacks import SPECS_SAFE
from statemachine.dispatcher import Listener, Listeners

from . import _binding
from ._ownership import KEY as OWNER_KEY

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = [
    "FIELD_PARAMETER",
    "OwnedListeners",
    "disown",
    "listen",
    "own",
    "own_all",
    "own_recorded",
    "unlisten",
    "unlisten_all",
]

_IS_V3 = hasattr(statemachine, "StateChart")

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
    if isinstance(callback, partial) and callback.func is _call_listener:
        return callback.args[0], callback.args[1]
    wired = _binding.wired_parts(callback)
    if wired is not None:
        return wired[0], wired[1]
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


class OwnedListeners(dict[Any, Any]):
    """A wired machine's ``_listeners``: listeners added with ``add_listener()`` are wired.

    python-statemachine's ``add_listener()`` first records the new listeners
    in this mapping (``{listener: None}`` on 2.x, ``{id: listener}`` on 3.x),
    then resolves their callbacks. Recording them here resolves them at once,
    the same way, and wires them; python-statemachine's own resolution then
    finds every callback already there. Pickled and copied as a plain dict.
    """

    __slots__ = ("machine",)

    machine: Any

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Record the listeners, then resolve and wire their callbacks."""
        added: dict[Any, Any] = dict(*args, **kwargs)
        super().update(added)
        listeners = tuple(added.values() if _IS_V3 else added)
        machine = self.machine
        mark: Any = machine._callbacks._registry.get(OWNER_KEY)  # noqa: SLF001
        orc: Any = None if mark is None else mark()
        if orc is None or not listeners:
            return
        listener_class: Any = Listener
        resolved = Listeners.from_listeners(listener_class.from_obj(x) for x in listeners)
        machine._add_listener(resolved, allowed_references=SPECS_SAFE)  # noqa: SLF001
        orc_class: Any = orc.__class__
        _binding.wire(machine, orc, orc_class.orchestrator_name)

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return (dict, (dict(self),))


def own(machine: Any) -> None:
    """Make listeners added to ``machine`` with python-statemachine's API receive its owner."""
    current = machine._listeners  # noqa: SLF001
    if type(current) is not OwnedListeners:
        owned = OwnedListeners(current)
        owned.machine = machine
        # object's own __setattr__: a 3.x machine's checks state names, which this is not.
        object.__setattr__(machine, "_listeners", owned)


def own_all(machines: Iterable[Any]) -> None:
    """:func:`own` each machine, none of them owned yet (inline: restoring runs it for each)."""
    for machine in machines:
        current = machine._listeners  # noqa: SLF001
        owned = OwnedListeners(current) if current else OwnedListeners()
        owned.machine = machine
        object.__setattr__(machine, "_listeners", owned)


def own_recorded(machine: Any) -> None:
    """:func:`own` a machine whose wiring waited for its first use (see :mod:`._deferred`).

    Listeners python-statemachine recorded in its ``_listeners`` meanwhile are
    resolved and wired now, as :meth:`OwnedListeners.update` would have.
    """
    current = machine._listeners  # noqa: SLF001
    if type(current) is not OwnedListeners:
        owned = OwnedListeners()
        owned.machine = machine
        object.__setattr__(machine, "_listeners", owned)
        if current:
            owned.update(current)


def disown(machine: Any) -> None:
    """Undo :func:`own` (a plain copy of a plain ``_listeners`` changes nothing)."""
    object.__setattr__(machine, "_listeners", dict(machine._listeners))  # noqa: SLF001

"""Injection adapter for python-statemachine 3.0, 3.1 and 3.2.

Every callback of a 3.x engine gets its arguments from the engine's
``_get_args_kwargs``, whatever started the step: an event called or sent,
an eventless transition, ``done.state``, ``error.execution``, a delayed event
or an ``invoke`` handler. The public ``prepare_event`` hook reaches the same
callbacks, but runs the full callback machinery several times per event (about
1.3 times the cost of an event); this adapter instead shadows
``_get_args_kwargs`` on the engine instance with a closure that adds the
orchestrator to the keyword arguments of the trigger it is given, from which
the callbacks' keyword arguments are copied. The engine is rebuilt, without the
shadow, when a machine is pickled or copied.

The constructor of a 3.x machine forwards unknown keyword arguments to its
initial-state callbacks, which :func:`build` uses.

``tests/test_engine_adapters.py`` pins the private names this relies on.
"""

from __future__ import annotations

from inspect import iscoroutinefunction
from typing import Any, Callable

from statemachine import StateChart  # type: ignore[attr-defined, unused-ignore]

__all__ = ["MACHINE_BASE", "build", "owner_of", "unwire", "wire"]

MACHINE_BASE: type[Any] = StateChart
"""The class every machine field's class must derive from on this line."""


def _hook_sync(get_args_kwargs: Callable[..., Any], orc: object, name: str) -> Callable[..., Any]:
    # The callbacks' keyword arguments start as a copy of the trigger's, which
    # invoke handlers also read directly: adding ``orc`` to the trigger reaches
    # both, and the engine's per-step cache holds dicts that already have it.
    def get_args_kwargs_with_orchestrator(
        transition: Any, trigger_data: Any, *args: Any, **kwargs: Any
    ) -> Any:
        trigger_data.kwargs[name] = orc
        return get_args_kwargs(transition, trigger_data, *args, **kwargs)

    return get_args_kwargs_with_orchestrator


def _hook_async(get_args_kwargs: Callable[..., Any], orc: object, name: str) -> Callable[..., Any]:
    # As _hook_sync; the async engine's _get_args_kwargs is a coroutine function.
    async def get_args_kwargs_with_orchestrator(
        transition: Any, trigger_data: Any, *args: Any, **kwargs: Any
    ) -> Any:
        trigger_data.kwargs[name] = orc
        return await get_args_kwargs(transition, trigger_data, *args, **kwargs)

    return get_args_kwargs_with_orchestrator


def _hook_enabled_events(
    enabled_events: Callable[..., Any], orc: object, name: str
) -> Callable[..., Any]:
    # ``enabled_events()`` evaluates guards outside of any step.
    def enabled_events_with_orchestrator(*args: Any, **kwargs: Any) -> Any:
        kwargs[name] = orc
        return enabled_events(*args, **kwargs)

    return enabled_events_with_orchestrator


_HOOK_CODES = frozenset(hook(print, None, "").__code__ for hook in (_hook_sync, _hook_async))


def wire(machine: Any, orc: object, name: str) -> None:
    """Make every callback of ``machine`` receive ``orc`` as keyword ``name``."""
    engine = machine._engine  # noqa: SLF001 - the private hook of this line, see module doc
    get_args_kwargs = engine._get_args_kwargs  # noqa: SLF001
    hook = _hook_async if iscoroutinefunction(get_args_kwargs) else _hook_sync
    engine._get_args_kwargs = hook(get_args_kwargs, orc, name)  # noqa: SLF001
    engine.enabled_events = _hook_enabled_events(engine.enabled_events, orc, name)


def unwire(machine: Any) -> None:
    """Undo :func:`wire`: the machine's callbacks no longer receive an orchestrator."""
    engine_vars: dict[str, Any] = machine._engine.__dict__  # noqa: SLF001
    engine_vars.pop("_get_args_kwargs", None)
    engine_vars.pop("enabled_events", None)


def owner_of(machine: Any) -> object | None:
    """Return the orchestrator ``machine`` is wired to, or ``None``."""
    engine_vars: dict[str, Any] = machine._engine.__dict__  # noqa: SLF001
    hook = engine_vars.get("_get_args_kwargs")
    if hook is None or hook.__code__ not in _HOOK_CODES:
        return None
    cells = dict(zip(hook.__code__.co_freevars, hook.__closure__))
    owner: object = cells["orc"].cell_contents
    return owner


def build(factory: Callable[..., Any], orc: object, name: str) -> Any:
    """Build a machine whose initial-state callbacks receive the orchestrator.

    A 3.x machine enters its initial state inside its constructor and passes
    the constructor's extra keyword arguments to those callbacks.
    """
    return factory(**{name: orc})

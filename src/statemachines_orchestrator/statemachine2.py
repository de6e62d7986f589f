"""Injection adapter for python-statemachine 2.5 and 2.6.

The 2.x line has no public hook that reaches every callback, so this module uses
one private one: every event's ``TriggerData`` passes through the engine's
``put`` method, and the ``kwargs`` of that trigger are handed to every
callback. The adapter shadows ``put`` on the engine instance (never on a
class) with a closure that adds the orchestrator to the trigger's keyword
arguments. The engine is rebuilt, without the shadow, when a machine is
pickled or copied, so a lone machine never drags its orchestrator along.

``tests/test_engine_adapters.py`` pins the private names this relies on.
"""

from __future__ import annotations

from typing import Any, Callable

from statemachine import StateMachine

__all__ = ["MACHINE_BASE", "build", "owner_of", "unwire", "wire"]

MACHINE_BASE: type[Any] = StateMachine
"""The class every machine field's class must derive from on this line."""


def _hook_put(put: Callable[[Any], Any], orc: object, name: str) -> Callable[[Any], Any]:
    # A closure over plain locals: the cheapest callable CPython offers for the
    # one extra step every event pays for.
    def put_with_orchestrator(trigger_data: Any) -> Any:
        trigger_data.kwargs[name] = orc
        return put(trigger_data)

    return put_with_orchestrator


def _hook_enabled_events(
    enabled_events: Callable[..., Any], orc: object, name: str
) -> Callable[..., Any]:
    # ``enabled_events()`` evaluates guards outside of any trigger.
    def enabled_events_with_orchestrator(*args: Any, **kwargs: Any) -> Any:
        kwargs[name] = orc
        return enabled_events(*args, **kwargs)

    return enabled_events_with_orchestrator


_HOOKED = {"put": _hook_put, "enabled_events": _hook_enabled_events}


def wire(machine: Any, orc: object, name: str) -> None:
    """Make every callback of ``machine`` receive ``orc`` as keyword ``name``."""
    _wire_engine(machine._engine, orc, name)  # noqa: SLF001 - the private hook of this line


def _wire_engine(engine: Any, orc: object, name: str) -> None:
    for attr, make_hook in _HOOKED.items():
        original = getattr(engine.__class__, attr, None)
        if original is not None:
            setattr(engine, attr, make_hook(getattr(engine, attr), orc, name))
    # Triggers queued before wiring (an async machine's initial transition is
    # queued by its constructor) must carry the orchestrator too.
    for trigger_data in engine._external_queue:  # noqa: SLF001
        trigger_data.kwargs[name] = orc


def unwire(machine: Any) -> None:
    """Undo :func:`wire`: the machine's callbacks no longer receive an orchestrator."""
    engine_vars: dict[str, Any] = machine._engine.__dict__  # noqa: SLF001
    for attr in _HOOKED:
        engine_vars.pop(attr, None)


def owner_of(machine: Any) -> object | None:
    """Return the orchestrator ``machine`` is wired to, or ``None``."""
    engine_vars: dict[str, Any] = machine._engine.__dict__  # noqa: SLF001
    hook = engine_vars.get("put")
    if hook is None or hook.__code__ is not _PUT_CODE:
        return None
    cells = dict(zip(hook.__code__.co_freevars, hook.__closure__))
    owner: object = cells["orc"].cell_contents
    return owner


_PUT_CODE = _hook_put(print, None, "").__code__


def build(factory: Callable[..., Any], orc: object, name: str) -> Any:
    """Build a machine whose initial-state callbacks receive the orchestrator.

    A 2.x machine enters its initial state inside its constructor, right after
    it creates its engine (``_get_engine``), and its constructor takes no extra
    keyword arguments. When the factory is a machine class, the engine is wired
    as soon as it exists, through an instance attribute shadowing
    ``_get_engine`` for the duration of the constructor. Any other factory is
    called with no arguments, and its machine is wired once built.
    """
    if not (isinstance(factory, type) and issubclass(factory, StateMachine)):
        return factory()
    # Any: the private _get_engine is untyped on 3.x and shadowed per instance.
    machine: Any = factory.__new__(factory)

    def get_engine_wired(*args: Any, **kwargs: Any) -> Any:
        engine = machine.__class__._get_engine(machine, *args, **kwargs)  # noqa: SLF001
        _wire_engine(engine, orc, name)
        return engine

    machine._get_engine = get_engine_wired  # noqa: SLF001
    try:
        machine.__init__()
    finally:
        del machine._get_engine  # noqa: SLF001
    return machine

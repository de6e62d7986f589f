"""Pins the private python-statemachine names the adapters rely on.

Each adapter shadows one private engine method per machine. If a release of
python-statemachine renames or reshapes it, these tests fail first, naming
what changed.
"""

from __future__ import annotations

import inspect
from collections import deque

import pytest

from statemachines_orchestrator import injection

from .conftest import PSM3
from .machines import Pair, Toggle


def engine_classes() -> list[type]:
    """The engine classes of the installed line."""
    from statemachine.engines.async_ import AsyncEngine
    from statemachine.engines.sync import SyncEngine

    return [SyncEngine, AsyncEngine]


def test_the_adapter_matches_the_installed_line() -> None:
    """3.x gets the StateChart adapter, 2.x the StateMachine one."""
    import statemachine

    expected = statemachine.StateChart if PSM3 else statemachine.StateMachine  # type: ignore[attr-defined]
    assert injection.MACHINE_BASE is expected
    assert injection.wire.__module__.endswith("statemachine3" if PSM3 else "statemachine2")


@pytest.mark.skipif(PSM3, reason="python-statemachine 2.x only")
@pytest.mark.parametrize("engine_cls", engine_classes())
def test_2x_engines_take_triggers_through_put(engine_cls: type) -> None:
    """2.x: ``engine.put(trigger_data)`` is where every trigger enters."""
    assert list(inspect.signature(engine_cls.put).parameters) == ["self", "trigger_data"]
    machine = Toggle()
    assert isinstance(machine._engine._external_queue, deque)  # noqa: SLF001


@pytest.mark.skipif(PSM3, reason="python-statemachine 2.x only")
def test_2x_callbacks_get_the_trigger_kwargs() -> None:
    """2.x: the callbacks' keyword arguments start as a copy of the trigger's."""
    from statemachine.event_data import EventData

    source = inspect.getsource(EventData.extended_kwargs.fget)  # type: ignore[attr-defined]
    assert "self.trigger_data.kwargs.copy()" in source


@pytest.mark.skipif(not PSM3, reason="python-statemachine 3.x only")
@pytest.mark.parametrize("engine_cls", engine_classes())
def test_3x_engines_build_callback_arguments_in_get_args_kwargs(engine_cls: type) -> None:
    """3.x: ``_get_args_kwargs(transition, trigger_data, ...)`` feeds every callback."""
    parameters = list(inspect.signature(engine_cls._get_args_kwargs).parameters)  # noqa: SLF001
    assert parameters[:3] == ["self", "transition", "trigger_data"]
    assert list(inspect.signature(engine_cls.enabled_events).parameters) == [
        "self",
        "args",
        "kwargs",
    ]


@pytest.mark.skipif(not PSM3, reason="python-statemachine 3.x only")
def test_3x_callbacks_and_invoke_handlers_get_the_trigger_kwargs() -> None:
    """3.x: callbacks copy the trigger's kwargs; invoke handlers read them directly."""
    from statemachine.engines.base import BaseEngine
    from statemachine.event_data import EventData

    extended = inspect.getsource(EventData.extended_kwargs.fget)  # type: ignore[attr-defined]
    assert "self.trigger_data.kwargs.copy()" in extended
    enter_states = inspect.getsource(BaseEngine)
    assert "mark_for_invoke(target, trigger_data.kwargs)" in enter_states


def test_wire_shadows_on_the_instance_only_and_unwire_restores() -> None:
    """Wiring never touches a class; unwiring leaves the engine as it was built."""
    machine = Toggle()
    engine = machine._engine  # noqa: SLF001
    before = dict(vars(engine))
    class_attrs = dict(vars(type(engine)))
    pair = Pair(left=machine, right=Toggle())
    assert injection.owner_of(machine) is pair
    assert dict(vars(type(engine))) == class_attrs
    pair.release()
    assert dict(vars(engine)) == before
    assert injection.owner_of(machine) is None


def test_owner_of_ignores_foreign_shadows() -> None:
    """Something else shadowing the same engine method is not taken for an orchestrator."""
    machine = Toggle()
    engine = machine._engine  # noqa: SLF001
    attr = "_get_args_kwargs" if PSM3 else "put"
    setattr(engine, attr, getattr(engine, attr))
    assert injection.owner_of(machine) is None

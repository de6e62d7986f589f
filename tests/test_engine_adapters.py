"""Pins the private python-statemachine structure the injection relies on.

If a release of python-statemachine reshapes it, these tests fail first,
naming what changed (see the module docstrings of ``statemachines_orchestrator._psm``).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from statemachine import State, StateMachine, dispatcher

from statemachines_orchestrator import Orchestrator, _psm
from statemachines_orchestrator._psm import _binding as callback_binding
from statemachines_orchestrator._psm import owner_of

from .machines import Pair, Toggle
from .psm_line import PSM3


def test_the_line_module_matches_the_installed_line() -> None:
    """3.x machines derive from StateChart, 2.x ones from StateMachine."""
    import statemachine

    expected = statemachine.StateChart if PSM3 else statemachine.StateMachine  # type: ignore[attr-defined]
    assert _psm.MACHINE_BASE is expected
    assert _psm.IS_V3 is PSM3
    assert _psm.FAST, _psm.UNRECOGNISED


def test_callable_method_wraps_callbacks_in_signature_adapters() -> None:
    """``callable_method`` returns a closure over ``sig_bind_expected`` and ``a_callable``."""
    codes = callback_binding._adapter_codes  # noqa: SLF001
    assert len(codes) == 2  # sync and async
    assert {code.co_flags & inspect.CO_COROUTINE for code in codes} == {0, inspect.CO_COROUTINE}
    for code in codes:
        # Both closures keep their cells where wiring reads them.
        assert code.co_freevars.index("sig_bind_expected") == callback_binding._bind_cell  # noqa: SLF001
        assert code.co_freevars.index("a_callable") == callback_binding._func_cell  # noqa: SLF001

    def callback(orc: object) -> object:
        return orc

    adapter = dispatcher.callable_method(callback)
    assert adapter.__code__ in callback_binding._adapter_codes  # noqa: SLF001


def test_machines_keep_their_callbacks_in_a_registry_of_wrappers() -> None:
    """``machine._callbacks._registry`` maps keys to executors of ``_callback`` wrappers."""
    machine = Toggle()
    wrappers = list(callback_binding._callbacks(machine))  # noqa: SLF001
    assert wrappers
    assert all(callable(wrapper._callback) for wrapper in wrappers)  # noqa: SLF001
    assert any(
        wrapper._callback.__code__ in callback_binding._adapter_codes  # noqa: SLF001
        for wrapper in wrappers
    )


def test_registries_are_per_instance() -> None:
    """Wiring one machine never changes another machine of the same class."""
    wired, other = Toggle(), Toggle()
    Pair(left=wired, right=Toggle())
    other.switch()
    assert other.seen == [None]
    assert wired._callbacks is not other._callbacks  # noqa: SLF001


def test_machine_pickling_drops_and_rebuilds_the_registry() -> None:
    """A machine's state excludes its callbacks, so copies start unwired."""
    machine = Toggle()
    assert "_callbacks" not in machine.__getstate__()


class _Lamp(StateMachine):
    """A machine that keeps python-statemachine's own ``__init__``."""

    off = State(initial=True)
    on = State()

    switch = off.to(on) | on.to(off)

    def on_enter_on(self) -> None:
        self.entered = True


def test_restore_builds_3x_machines_as_unpickling_does() -> None:
    """``__getstate__`` keeps the five attributes ``build_with_value`` hands ``__setstate__``."""
    from statemachines_orchestrator._psm import _state

    shape = _psm.shape_of(_Lamp)
    assert shape.unpickled is PSM3
    assert not _psm.shape_of(Toggle).unpickled  # an __init__ of its own
    if PSM3:
        assert set(_Lamp().__getstate__()) == {
            "model",
            "history_values",
            "state_field",
            "start_configuration_values",
            "_listeners",
        }
    built = _state.build_with_value(_Lamp, shape, "on")
    assert built.current_state_value == "on"
    assert not hasattr(built, "entered")  # no entry action ran
    built.switch()
    assert built.current_state_value == "off"


class _Counter:
    """A class-level listener: python-statemachine makes one per machine."""

    def __init__(self) -> None:
        self.transitions = 0

    def after_transition(self) -> None:
        self.transitions += 1


@pytest.mark.skipif(not PSM3, reason="class-level listeners are a 3.x feature")
def test_restore_sets_class_level_listeners_up_through_init() -> None:
    """A class with class-level listeners is built through ``__init__``, which makes them."""

    class Counted(StateMachine):
        listeners = [_Counter]  # noqa: RUF012 - python-statemachine's own spelling
        off = State(initial=True)
        on = State()
        switch = off.to(on) | on.to(off)

    class Room(Orchestrator):
        lamp: Counted

    assert not _psm.shape_of(Counted).unpickled
    restored = Room.restore(Room(Counted()).snapshot())
    restored.lamp.switch()
    (counter,) = [x for x in restored.lamp.active_listeners if isinstance(x, _Counter)]
    assert counter.transitions == 1


def test_guard_expressions_are_spec_parser_closures() -> None:
    """``cond="a and not b"`` combines callbacks in ``statemachine.spec_parser`` closures."""

    class Guarded(StateMachine):
        a = State(initial=True)
        b = State(final=True)
        go = a.to(b, cond="ready and not blocked")

        def ready(self, orc: Any = None) -> bool:
            return orc is not None

        def blocked(self) -> bool:
            return False

    class Solo(Orchestrator):
        guarded: Guarded

    machine = Guarded()
    composites = [
        w._callback  # noqa: SLF001
        for w in callback_binding._callbacks(machine)  # noqa: SLF001
        if getattr(w._callback, "__module__", None) == "statemachine.spec_parser"  # noqa: SLF001
    ]
    assert composites
    solo = Solo(machine)
    assert owner_of(machine) is solo
    solo.guarded.go()
    assert solo.guarded.current_state_value == "b"


def test_wire_touches_only_callbacks_that_ask() -> None:
    """Callbacks without the parameter keep python-statemachine's own closure."""

    class Mixed(StateMachine):
        a = State(initial=True)
        b = State(final=True)
        go = a.to(b)

        def on_go(self, orc: Any) -> None:
            pass

        def after_go(self, source: State) -> None:
            pass

    machine = Mixed()
    before = {id(w): w._callback for w in callback_binding._callbacks(machine)}  # noqa: SLF001
    callback_binding.wire(machine, object(), "orc")
    changed = [
        w
        for w in callback_binding._callbacks(machine)  # noqa: SLF001
        if w._callback is not before[id(w)]  # noqa: SLF001
    ]
    assert len(changed) == 1
    assert callback_binding.wired_parts(changed[0]._callback) is not None  # noqa: SLF001


def test_unwire_restores_python_statemachine_closures() -> None:
    """After ``release()`` no callback of the machine refers to the orchestrator."""
    machine = Toggle()
    pair = Pair(left=machine, right=Toggle())
    pair.release()
    assert owner_of(machine) is None
    assert all(
        callback_binding.wired_parts(w._callback) is None  # noqa: SLF001
        for w in callback_binding._callbacks(machine)  # noqa: SLF001
    )
    machine.switch()
    assert machine.seen == [None]


def test_constructor_registers_callbacks_before_creating_its_engine() -> None:
    """``__init__`` calls ``_register_callbacks``, then ``_get_engine``, then starts it."""
    source = inspect.getsource(StateMachine.__init__)
    assert source.index("_register_callbacks") < source.index("self._get_engine(")


@pytest.mark.skipif(not PSM3, reason="python-statemachine 3.x only")
def test_3x_constructor_passes_extra_keywords_to_the_initial_state() -> None:
    """3.x ``__init__`` takes ``**kwargs`` and starts its engine with them."""
    source = inspect.getsource(StateMachine.__init__)
    assert "**kwargs" in str(inspect.signature(StateMachine.__init__))
    assert "self._engine.start(**kwargs)" in source

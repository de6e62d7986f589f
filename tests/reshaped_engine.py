"""Run in a subprocess: reshape python-statemachine's internals, then use the package.

``python -m tests.reshaped_engine SHAPE`` applies one plausible change a future
python-statemachine release could make to the private structure the fast
injection path relies on, imports statemachines_orchestrator, and prints (as
JSON) what was warned and which callback kinds received the orchestrator.
``tests/test_engine_changes.py`` asserts on it.
"""

from __future__ import annotations

import inspect
import json
import sys
import textwrap
import warnings
from typing import Any, Callable

import statemachine
from statemachine import callbacks, dispatcher, spec_parser

PSM3 = hasattr(statemachine, "StateChart")


def _rebind(old: object, new: object) -> None:
    """Make every python-statemachine module that imported ``old`` by name use ``new``."""
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] != "statemachine":
            continue
        for attr, value in list(vars(module).items()):
            if value is old:
                setattr(module, attr, new)


def _rewrite(obj: Any, module: Any, edit: Callable[[str], str]) -> None:
    """Redefine a function or class of ``module`` from its edited source."""
    source = textwrap.dedent(inspect.getsource(obj))
    edited = edit(source)
    assert edited != source, "the reshape changed nothing"
    namespace = vars(module)
    exec(compile(edited, inspect.getsourcefile(obj) or "<reshaped>", "exec"), namespace)  # noqa: S102
    _rebind(obj, namespace[obj.__name__])


def renamed_closure_cells() -> None:
    """``callable_method``'s closures keep the callback and binder under other names."""
    _rewrite(
        dispatcher.callable_method,
        dispatcher,
        lambda s: s.replace("sig_bind_expected", "bind_args").replace("a_callable", "target"),
    )


def adapter_is_an_object() -> None:
    """``callable_method`` returns a callable object instead of a closure."""
    original = dispatcher.callable_method

    class Adapter:
        def __init__(self, func: Any) -> None:
            self.inner = original(func)
            self.is_coroutine = getattr(self.inner, "is_coroutine", False)
            self.__name__ = getattr(func, "__name__", "adapter")

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return self.inner(*args, **kwargs)

    _rebind(original, Adapter)


def one_adapter_only() -> None:
    """``callable_method`` makes one closure, whatever the callback (no async variant)."""

    def callable_method(a_callable: Any) -> Any:
        from statemachine.signature import SignatureAdapter

        sig_bind_expected = SignatureAdapter.from_callable(a_callable).bind_expected

        def signature_adapter(*args: Any, **kwargs: Any) -> Any:
            ba = sig_bind_expected(*args, **kwargs)
            return a_callable(*ba.args, **ba.kwargs)

        signature_adapter.is_coroutine = False  # type: ignore[attr-defined]
        signature_adapter.__name__ = getattr(a_callable, "__name__", "callback")
        return signature_adapter

    _rebind(dispatcher.callable_method, callable_method)


def renamed_registry() -> None:
    """The per-instance callback registry keeps its executors under another attribute."""
    _rewrite(
        callbacks.CallbacksRegistry, callbacks, lambda s: s.replace("_registry", "_executors")
    )


def renamed_wrapper_attribute() -> None:
    """Callback wrappers keep the callback under another attribute."""
    _rewrite(callbacks.CallbackWrapper, callbacks, lambda s: s.replace("_callback", "_target"))


def moved_expressions() -> None:
    """Guard expressions (``cond="a and not b"``) are built in a module of another name."""
    spec_parser.__name__ = "statemachine.expressions"


def executor_with_slots() -> None:
    """The executor class declares ``__slots__``: no weak reference can derive from it too."""
    _rewrite(
        callbacks.CallbacksExecutor,
        callbacks,
        lambda s: s.replace(
            '"""A list of callbacks that can be executed in order."""',
            '"""A list of callbacks that can be executed in order."""\n\n'
            '    __slots__ = ("items", "items_already_seen")',
        ),
    )


def extra_closure_cell() -> None:
    """The closures gain a cell: harmless, the fast path finds its cells by name."""
    _rewrite(
        dispatcher.callable_method,
        dispatcher,
        lambda s: s.replace(
            "ba = sig_bind_expected(*args, **kwargs)",
            "ba = sig_bind_expected(*args, **kwargs) if sig else None",
        ),
    )


SHAPES: dict[str, Callable[[], None]] = {
    f.__name__: f
    for f in (
        renamed_closure_cells,
        adapter_is_an_object,
        one_adapter_only,
        renamed_registry,
        renamed_wrapper_attribute,
        moved_expressions,
        executor_with_slots,
        extra_closure_cell,
    )
}


def _reached() -> dict[str, Any]:  # noqa: C901 - one small callback per kind
    """Which callback kinds receive the orchestrator (3.x: through the public hook)."""
    from statemachine import State

    from statemachines_orchestrator import Orchestrator, _psm, built

    seen: dict[str, bool] = {}

    def note(kind: str, orc: object) -> None:
        seen[kind] = seen.get(kind, True) and isinstance(orc, Orchestrator)

    base: Any = _psm.MACHINE_BASE

    class Worker(base):  # type: ignore[misc]
        idle = State(initial=True)
        busy = State()
        done = State(final=True)
        start = idle.to(busy, cond="ready", validators="valid") | busy.to(
            done, cond="ready and not blocked"
        )

        def ready(self, orc: Any) -> bool:
            note("guard", orc)
            return True

        def blocked(self, orc: Any) -> bool:
            note("guard expression", orc)
            return False

        def valid(self, orc: Any) -> None:
            note("validator", orc)

        def before_start(self, orc: Any) -> None:
            note("before", orc)

        def on_start(self, orc: Any) -> None:
            note("on", orc)

        def after_start(self, orc: Any) -> None:
            note("after", orc)

        def on_exit_idle(self, orc: Any) -> None:
            note("exit", orc)

        def on_enter_busy(self, orc: Any) -> None:
            note("enter", orc)

        def on_enter_idle(self, orc: Any = None) -> None:
            if "initial of a built machine" not in seen:
                note("initial of a built machine", orc)

    class Team(Orchestrator):
        worker: Worker = built(factory=Worker)

    team = Team()
    team.worker.start()
    team.worker.start()
    if PSM3:
        _reach_statechart_callbacks(note)
    return seen


def _reach_statechart_callbacks(note: Callable[[str, object], None]) -> None:
    """``done.state`` and ``error.execution`` handlers (3.x only)."""
    from statemachine import State, StateChart  # type: ignore[attr-defined]

    from statemachines_orchestrator import Orchestrator

    class Job(StateChart):  # type: ignore[misc]
        class work(State.Compound):
            step = State(initial=True)
            finished = State(final=True)
            finish = step.to(finished)

        failed = State()
        over = State(final=True)
        done_state_work = work.to(over, on="handle_done")
        fail = work.to(work, on="explode")
        error_execution = work.to(failed, on="handle_error")
        reset = failed.to(work)

        def explode(self) -> None:
            raise RuntimeError

        def handle_error(self, orc: Any) -> None:
            note("error.execution", orc)

        def handle_done(self, orc: Any) -> None:
            note("done.state", orc)

    class Solo(Orchestrator):
        job: Job

    solo = Solo(job=Job())
    solo.job.send("fail")
    solo.job.send("reset")
    solo.job.send("finish")


def main() -> None:
    """Reshape, import, report."""
    shape = sys.argv[1]
    SHAPES[shape]()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import statemachines_orchestrator
        from statemachines_orchestrator import _psm

        report: dict[str, Any] = {"fast": _psm.FAST, "psm3": PSM3}
        try:
            report["reached"] = _reached()
        except statemachines_orchestrator.EngineNotSupportedError as exc:
            report["refused"] = str(exc)
    report["warnings"] = [
        {"category": w.category.__name__, "message": str(w.message)} for w in caught
    ]
    print(json.dumps(report))  # noqa: T201 - the report is this script's output


if __name__ == "__main__":
    main()

"""Every kind of callback receives the orchestrator; callbacks that do not ask are unaffected."""

# No ``from __future__ import annotations`` here: the orchestrators below are
# declared with evaluated annotations, the other test modules with strings.
from typing import Any

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import Orchestrator

from .machines import OrderMachine, PaymentMachine, Shop, state_of


def make_recorder() -> tuple[type[StateMachine], list[tuple[str, Any]]]:
    """A machine class whose every kind of callback records what it received."""
    log: list[tuple[str, Any]] = []

    class Recorder(StateMachine):
        idle = State(initial=True)
        busy = State()

        start = idle.to(busy, cond="can_start", validators="check", unless="blocked")
        stop = busy.to(idle)

        def can_start(self, orc: Any) -> bool:
            log.append(("cond", orc))
            return True

        def blocked(self, orc: Any) -> bool:
            log.append(("unless", orc))
            return False

        def check(self, orc: Any) -> None:
            log.append(("validator", orc))

        def before_start(self, orc: Any) -> None:
            log.append(("before", orc))

        def on_start(self, orc: Any) -> None:
            log.append(("on", orc))

        def on_exit_idle(self, orc: Any) -> None:
            log.append(("exit", orc))

        def on_enter_busy(self, orc: Any) -> None:
            log.append(("enter", orc))

        def after_start(self, orc: Any) -> None:
            log.append(("after", orc))

        def on_enter_idle(self, **kwargs: Any) -> None:
            log.append(("enter idle", kwargs.get("orc")))

    return Recorder, log


def test_every_callback_kind_receives_the_orchestrator() -> None:
    """Guards, validators, before/on/after and exit/enter all get ``orc``."""
    recorder_cls, log = make_recorder()

    class Solo(Orchestrator):
        recorder: recorder_cls  # type: ignore[valid-type]

    solo = Solo(recorder_cls())
    log.clear()
    solo.recorder.start()
    kinds = [kind for kind, _ in log]
    assert kinds == ["validator", "cond", "unless", "before", "exit", "on", "enter", "after"]
    assert all(orc is solo for _, orc in log)


def test_events_sent_by_name_receive_the_orchestrator() -> None:
    """``send("start")`` reaches the same callbacks as ``start()``."""
    recorder_cls, log = make_recorder()

    class Solo(Orchestrator):
        recorder: recorder_cls  # type: ignore[valid-type]

    solo = Solo(recorder_cls())
    log.clear()
    solo.recorder.send("start")
    assert log
    assert all(orc is solo for _, orc in log)


def test_callbacks_without_the_parameter_are_unaffected() -> None:
    """A callback that declares neither ``orc`` nor ``**kwargs`` is called as before."""
    calls: list[str] = []

    class Plain(StateMachine):
        a = State(initial=True)
        b = State(final=True)
        go = a.to(b)

        def after_go(self, event: str, source: State) -> None:
            calls.append(f"{event} from {source.id}")

    class Solo(Orchestrator):
        plain: Plain

    solo = Solo(Plain())
    solo.plain.go()
    assert calls == ["go from a"]


def test_kwargs_callbacks_see_the_orchestrator_beside_event_arguments() -> None:
    """``orc`` joins the event's own keyword arguments; it does not replace them."""
    seen: dict[str, Any] = {}

    class Plain(StateMachine):
        a = State(initial=True)
        b = State(final=True)
        go = a.to(b)

        def on_go(self, amount: int, **kwargs: Any) -> None:
            seen.update(kwargs, amount=amount)

    class Solo(Orchestrator):
        plain: Plain

    solo = Solo(Plain())
    solo.plain.go(amount=3)
    assert seen["amount"] == 3
    assert seen["orc"] is solo


def test_cross_machine_calls_in_both_directions() -> None:
    """Order authorizes payment; payment, once captured, completes the order."""
    shop = Shop(order=OrderMachine(), payment=PaymentMachine())
    shop.order.process()
    assert state_of(shop.payment) == "authorized"
    shop.payment.capture()
    assert state_of(shop.order) == "completed"
    assert state_of(shop.payment) == "captured"


def test_call_back_into_a_machine_mid_step_is_queued_and_injected() -> None:
    """B calling back into A while A is mid-step runs after A's step, with ``orc``."""
    trace: list[str] = []

    class A(StateMachine):
        idle = State(initial=True)
        busy = State()
        done = State(final=True)
        go = idle.to(busy)
        finish = busy.to(done)

        def after_go(self, orc: Any) -> None:
            trace.append("A.after_go start")
            orc.b.go()
            trace.append(f"A.after_go end, A is {state_of(self)}")

        def on_finish(self, orc: Any) -> None:
            trace.append(f"A.on_finish with {type(orc).__name__}")

    class B(StateMachine):
        idle = State(initial=True)
        busy = State(final=True)
        go = idle.to(busy)

        def after_go(self, orc: Any) -> None:
            trace.append("B.after_go")
            orc.a.finish()

    class Duo(Orchestrator):
        a: A
        b: B

    duo = Duo(a=A(), b=B())
    duo.a.go()
    assert trace == [
        "A.after_go start",
        "B.after_go",
        "A.after_go end, A is busy",
        "A.on_finish with Duo",
    ]
    assert state_of(duo.a) == "done"


def test_events_a_machine_sends_itself_are_injected() -> None:
    """An event a callback sends to its own machine is queued and still gets ``orc``."""
    seen: list[Any] = []

    class Loop(StateMachine):
        a = State(initial=True)
        b = State()
        c = State(final=True)
        first = a.to(b)
        second = b.to(c)

        def after_first(self) -> None:
            self.send("second")

        def on_second(self, orc: Any) -> None:
            seen.append(orc)

    class Solo(Orchestrator):
        loop: Loop

    solo = Solo(Loop())
    solo.loop.first()
    assert seen == [solo]
    assert state_of(solo.loop) == "c"


def test_guards_of_enabled_events_receive_the_orchestrator() -> None:
    """``allowed_events`` ignores guards, but ``enabled_events()`` evaluates them with ``orc``."""
    seen: list[Any] = []

    class Gate(StateMachine):
        closed = State(initial=True)
        opened = State(final=True)
        open = closed.to(opened, cond="allowed")

        def allowed(self, orc: Any) -> bool:
            seen.append(orc)
            return True

    class Solo(Orchestrator):
        gate: Gate

    solo = Solo(Gate())
    if not hasattr(solo.gate, "enabled_events"):
        pytest.skip("python-statemachine 2.5 has no enabled_events()")
    assert [e.id for e in solo.gate.enabled_events()] == ["open"]
    assert seen == [solo]


def test_two_orchestrators_of_one_class_never_see_each_other() -> None:
    """Each orchestrator's machines receive that orchestrator only."""
    first = Shop(order=OrderMachine(), payment=PaymentMachine())
    second = Shop(order=OrderMachine(), payment=PaymentMachine())
    first.order.process()
    assert state_of(first.payment) == "authorized"
    assert state_of(second.payment) == "waiting"
    second.order.process()
    second.payment.capture()
    assert state_of(second.order) == "completed"
    assert state_of(first.order) == "processing"


def test_custom_orchestrator_name() -> None:
    """``orchestrator_name`` renames the keyword; ``orc`` is then not passed."""
    seen: dict[str, Any] = {}

    class Plain(StateMachine):
        a = State(initial=True)
        b = State(final=True)
        go = a.to(b)

        def on_go(self, **kwargs: Any) -> None:
            seen.update(kwargs)

    class Solo(Orchestrator, orchestrator_name="coordinator"):
        plain: Plain

    solo = Solo(Plain())
    solo.plain.go()
    assert seen["coordinator"] is solo
    assert "orc" not in seen


def test_an_event_argument_named_like_the_orchestrator_is_overridden() -> None:
    """The orchestrator wins over an event keyword argument of the same name."""
    seen: list[Any] = []

    class Plain(StateMachine):
        a = State(initial=True)
        b = State(final=True)
        go = a.to(b)

        def on_go(self, orc: Any) -> None:
            seen.append(orc)

    class Solo(Orchestrator):
        plain: Plain

    solo = Solo(Plain())
    solo.plain.go(orc="something else")
    assert seen == [solo]


def test_guard_expressions_receive_the_orchestrator_and_are_restored() -> None:
    """Callbacks combined in ``cond="a and not b"`` get ``orc``; release restores them."""
    seen: list[Any] = []

    class Gate(StateMachine):
        closed = State(initial=True)
        opened = State(final=True)
        open = closed.to(opened, cond="allowed and not locked")

        def allowed(self, orc: Any = None) -> bool:
            seen.append(orc)
            return True

        def locked(self) -> bool:
            return False

    class Solo(Orchestrator):
        gate: Gate

    solo = Solo(Gate())
    solo.release()
    gate = Gate()
    solo = Solo(gate)
    gate.open()
    assert seen == [solo]


def test_listeners_added_after_wiring_receive_the_orchestrator() -> None:
    """A listener added with python-statemachine's add_listener() after joining is wired too."""
    seen: list[Any] = []

    class Audit:
        def after_go(self, orc: Any = "not given") -> None:
            seen.append(orc)

    class Plain(StateMachine):
        a = State(initial=True)
        b = State(final=True)
        go = a.to(b)

    early = Plain(listeners=[Audit()])

    class Solo(Orchestrator):
        plain: Plain

    solo = Solo(early)
    late = Plain()
    other = Solo(late)
    late.add_listener(Audit())
    early.go()
    late.go()
    assert seen == [solo, other]
    assert other.plain is late

"""Building an orchestrator: the generated __init__, ownership, and clean failure."""

from __future__ import annotations

import gc
import inspect
import sys
from typing import Any

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import (
    MachineAlreadyOrchestratedError,
    MachineTypeMismatchError,
    Orchestrator,
    OrchestratorError,
    StateFieldIsNotUniqueError,
    built,
)
from statemachines_orchestrator._psm import _deferred, owner_of

from .machines import (
    OrderMachine,
    Pair,
    PairThroughSuper,
    PaymentMachine,
    Shop,
    Toggle,
    state_of,
)
from .psm_line import PSM3

# Python 3.9 names the function alone in argument errors; 3.10+ its qualified name.
INIT = "Shop.__init__()" if sys.version_info >= (3, 10) else "__init__()"


def test_signature_is_what_runs() -> None:
    """``inspect.signature`` shows one parameter per field, with its annotation."""
    signature = inspect.signature(Shop)
    assert [(p.name, p.kind, p.annotation, p.default) for p in signature.parameters.values()] == [
        (
            "order",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            "OrderMachine",
            inspect.Parameter.empty,
        ),
        (
            "payment",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            "PaymentMachine",
            inspect.Parameter.empty,
        ),
    ]
    assert Shop.__init__.__qualname__ == "Shop.__init__"


def test_positional_and_keyword_arguments() -> None:
    """Machines go in declaration order, positionally or by name."""
    order, payment = OrderMachine(), PaymentMachine()
    shop = Shop(order, payment=payment)
    assert shop.order is order
    assert shop.payment is payment


def test_missing_argument_is_worded_as_python_words_it() -> None:
    """A missing machine is Python's own ``TypeError``."""
    with pytest.raises(TypeError) as info:
        Shop(order=OrderMachine())  # type: ignore[call-arg]
    assert str(info.value) == f"{INIT} missing 1 required positional argument: 'payment'"


def test_unexpected_argument() -> None:
    """An unknown keyword is Python's own ``TypeError``."""
    with pytest.raises(TypeError) as info:
        Shop(order=OrderMachine(), payment=PaymentMachine(), shipping=1)  # type: ignore[call-arg]
    assert str(info.value) == f"{INIT} got an unexpected keyword argument 'shipping'"


def test_doubly_given_argument() -> None:
    """A machine given positionally and by name is Python's own ``TypeError``."""
    with pytest.raises(TypeError) as info:
        Shop(OrderMachine(), PaymentMachine(), order=OrderMachine())  # type: ignore[misc]
    assert str(info.value) == f"{INIT} got multiple values for argument 'order'"


def test_wrong_machine_class() -> None:
    """A machine of another class names the field, the expected class and what came."""
    payment = PaymentMachine()
    with pytest.raises(MachineTypeMismatchError) as info:
        Shop(order=payment, payment=PaymentMachine())  # type: ignore[arg-type]
    assert str(info.value) == (
        f"Shop: machine field 'order' expects an instance of OrderMachine, got PaymentMachine "
        f"{payment!r}"
    )
    assert isinstance(info.value, TypeError)
    assert owner_of(payment) is None


def test_not_a_machine_at_all() -> None:
    """Any other value is refused the same way."""
    with pytest.raises(
        MachineTypeMismatchError, match="expects an instance of OrderMachine, got str"
    ):
        Shop(order="order", payment=PaymentMachine())  # type: ignore[arg-type]


def test_same_machine_in_two_fields() -> None:
    """One machine cannot fill two fields."""
    toggle = Toggle()
    with pytest.raises(MachineAlreadyOrchestratedError) as info:
        Pair(left=toggle, right=toggle)
    assert str(info.value) == (
        "Pair: the same Toggle instance is given for 'left' and 'right'; each field needs a "
        "machine of its own"
    )
    assert isinstance(info.value, ValueError)
    assert owner_of(toggle) is None


def test_machine_owned_by_another_orchestrator() -> None:
    """A machine wired to a live orchestrator is not silently re-pointed."""
    left = Toggle()
    first = Pair(left=left, right=Toggle())
    with pytest.raises(MachineAlreadyOrchestratedError) as info:
        Pair(left=left, right=Toggle())
    message = str(info.value)
    assert message.startswith("Pair: the machine given for 'left' already belongs to Pair at 0x")
    assert message.endswith("pass a new machine, or call release() on that orchestrator first")
    first.left.switch()
    assert left.seen == [first]


def test_release_hands_machines_back() -> None:
    """After ``release()`` the machines receive no orchestrator and may join another."""
    left, right = Toggle(), Toggle()
    first = Pair(left=left, right=right)
    assert first.release() == {"left": left, "right": right}
    assert dict(first.machines) == {}
    assert repr(first) == "Pair(<released>)"
    second = Pair(left=left, right=right)
    left.switch()
    assert left.seen == [second]


def test_machines_on_one_model_with_one_state_field() -> None:
    """Two machines writing the same attribute of one model would corrupt each other."""

    class Row:
        pass

    row = Row()
    order = OrderMachine(model=row)
    payment = PaymentMachine(model=row)
    with pytest.raises(StateFieldIsNotUniqueError) as info:
        Shop(order=order, payment=payment)
    assert str(info.value) == (
        "Shop: machines 'order' and 'payment' share one model and both keep their state in "
        "its 'state' attribute; give one of them another state_field"
    )
    assert owner_of(order) is None
    assert owner_of(payment) is None


def test_machines_on_one_model_with_their_own_state_fields() -> None:
    """One row, one state field per machine: fine."""

    class Row:
        pass

    row = Row()
    shop = Shop(
        order=OrderMachine(model=row, state_field="order_state"),
        payment=PaymentMachine(model=row, state_field="payment_state"),
    )
    shop.order.process()
    assert (row.order_state, row.payment_state) == ("processing", "authorized")  # type: ignore[attr-defined]


def test_separate_models_with_the_default_state_field() -> None:
    """The default ``state`` field on separate models is fine (0.0.4 refused it)."""
    shop = Shop(order=OrderMachine(), payment=PaymentMachine())
    assert state_of(shop.order) == "pending"


def test_machines_mapping() -> None:
    """``machines`` is a read-only mapping in declaration order."""
    order, payment = OrderMachine(), PaymentMachine()
    shop = Shop(payment=payment, order=order)
    assert list(shop.machines.items()) == [("order", order), ("payment", payment)]
    with pytest.raises(TypeError):
        shop.machines["order"] = order  # type: ignore[index]


def test_repr_shows_each_machine_and_its_state() -> None:
    """The repr names each machine with its current state."""
    shop = Shop(order=OrderMachine(), payment=PaymentMachine())
    shop.order.process()
    assert repr(shop) == (
        "Shop(order=<OrderMachine: 'processing'>, payment=<PaymentMachine: 'authorized'>)"
    )


def test_replacing_a_machine_rewires() -> None:
    """Assigning a new machine wires it and unwires the old one."""
    old, new = Toggle(), Toggle()
    pair = Pair(left=old, right=Toggle())
    pair.left = new
    assert owner_of(new) is pair
    assert owner_of(old) is None
    new.switch()
    old.switch()
    assert new.seen == [pair]
    assert old.seen == [None]


def test_replacing_with_the_same_machine_is_a_no_op() -> None:
    """Assigning the machine a field already holds changes nothing."""
    left = Toggle()
    pair = Pair(left=left, right=Toggle())
    pair.left = left
    left.switch()
    assert left.seen == [pair]


def test_replacing_with_a_bad_machine_is_refused_and_keeps_the_old_one() -> None:
    """A refused replacement leaves the old machine in place and wired."""
    left = Toggle()
    pair = Pair(left=left, right=Toggle())
    with pytest.raises(MachineAlreadyOrchestratedError):
        pair.left = pair.right
    with pytest.raises(MachineTypeMismatchError):
        pair.left = OrderMachine()  # type: ignore[assignment]
    assert pair.left is left
    assert owner_of(left) is pair


def test_deleting_a_machine_is_refused() -> None:
    """``del`` would leave the orchestrator half-wired."""
    pair = Pair(left=Toggle(), right=Toggle())
    with pytest.raises(AttributeError, match=r"cannot delete machine field Pair\.left"):
        del pair.left


def test_other_attributes_set_and_delete_normally() -> None:
    """Only machine fields are guarded."""
    pair = Pair(left=Toggle(), right=Toggle())
    pair.note = "x"  # type: ignore[attr-defined]
    del pair.note  # type: ignore[attr-defined]
    assert not hasattr(pair, "note")


def test_failed_construction_leaves_nothing_wired() -> None:
    """When a later check fails, machines checked earlier stay unowned."""
    left, right = Toggle(), Toggle()
    Pair(left=Toggle(), right=right)
    with pytest.raises(OrchestratorError):
        Pair(left=left, right=right)
    assert owner_of(left) is None
    left.switch()
    assert left.seen == [None]


def test_built_fields_are_built_when_not_given() -> None:
    """``built(factory=...)`` builds a machine per orchestrator when none is passed."""

    class Lazy(Orchestrator):
        order: OrderMachine
        payment: PaymentMachine = built(factory=PaymentMachine)

    first, second = Lazy(OrderMachine()), Lazy(OrderMachine())
    assert isinstance(first.payment, PaymentMachine)
    assert first.payment is not second.payment
    first.order.process()
    assert state_of(first.payment) == "authorized"
    given = PaymentMachine()
    assert Lazy(OrderMachine(), given).payment is given


def make_greeter_class(entered: list[Any]) -> type[StateMachine]:
    """A machine class whose initial state's entry records the orchestrator it gets."""

    class Greeter(StateMachine):
        hello = State(initial=True)
        bye = State(final=True)
        leave = hello.to(bye)

        def on_enter_hello(self, orc: Any = None) -> None:
            entered.append(orc)

    return Greeter


def test_built_machines_initial_callbacks_receive_the_orchestrator() -> None:
    """The initial state's callbacks of a machine built from its class get the orchestrator."""
    entered: list[Any] = []
    greeter_cls = make_greeter_class(entered)

    class Lazy(Orchestrator):
        greeter: greeter_cls = built(factory=greeter_cls)  # type: ignore[valid-type]

    lazy = Lazy()
    assert entered == [lazy]
    assert owner_of(lazy.greeter) is lazy
    lazy.greeter.leave()


def test_built_by_a_function_on_2x_runs_initial_callbacks_without_orchestrator() -> None:
    """On 2.x only a machine class can be wired before its initial state is entered."""
    entered: list[Any] = []
    greeter_cls = make_greeter_class(entered)

    def make_greeter(**kwargs: Any) -> Any:
        return greeter_cls(**kwargs)

    class Lazy(Orchestrator):
        greeter: greeter_cls = built(factory=make_greeter)  # type: ignore[valid-type]

    lazy = Lazy()
    assert entered == ([lazy] if PSM3 else [None])
    assert owner_of(lazy.greeter) is lazy


def test_built_factory_may_be_any_callable() -> None:
    """A factory forwarding keyword arguments to the machine class."""
    models: list[Any] = []

    def make_toggle(**kwargs: Any) -> Toggle:
        toggle = Toggle(**kwargs)
        models.append(toggle.model)
        return toggle

    class Lazy(Orchestrator):
        left: Toggle = built(factory=make_toggle)

    lazy = Lazy()
    assert models == [lazy.left.model]


def test_failing_factory_unwires_the_given_machines() -> None:
    """If building fails, machines passed in are left unowned."""

    def broken(**_: Any) -> Toggle:
        msg = "no toggles today"
        raise RuntimeError(msg)

    class Lazy(Orchestrator):
        left: Toggle
        right: Toggle = built(factory=broken)

    left = Toggle()
    with pytest.raises(RuntimeError, match="no toggles today"):
        Lazy(left)
    assert owner_of(left) is None


def test_factory_returning_a_wrong_machine() -> None:
    """What a factory returns is checked like a machine passed in."""

    class Lazy(Orchestrator):
        left: Toggle = built(factory=lambda **_: OrderMachine())

    with pytest.raises(MachineTypeMismatchError, match="'left' expects an instance of Toggle"):
        Lazy()


def test_orchestrators_are_collected_with_their_machines() -> None:
    """No global registry keeps an orchestrator alive."""
    import weakref

    pair = Pair(left=Toggle(), right=Toggle())
    ref = weakref.ref(pair)
    del pair
    gc.collect()
    assert ref() is None


def test_assigning_a_machine_after_release() -> None:
    """A released orchestrator takes a machine again through assignment."""
    pair = Pair(left=Toggle(), right=Toggle())
    pair.release()
    fresh = Toggle()
    pair.left = fresh
    assert owner_of(fresh) is pair
    assert list(pair.machines) == ["left"]


class _PoisonedExecutor:
    """A registry entry whose callbacks cannot be listed: wiring its machine fails."""

    @property
    def items(self) -> Any:
        msg = "wiring failed"
        raise RuntimeError(msg)


@pytest.mark.usefixtures("eager_wiring")
@pytest.mark.parametrize("poisoned", [0, 1])
@pytest.mark.parametrize("orchestrator_class", [Pair, PairThroughSuper])
def test_wiring_failure_leaves_nothing_wired(
    orchestrator_class: type[Pair], poisoned: int
) -> None:
    """If wiring a machine fails, every machine is left unwired and free."""
    machines = [Toggle(), Toggle()]
    machines[poisoned]._callbacks._registry["poison"] = _PoisonedExecutor()  # noqa: SLF001
    with pytest.raises(RuntimeError, match="wiring failed"):
        orchestrator_class(*machines)
    assert [owner_of(machine) for machine in machines] == [None, None]
    healthy = machines[1 - poisoned]
    healthy.switch()
    assert healthy.seen == [None]


def test_deferred_wiring_failure_surfaces_on_first_use() -> None:
    """A pending machine whose wiring fails raises on its first use, stays owned, and retries."""
    Pair(Toggle(), Toggle())  # the plan for Toggle exists: the next pair waits
    left, right = Toggle(), Toggle()
    pair = Pair(left, right)
    assert _deferred.is_pending(left)
    left._callbacks._registry["poison"] = _PoisonedExecutor()  # noqa: SLF001 - item assignment
    with pytest.raises(RuntimeError, match="wiring failed"):
        left.switch()
    assert owner_of(left) is pair
    assert _deferred.is_pending(left)
    del left._callbacks._registry["poison"]  # noqa: SLF001
    left.switch()
    assert left.seen == [pair]
    assert not _deferred.is_pending(left)


def test_field_repr() -> None:
    """Machine fields and built() markers have readable reprs."""

    class Lazy(Orchestrator):
        left: Toggle = built(factory=Toggle)

    assert repr(Lazy.__machine_fields__["left"]) == (
        "MachineField(name='left', machine_class=<class 'tests.machines.Toggle'>, "
        "built=built(factory=Toggle))"
    )


def test_post_init_runs_once_the_machines_are_wired() -> None:
    """``__post_init__`` runs after wiring, as dataclasses (and 0.0.4) did."""

    class Initialised(Orchestrator):
        left: Toggle
        right: Toggle

        def __post_init__(self) -> None:
            self.left.switch()

    pair = Initialised(Toggle(), Toggle())
    assert pair.left.seen == [pair]


def test_failing_post_init_leaves_nothing_wired() -> None:
    """A ``__post_init__`` that raises leaves the machines unowned."""

    class Broken(Orchestrator):
        left: Toggle

        def __post_init__(self) -> None:
            msg = "not today"
            raise ValueError(msg)

    left = Toggle()
    with pytest.raises(ValueError, match="not today"):
        Broken(left)
    assert owner_of(left) is None


def test_built_machine_refused_by_a_check_is_left_unwired() -> None:
    """A built machine that fails its checks keeps none of the orchestrator's wiring."""
    from statemachines_orchestrator._psm import _binding as callback_binding

    built_ones: list[Toggle] = []

    class SharedRow:
        pass

    row = SharedRow()

    class RowToggle(Toggle):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(model=row, **kwargs)
            built_ones.append(self)

    class Lazy(Orchestrator):
        left: Toggle
        right: RowToggle = built(factory=RowToggle)

    left = Toggle(model=row)
    with pytest.raises(StateFieldIsNotUniqueError):
        Lazy(left)
    assert owner_of(left) is None
    [refused] = built_ones
    assert owner_of(refused) is None
    assert not any(
        callback_binding.wired_parts(wrapper._callback) is not None  # noqa: SLF001
        for wrapper in callback_binding._callbacks(refused)  # noqa: SLF001
    )
    refused.switch()
    assert refused.seen == [None]

"""What type checkers see of an orchestrator; checked by mypy and pyright (strict).

pytest does not collect this file (``check_*.py``); ``tests/test_typing.py``
imports it, so the happy path below also runs, and runs the checkers on it
when they are installed.

Every ``assert_type`` must hold for both checkers. Each statement under
``if TYPE_CHECKING:`` at the end must be an error: it carries a mypy
``# type: ignore[code]`` and a pyright ``# pyright: ignore[rule]`` comment,
and each checker reports an ignore comment of its own that suppresses nothing
(mypy ``warn_unused_ignores``; pyright ``reportUnnecessaryTypeIgnoreComment``
with ``enableTypeIgnoreComments = false``, so pyright reads only its own
comments). The run fails as soon as one of those errors stops firing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from statemachine import State, StateMachine
from typing_extensions import assert_type

from statemachines_orchestrator import (
    EngineInternalsWarning,
    MissingExtraError,
    OpenTelemetryNotInstalledError,
    Orchestrator,
    OrchestratorError,
    OrchestratorNameIsFixedError,
    StoreExtraMissingError,
    UnresolvedAnnotationError,
    built,
)


class OrderMachine(StateMachine):
    pending = State(initial=True)
    paid = State(final=True)

    pay = pending.to(paid)


class PaymentMachine(StateMachine):
    waiting = State(initial=True)
    captured = State(final=True)

    capture = waiting.to(captured)


class ShippingMachine(StateMachine):
    packing = State(initial=True)
    shipped = State(final=True)

    ship = packing.to(shipped)


class Shop(Orchestrator):
    order: OrderMachine
    payment: PaymentMachine = built(factory=PaymentMachine)


class Coordinated(Orchestrator, orchestrator_name="coordinator"):
    order: OrderMachine


class BigShop(Shop):
    """Fields are inherited, in order; a subclass appends its own."""

    shipping: ShippingMachine = built(factory=ShippingMachine)


class ShopBase(Orchestrator, abstract=True):
    """A base with no machine field yet, for subclasses to fill."""


class ConcreteShop(ShopBase):
    order: OrderMachine


class NotedShop(Orchestrator):
    """A class may write its own ``__init__`` and hand the machines on to super()."""

    order: OrderMachine

    def __init__(self, order: OrderMachine, note: str) -> None:
        super().__init__(order=order)
        self.note = note


class DescribedShop(Orchestrator):
    """``Annotated[Machine, ...]`` is the machine class, for the checkers as at runtime."""

    order: Annotated[OrderMachine, "the customer's order"]


def make_payment(**kwargs: Any) -> PaymentMachine:
    # On python-statemachine 3.x the factory receives the orchestrator as a
    # keyword argument (passed on to the initial state's callbacks); type
    # checkers do not check the factory's parameters.
    return PaymentMachine(**kwargs)


class FactoryShop(Orchestrator):
    """``factory`` may be any callable returning the machine."""

    order: OrderMachine
    payment: PaymentMachine = built(factory=make_payment)


# --------------------------------------------------------------------------- construction

shop = Shop(order=OrderMachine(), payment=PaymentMachine())
assert_type(shop, Shop)
assert_type(Shop(order=OrderMachine()), Shop)  # a built() field is optional
assert_type(Shop(OrderMachine(), PaymentMachine()), Shop)  # positional, in declaration order
assert_type(Shop(OrderMachine()), Shop)
assert_type(Coordinated(order=OrderMachine()), Coordinated)
assert_type(BigShop(order=OrderMachine()), BigShop)
assert_type(BigShop(OrderMachine(), PaymentMachine(), ShippingMachine()), BigShop)
assert_type(FactoryShop(order=OrderMachine()), FactoryShop)
assert_type(ConcreteShop(order=OrderMachine()), ConcreteShop)
assert_type(NotedShop(OrderMachine(), note="gift"), NotedShop)
assert_type(DescribedShop(OrderMachine()).order, OrderMachine)

# --------------------------------------------------------------------------- fields

assert_type(shop.order, OrderMachine)
assert_type(shop.payment, PaymentMachine)
assert_type(BigShop(order=OrderMachine()).shipping, ShippingMachine)
assert_type(NotedShop(OrderMachine(), "gift").note, str)
shop.order = OrderMachine()  # replacing a machine type-checks (and is rewired at runtime)

# built() stands, for type checkers, for the machine its factory returns.
assert_type(built(factory=PaymentMachine), PaymentMachine)
assert_type(built(factory=make_payment), PaymentMachine)

# --------------------------------------------------------------------------- public API

assert_type(Shop.orchestrator_name, str)
assert_type(Coordinated.orchestrator_name, str)
assert_type(shop.orchestrator_name, str)
assert_type(Shop.machine_classes, Mapping[str, type[Any]])
assert_type(shop.machine_classes, Mapping[str, type[Any]])
assert_type(shop.machines, Mapping[str, Any])
assert_type(shop.release(), dict[str, Any])

# An error is caught as the root error and as the builtin it also derives from.
renamed: OrchestratorError = OrchestratorNameIsFixedError("orchestrator_name is fixed")
read_only: AttributeError = OrchestratorNameIsFixedError("orchestrator_name is fixed")
undefined: NameError = UnresolvedAnnotationError("a name is not defined")
changed: RuntimeWarning = EngineInternalsWarning("internals not recognised")
missing: ImportError = StoreExtraMissingError("pip install ...[sqlalchemy]")
any_extra: MissingExtraError = OpenTelemetryNotInstalledError("pip install ...[otel]")

# --------------------------------------------------------------------------- expected errors

if TYPE_CHECKING:
    # For the type checkers only: each statement is an error, and each would
    # raise at runtime.

    # A field without built() is a required argument.
    Shop()  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Shop(payment=PaymentMachine())  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]

    # A machine of another class.
    Shop(order=PaymentMachine())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Shop(PaymentMachine(), OrderMachine())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Shop(order=OrderMachine()).order = PaymentMachine()  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
    DescribedShop(order=PaymentMachine())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

    # A machine the class has no field for.
    Shop(order=OrderMachine(), payment=PaymentMachine(), shipping=ShippingMachine())  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Shop(OrderMachine(), PaymentMachine(), ShippingMachine())  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]

    # orchestrator_name must be a str. mypy does not check the keywords of a
    # class statement whose base has a custom metaclass (OrchestratorMeta), so
    # only pyright reports this one; the runtime raises OrchestratorNameTypeError.
    class BadName(Orchestrator, orchestrator_name=1):  # pyright: ignore[reportGeneralTypeIssues, reportArgumentType]
        order: OrderMachine

    # built()'s factory must make the annotated machine class (MachineTypeMismatchError).
    class WrongFactory(Orchestrator):
        order: OrderMachine = built(factory=PaymentMachine)  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]

    # A required field cannot follow a built() one (InvalidMachineFieldError at runtime).
    class RequiredAfterBuilt(Orchestrator):
        payment: PaymentMachine = built(factory=PaymentMachine)
        order: OrderMachine  # type: ignore[misc]  # pyright: ignore[reportGeneralTypeIssues]

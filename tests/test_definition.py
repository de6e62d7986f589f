"""Declaring an orchestrator class: fields, inheritance, names, and definition errors."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Optional

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import (
    AnnotationIsNotAStateMachineError,
    InvalidMachineFieldError,
    InvalidOrchestratorNameError,
    MachineFieldShadowsAPIError,
    NoMachinesOnOrchestratorError,
    Orchestrator,
    OrchestratorError,
    OrchestratorNameIsFixedError,
    OrchestratorNameTypeError,
    UnexpectedAnnotationTypeError,
    built,
)

from .machines import OrderMachine, PaymentMachine, Shop, Toggle


class ShippingMachine(StateMachine):
    """A third machine for inheritance tests."""

    waiting = State(initial=True)
    shipped = State(final=True)
    ship = waiting.to(shipped)


def test_fields_in_declaration_order() -> None:
    """``machine_classes`` lists the fields in the order the class declares them."""
    assert dict(Shop.machine_classes) == {"order": OrderMachine, "payment": PaymentMachine}


def test_subclass_adds_fields_after_its_parents() -> None:
    """Fields are inherited along the MRO, as dataclasses do."""

    class BigShop(Shop):
        shipping: ShippingMachine

    assert list(BigShop.machine_classes) == ["order", "payment", "shipping"]
    shop = BigShop(OrderMachine(), PaymentMachine(), ShippingMachine())
    shop.order.process()
    assert shop.payment.current_state_value == "authorized"


def test_redeclared_field_keeps_its_place_and_takes_the_new_class() -> None:
    """A subclass may narrow a field's machine class without moving it."""

    class SpecialOrder(OrderMachine):
        pass

    class SpecialShop(Shop):
        order: SpecialOrder

    assert dict(SpecialShop.machine_classes) == {"order": SpecialOrder, "payment": PaymentMachine}
    assert list(inspect.signature(SpecialShop).parameters) == ["order", "payment"]


def test_multiple_inheritance_merges_fields_in_mro_order() -> None:
    """Two orchestrator bases: fields from the last base in the MRO come first."""

    class Lights(Orchestrator):
        lamp: Toggle

    class Shipping(Orchestrator):
        shipping: ShippingMachine

    class Both(Lights, Shipping):
        pass

    assert list(Both.machine_classes) == ["shipping", "lamp"]


def test_classvar_annotations_are_not_fields() -> None:
    """``ClassVar`` annotations, also as strings, stay plain class attributes."""

    class Configured(Orchestrator):
        retries: ClassVar[int] = 3
        label: "ClassVar[str]" = "shop"  # noqa: UP037 - the string form is under test
        order: OrderMachine

    assert list(Configured.machine_classes) == ["order"]
    assert Configured.retries == 3
    assert Configured.label == "shop"


def test_methods_properties_and_class_attributes_keep_working() -> None:
    """User code on the orchestrator class is left alone."""

    class Friendly(Orchestrator):
        order: OrderMachine
        greeting = "hello"

        @property
        def order_state(self) -> Any:
            return self.order.current_state_value

        def describe(self) -> str:
            return f"{self.greeting}: {self.order_state}"

    friendly = Friendly(OrderMachine())
    assert friendly.describe() == "hello: pending"


def test_user_init_subclass_keeps_working() -> None:
    """A user's ``__init_subclass__`` runs and may take its own class keywords."""
    seen: list[tuple[str, Any]] = []

    class Registered(Orchestrator):
        order: OrderMachine

        def __init_subclass__(cls, tag: str = "", **kwargs: Any) -> None:
            super().__init_subclass__(**kwargs)
            seen.append((cls.__name__, tag))

    class Child(Registered, tag="child", orchestrator_name="coordinator"):
        payment: PaymentMachine

    assert seen == [("Child", "child")]
    assert Child.orchestrator_name == "coordinator"
    assert list(Child.machine_classes) == ["order", "payment"]


def test_user_init_is_not_replaced() -> None:
    """A user-written ``__init__`` is kept; ``super().__init__`` wires the machines."""

    class Custom(Orchestrator):
        order: OrderMachine
        payment: PaymentMachine

        def __init__(self, note: str) -> None:
            self.note = note
            super().__init__(OrderMachine(), payment=PaymentMachine())

    custom = Custom("hi")
    custom.order.process()
    assert custom.note == "hi"
    assert custom.payment.current_state_value == "authorized"


def test_orchestrator_name_default_inherited_and_overridable() -> None:
    """Default ``orc``; subclasses inherit the name and may override it."""

    class Base(Orchestrator, orchestrator_name="coordinator"):
        order: OrderMachine

    class Child(Base):
        pass

    class Renamed(Child, orchestrator_name="boss"):
        pass

    class BackToDefault(Renamed, orchestrator_name="orc"):
        pass

    assert Shop.orchestrator_name == "orc"
    assert Base.orchestrator_name == "coordinator"
    assert Child.orchestrator_name == "coordinator"
    assert Renamed.orchestrator_name == "boss"
    assert BackToDefault.orchestrator_name == "orc"


def test_orchestrator_name_is_fixed_when_the_class_is_defined() -> None:
    """Renaming the keyword later would leave the generated ``__init__`` behind: refused."""

    class Named(Orchestrator, orchestrator_name="orc"):
        left: Toggle

    message = (
        "Named.orchestrator_name is fixed when the class is defined; declare "
        "`class Named(..., orchestrator_name=...)` instead"
    )
    with pytest.raises(OrchestratorNameIsFixedError) as info:
        Named.orchestrator_name = "boss"  # type: ignore[misc]
    assert str(info.value).endswith(message)
    assert isinstance(info.value, AttributeError)
    with pytest.raises(OrchestratorNameIsFixedError, match="is fixed"):
        del Named.orchestrator_name
    with pytest.raises(OrchestratorNameIsFixedError, match="is fixed"):
        Orchestrator.orchestrator_name = "boss"  # type: ignore[misc]
    assert Named.orchestrator_name == Orchestrator.orchestrator_name == "orc"
    Named.note = "other class attributes are set as usual"  # type: ignore[attr-defined]
    del Named.note  # type: ignore[attr-defined]
    named = Named(Toggle())
    named.left.switch()
    assert named.left.seen == [named]


def test_orchestrator_name_must_be_a_string() -> None:
    """A name that is not a ``str`` is a ``TypeError`` at class definition."""
    with pytest.raises(OrchestratorNameTypeError) as info:

        class Bad(Orchestrator, orchestrator_name=1):  # type: ignore[arg-type]
            order: OrderMachine

    assert str(info.value).endswith(".<locals>.Bad: orchestrator_name must be a str, got int 1")
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, OrchestratorError)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("not valid", "is not a valid Python identifier, so no callback could declare it"),
        ("class", "is not a valid Python identifier, so no callback could declare it"),
        ("", "is not a valid Python identifier, so no callback could declare it"),
        ("__orc", "starts with '__', which Python mangles inside a machine's class body"),
        ("machine", "is a keyword python-statemachine already passes to callbacks"),
        ("event", "is a keyword python-statemachine already passes to callbacks"),
        ("event_data", "is a keyword python-statemachine already passes to callbacks"),
        ("model", "is a keyword python-statemachine already passes to callbacks"),
        ("state", "is a keyword python-statemachine already passes to callbacks"),
        ("source", "is a keyword python-statemachine already passes to callbacks"),
        ("target", "is a keyword python-statemachine already passes to callbacks"),
        ("transition", "is a keyword python-statemachine already passes to callbacks"),
        ("error", "is a keyword python-statemachine already passes to callbacks"),
        ("delay", "is a keyword python-statemachine already passes to callbacks"),
        ("send_id", "is a keyword python-statemachine already passes to callbacks"),
        ("internal", "is a keyword python-statemachine already passes to callbacks"),
        ("data", "is a keyword python-statemachine already passes to callbacks"),
        ("self", "is a keyword python-statemachine already passes to callbacks"),
    ],
)
def test_orchestrator_name_must_be_usable_as_a_callback_keyword(name: str, problem: str) -> None:
    """Names no callback could declare, or that python-statemachine passes, are refused."""
    with pytest.raises(InvalidOrchestratorNameError) as info:

        class Bad(Orchestrator, orchestrator_name=name):
            order: OrderMachine

    assert str(info.value).endswith(
        f".<locals>.Bad: orchestrator_name {name!r} {problem}; choose another name, such as 'orc'"
    )
    assert isinstance(info.value, ValueError)


def test_python_statemachine_really_passes_the_reserved_names() -> None:
    """The reserved names are what python-statemachine hands to a ``**kwargs`` callback."""
    from statemachines_orchestrator._psm import RESERVED_CALLBACK_PARAMETERS

    seen: set[str] = set()

    class Spy(StateMachine):
        a = State(initial=True)
        b = State(final=True)
        go = a.to(b)

        def on_go(self, **kwargs: Any) -> None:
            seen.update(kwargs)

    Spy().go()
    assert seen
    assert seen <= RESERVED_CALLBACK_PARAMETERS


def _keywords_in_python_statemachine_source() -> set[str]:
    """Keywords the installed python-statemachine hands to callbacks, read from its source.

    Three places: ``kwargs["name"] = ...`` stores (the keyword arguments every
    callback receives), keyword arguments of its ``send(...)``/``call(...)``
    calls (``error=``, ``data=``, ``ctx=``, ...), and the keyword-only
    parameters of ``send`` itself.
    """
    import ast
    import pathlib

    import statemachine

    found: set[str] = set()
    package = pathlib.Path(statemachine.__file__).parent
    for path in package.rglob("*.py"):
        if "contrib" in path.parts or "locale" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Subscript)
                and isinstance(node.targets[0].value, ast.Name)
                and node.targets[0].value.id == "kwargs"
                and isinstance(node.targets[0].slice, ast.Constant)
                and isinstance(node.targets[0].slice.value, str)
            ):
                found.add(node.targets[0].slice.value)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"send", "call", "async_call", "put_nonblocking"}
            ):
                found.update(k.arg for k in node.keywords if k.arg is not None)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "send":
                found.update(a.arg for a in node.args.kwonlyargs)
    return found


def test_reserved_names_cover_what_python_statemachine_source_passes() -> None:
    """Every keyword python-statemachine's source hands to callbacks is reserved."""
    from statemachines_orchestrator._psm import RESERVED_CALLBACK_PARAMETERS

    found = _keywords_in_python_statemachine_source()
    assert {"machine", "event", "source", "target"} <= found  # the scan sees the basics
    assert found <= RESERVED_CALLBACK_PARAMETERS, found - RESERVED_CALLBACK_PARAMETERS


def test_no_machine_fields() -> None:
    """An orchestrator with no machine is refused when the class is defined."""
    with pytest.raises(NoMachinesOnOrchestratorError) as info:

        class Empty(Orchestrator):
            retries: ClassVar[int] = 3

    assert str(info.value) == (
        "test_no_machine_fields.<locals>.Empty declares no machine fields. Annotate at least "
        "one attribute with a machine class, e.g. `order: OrderMachine`, or declare "
        "`class Empty(..., abstract=True)` for a base class that subclasses fill."
    )


def test_abstract_base_without_fields() -> None:
    """``abstract=True`` allows a field-less base; only its subclasses are instantiated."""

    class Base(Orchestrator, abstract=True, orchestrator_name="coordinator"):
        def describe(self) -> str:
            return ", ".join(self.machines)

    with pytest.raises(NoMachinesOnOrchestratorError) as info:
        Base()
    assert str(info.value) == (
        "test_abstract_base_without_fields.<locals>.Base declares no machine fields; "
        "subclass it and annotate one attribute per machine"
    )

    class Concrete(Base):
        order: OrderMachine

    assert Concrete(OrderMachine()).describe() == "order"
    assert Concrete.orchestrator_name == "coordinator"


def test_the_base_class_itself_cannot_be_instantiated() -> None:
    """``Orchestrator()`` has no machines to wire."""
    with pytest.raises(NoMachinesOnOrchestratorError, match="declares no machine fields"):
        Orchestrator()


def test_annotation_that_is_not_a_machine_class() -> None:
    """A class that is no machine class is refused, naming class, field and fix."""
    with pytest.raises(AnnotationIsNotAStateMachineError) as info:

        class Bad(Orchestrator):
            order: OrderMachine
            retries: int

    message = str(info.value)
    assert message.startswith("test_annotation_that_is_not_a_machine_class.<locals>.Bad.retries")
    assert "is annotated with int, which is not a" in message
    assert message.endswith("or mark other attributes as ClassVar[...].")
    assert isinstance(info.value, TypeError)


def test_annotation_that_is_not_a_class() -> None:
    """Unions and generics are not machine classes either."""
    with pytest.raises(UnexpectedAnnotationTypeError) as info:

        class Bad(Orchestrator):
            order: Optional[OrderMachine]  # noqa: UP045 - runs on Python 3.9

    assert "is not a class" in str(info.value)
    assert "no unions, Optional or generics" in str(info.value)
    assert isinstance(info.value, AnnotationIsNotAStateMachineError)


@pytest.mark.parametrize("name", ["machines", "machine_classes", "orchestrator_name", "release"])
def test_field_shadowing_the_api(name: str) -> None:
    """A field may not hide the orchestrator's own API."""
    namespace = {"__annotations__": {name: OrderMachine}, "__module__": __name__}
    with pytest.raises(MachineFieldShadowsAPIError) as info:
        type("Bad", (Orchestrator,), namespace)
    assert str(info.value) == (
        f"Bad.{name} would hide the orchestrator's own {name!r}. Rename the machine field."
    )


def test_field_default_other_than_built() -> None:
    """A shared machine instance as a class default is refused."""
    with pytest.raises(InvalidMachineFieldError, match=r"can only default to built"):

        class Bad(Orchestrator):
            order: OrderMachine = OrderMachine()


def test_required_field_after_built_field() -> None:
    """A field without ``built()`` cannot follow one with it."""
    with pytest.raises(InvalidMachineFieldError) as info:

        class Bad(Orchestrator):
            order: OrderMachine = built(factory=OrderMachine)
            payment: PaymentMachine

    assert "Bad.payment must be given to __init__, but follows order" in str(info.value)


def test_built_marker_is_not_left_as_a_class_attribute() -> None:
    """``built()`` is a declaration; the class keeps no shared machine or marker."""

    class Lazy(Orchestrator):
        order: OrderMachine = built(factory=OrderMachine)

    assert "order" not in vars(Lazy)

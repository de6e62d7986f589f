"""Reading and resolving annotations: strings, forward references, ClassVar, Python 3.14."""

from __future__ import annotations

import gc
import sys
import types
import weakref
from typing import Annotated, Any, ClassVar, ForwardRef

import pytest
import typing_extensions

from statemachines_orchestrator import (
    AnnotationIsNotAStateMachineError,
    MachineTypeMismatchError,
    Orchestrator,
    UnresolvedAnnotationError,
)
from statemachines_orchestrator import _annotations as annotations_module
from statemachines_orchestrator._annotations import (
    UNRESOLVED,
    is_classvar,
    own_annotations,
    resolve,
)
from statemachines_orchestrator._fields import collect_machine_fields
from statemachines_orchestrator._psm import MACHINE_BASE

from . import forward_refs
from .machines import OrderMachine, PaymentMachine, Toggle


def test_forward_reference_resolves_at_first_instantiation() -> None:
    """A machine declared after the orchestrator is resolved when it is first built."""
    assert forward_refs.FIELDS_AT_DEFINITION == {"later": None}
    later = forward_refs.LaterMachine()
    early = forward_refs.Early(later=later)
    assert forward_refs.Early.machine_classes["later"] is forward_refs.LaterMachine
    early.later.go()
    assert later.got is early


def test_name_that_never_resolves_is_an_error_at_first_instantiation() -> None:
    """A name imported only under TYPE_CHECKING is reported, naming field and name, every time."""
    expected = (
        "TypeCheckingOnly.order is annotated 'OrderMachine', but 'OrderMachine' is not "
        "defined in module 'tests.forward_refs' (nor where the class statement ran) when the "
        "first TypeCheckingOnly is built. Import or define the machine class before that, at "
        "run time: a name imported only under TYPE_CHECKING, or defined later in the same "
        "function, does not resolve."
    )
    for _ in range(2):
        with pytest.raises(UnresolvedAnnotationError) as info:
            forward_refs.TypeCheckingOnly(order=OrderMachine())
        assert str(info.value) == expected
        with pytest.raises(UnresolvedAnnotationError):
            _ = forward_refs.TypeCheckingOnly.machine_classes
    assert isinstance(info.value, NameError)


def test_typo_in_a_string_annotation_is_reported() -> None:
    """A misspelt machine class name fails at the first instantiation, naming it."""

    class Typo(Orchestrator):
        order: OrderMachin  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(UnresolvedAnnotationError, match="'OrderMachin' is not defined"):
        Typo(order=OrderMachine())


def test_class_defined_later_in_the_same_function_is_reported() -> None:
    """A local class defined after the orchestrator class is not seen, and says so."""

    class Early(Orchestrator):
        later: Later

    class Later(PaymentMachine):
        pass

    with pytest.raises(UnresolvedAnnotationError, match="defined later in the same function"):
        Early(later=Later())


def test_unresolved_annotation_keeps_no_unrelated_local_alive() -> None:
    """A pending annotation keeps only the names it mentions, and none once given up on."""

    class Big:
        pass

    def define() -> tuple[type[Orchestrator], weakref.ref[Big]]:
        unrelated = Big()

        class Pending(Orchestrator):
            item: Missing  # type: ignore[name-defined]  # noqa: F821

        return Pending, weakref.ref(unrelated)

    pending, ref = define()
    gc.collect()
    assert ref() is None
    with pytest.raises(UnresolvedAnnotationError):
        pending(item=OrderMachine())
    assert pending.__machine_fields__["item"].scope is None


def test_mentioned_local_is_released_once_given_up_on() -> None:
    """The one local an annotation names is dropped at the first instantiation."""

    def define() -> tuple[type[Orchestrator], weakref.ref[Any]]:
        class Helper:
            pass

        class Pending(Orchestrator):
            item: Helper.Missing  # type: ignore[name-defined]

        return Pending, weakref.ref(Helper)

    pending, ref = define()
    assert ref() is not None
    with pytest.raises((UnresolvedAnnotationError, AnnotationIsNotAStateMachineError)):
        pending(item=OrderMachine())
    gc.collect()
    assert ref() is None


def test_annotated_stands_for_its_machine_class() -> None:
    """``Annotated[Machine, ...]`` is read as ``Machine``, as pydantic and FastAPI read it."""

    class Described(Orchestrator):
        order: Annotated[OrderMachine, "the customer's order"]

    assert Described.machine_classes["order"] is OrderMachine
    with pytest.raises(MachineTypeMismatchError):
        Described(order=PaymentMachine())  # type: ignore[arg-type]


def test_forward_reference_to_a_non_machine_fails_at_first_instantiation() -> None:
    """Resolved late to a non-machine class, the error comes at instantiation."""
    with pytest.raises(AnnotationIsNotAStateMachineError) as info:
        forward_refs.Wrong(thing=Toggle())
    assert str(info.value).startswith("Wrong.thing is annotated with NotAMachine")


def test_local_classes_resolve_through_the_class_statement_scope() -> None:
    """With postponed annotations, a class local to a function still resolves."""

    class LocalMachine(Toggle):
        pass

    class Local(forward_refs.Orchestrator):
        machine: LocalMachine

    assert Local.__machine_fields__["machine"].machine_class is LocalMachine


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (ClassVar, True),
        (ClassVar[int], True),
        (typing_extensions.ClassVar[int], True),
        ("ClassVar[int]", True),
        ("typing.ClassVar[int]", True),
        ("'ClassVar[int]'", True),
        (ForwardRef("ClassVar[int]"), True),
        ("ClassVarious", False),
        ("OrderMachine", False),
        (OrderMachine, False),
        (int, False),
    ],
)
def test_is_classvar(annotation: object, expected: bool) -> None:  # noqa: FBT001
    """``ClassVar`` is recognised as an object, a string or a forward reference."""
    assert is_classvar(annotation) is expected


def test_resolve_strings_and_forward_refs() -> None:
    """Strings, quoted strings and forward references evaluate in the owner's module."""

    class Owner:
        pass

    Owner.__module__ = __name__
    assert resolve("OrderMachine", Owner) is OrderMachine
    assert resolve("'OrderMachine'", Owner) is OrderMachine
    assert resolve(ForwardRef("OrderMachine"), Owner) is OrderMachine
    assert resolve("Missing", Owner) is UNRESOLVED
    assert resolve("Missing", Owner, {"Missing": Toggle}) is Toggle
    assert resolve(Toggle, Owner) is Toggle
    assert repr(UNRESOLVED) == "UNRESOLVED"


def test_own_annotations_ignore_the_bases() -> None:
    """A class without annotations of its own has none, on every Python."""

    class Base:
        a: int

    class Child(Base):
        pass

    assert own_annotations(Base) == {"a": "int"}
    assert own_annotations(Child) == {}


class _StandInAnnotationlib(types.ModuleType):
    """Stands in for Python 3.14's ``annotationlib`` on older Pythons.

    Its ``get_annotations`` calls the class's ``__annotate__`` function, as 3.14
    does, and returns forward references for names that are not defined.
    """

    class Format:
        VALUE = 1
        FORWARDREF = 3

    def __init__(self) -> None:
        super().__init__("annotationlib")
        self.calls: list[tuple[type, int]] = []

    def get_annotations(self, obj: type, *, format: int) -> dict[str, Any]:  # noqa: A002
        self.calls.append((obj, format))
        annotate = vars(obj).get("__annotate__")
        return {} if annotate is None else annotate(format)


def _class_shaped_like_314(name: str, annotate: Any) -> type:
    """A class whose namespace has ``__annotate__`` and no ``__annotations__``."""
    namespace = {"__annotate__": annotate, "__module__": __name__}
    return type(name, (), namespace)


def test_python_314_namespaces_are_read_through_annotationlib(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where ``annotationlib`` exists, annotations come from it, as forward references."""
    stand_in = _StandInAnnotationlib()
    monkeypatch.setattr(annotations_module, "annotationlib", stand_in)

    def annotate(format: int) -> dict[str, Any]:  # noqa: A002
        assert format == stand_in.Format.FORWARDREF
        return {"order": OrderMachine, "later": ForwardRef("NotYetDefined")}

    cls = _class_shaped_like_314("Shaped", annotate)
    assert "__annotations__" not in vars(cls)
    assert own_annotations(cls) == {"order": OrderMachine, "later": ForwardRef("NotYetDefined")}
    assert stand_in.calls == [(cls, stand_in.Format.FORWARDREF)]


def test_collector_on_python_314_namespaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """The field collector works from ``__annotate__`` alone, forward references included."""
    stand_in = _StandInAnnotationlib()
    monkeypatch.setattr(annotations_module, "annotationlib", stand_in)

    def annotate(_format: int) -> dict[str, Any]:
        return {
            "order": OrderMachine,
            "payment": ForwardRef("PaymentMachine"),
            "later": ForwardRef("NotYetDefined"),
            "retries": ClassVar[int],
        }

    cls = _class_shaped_like_314("Shaped", annotate)
    fields = collect_machine_fields(cls, [], frozenset(), MACHINE_BASE)
    assert {name: field.machine_class for name, field in fields.items()} == {
        "order": OrderMachine,
        "payment": PaymentMachine,
        "later": None,
    }


def test_orchestrator_subclass_on_python_314_namespaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole orchestrator class defined from a 3.14-shaped namespace works."""
    stand_in = _StandInAnnotationlib()
    monkeypatch.setattr(annotations_module, "annotationlib", stand_in)
    from statemachines_orchestrator import Orchestrator

    def annotate(_format: int) -> dict[str, Any]:
        return {"order": OrderMachine, "payment": ForwardRef("PaymentMachine")}

    shop_cls = type(Orchestrator)(
        "Shop314", (Orchestrator,), {"__annotate__": annotate, "__module__": __name__}
    )
    shop = shop_cls(OrderMachine(), PaymentMachine())
    shop.order.process()
    assert shop.payment.current_state_value == "authorized"


def test_real_annotationlib_is_used_when_present() -> None:
    """On Python 3.14+ the real module is picked up; before, there is none."""
    expected = sys.modules.get("annotationlib") if sys.version_info >= (3, 14) else None
    assert annotations_module.annotationlib is expected


def test_machine_classes_resolves_pending_annotations() -> None:
    """Reading ``machine_classes`` before any instance resolves what it can."""
    from statemachines_orchestrator import Orchestrator

    class Pending(Orchestrator):
        order: OrderMachine
        later: LaterToggle

    assert Pending.__orchestrator_pending__
    global LaterToggle  # noqa: PLW0603 - a module-level name declared late, on purpose

    class LaterToggle(Toggle):
        pass

    assert dict(Pending.machine_classes) == {"order": OrderMachine, "later": LaterToggle}
    assert not Pending.__orchestrator_pending__

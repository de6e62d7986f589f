"""The joining rules and the all-or-nothing transaction, on their rarer paths."""

from __future__ import annotations

import copy
import gc
import weakref
from typing import Any, ClassVar

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import MachineAlreadyOrchestratedError, Orchestrator, _joining
from statemachines_orchestrator._annotations import names_in
from statemachines_orchestrator._psm import owner_of

from .machines import Pair, Toggle


class Plain(StateMachine):
    """A machine none of whose callbacks asks for the orchestrator."""

    a = State(initial=True)
    b = State()
    go = a.to(b) | b.to(a)


class Plains(Orchestrator):
    """Holds a machine that keeps no reference to its orchestrator."""

    plain: Plain


class _Poisoned:
    """An executor whose wrappers cannot be walked: wiring fails on it."""

    @property
    def items(self) -> Any:
        msg = "wiring failed"
        raise RuntimeError(msg)


def test_a_collected_owner_leaves_its_machine_free() -> None:
    """A machine whose callbacks never held the orchestrator is free once it is collected."""
    machine = Plain()
    first = Plains(machine)
    ref = weakref.ref(first)
    del first
    gc.collect()
    assert ref() is None
    assert owner_of(machine) is None
    second = Plains(machine)
    assert owner_of(machine) is second


def test_wire_all_refuses_a_machine_claimed_since_it_was_checked() -> None:
    """The claim decides: a machine owned by then is refused, and nothing stays claimed."""
    free, taken = Toggle(), Toggle()
    owner = Pair(taken, Toggle())
    pair = Pair.__new__(Pair)
    with pytest.raises(MachineAlreadyOrchestratedError, match="already belongs to Pair"):
        _joining.wire_all(pair, {"left": free, "right": taken})
    assert owner_of(free) is None
    assert owner_of(taken) is owner
    free.switch()
    assert free.seen == [None]


def test_attach_refuses_a_machine_owned_elsewhere() -> None:
    """Attaching a machine another live orchestrator owns is refused."""
    taken = Toggle()
    owner = Pair(taken, Toggle())
    other = Pair(Toggle(), Toggle())
    with pytest.raises(MachineAlreadyOrchestratedError):
        _joining.attach(taken, other, "left")
    assert owner_of(taken) is owner


def test_assigning_a_machine_that_fails_to_wire_leaves_it_free() -> None:
    """A replacement whose wiring fails is unwired and freed; the old machine stays."""
    pair = Pair(Toggle(), Toggle())
    old = pair.left
    poisoned = Toggle()
    poisoned._callbacks._registry["poison"] = _Poisoned()  # noqa: SLF001
    with pytest.raises(RuntimeError, match="wiring failed"):
        pair.left = poisoned
    assert pair.left is old
    assert owner_of(poisoned) is None
    assert owner_of(old) is pair


def test_assigning_to_an_instance_made_without_init_resolves_pending_annotations() -> None:
    """A field assigned on an instance that ``__init__`` never ran for is checked too."""

    class Late(Orchestrator):
        machine: LaterToggle

    class LaterToggle(Toggle):
        pass

    scope = {"LaterToggle": LaterToggle}
    Late.__machine_fields__["machine"].scope = scope
    late = Late.__new__(Late)
    late.machine = LaterToggle()
    assert Late.machine_classes["machine"] is LaterToggle


def test_a_copy_whose_wiring_fails_holds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deep-copying into a failing wiring leaves the copy empty, not half-wired."""
    pair = Pair(Toggle(), Toggle())

    def fail(*_args: Any) -> None:
        msg = "wiring failed"
        raise RuntimeError(msg)

    monkeypatch.setattr(_joining, "wire_all", fail)
    with pytest.raises(RuntimeError, match="wiring failed"):
        copy.deepcopy(pair)


@pytest.mark.parametrize(
    ("annotation", "names"),
    [
        (Toggle, []),
        ("Toggle", ["Toggle"]),
        ("mod.Machine", ["mod"]),
        ("list[Toggle]", ["Toggle"]),
        ("not valid (", []),
    ],
)
def test_names_an_annotation_mentions(annotation: object, names: list[str]) -> None:
    """Only string annotations mention names; builtins and unparsable text mention none."""
    assert names_in(annotation, Pair) == names


class Kept(Orchestrator):
    """Keeps every instance alive, and fails in ``__post_init__``."""

    left: Toggle
    right: Toggle

    instances: ClassVar[list[Kept]] = []

    def __post_init__(self) -> None:
        Kept.instances.append(self)
        msg = "post-init failed"
        raise RuntimeError(msg)


def test_a_failed_construction_frees_its_machines_even_if_the_orchestrator_lives() -> None:
    """Nothing relies on the half-built orchestrator being collected."""
    machines = [Toggle(), Toggle()]
    with pytest.raises(RuntimeError, match="post-init failed"):
        Kept(*machines)
    assert Kept.instances  # alive
    assert [owner_of(m) for m in machines] == [None, None]
    for machine in machines:
        machine.switch()
        assert machine.seen == [None]
    assert repr(Kept.instances[0]) == "Kept(<released>)"

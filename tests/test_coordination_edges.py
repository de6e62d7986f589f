"""Less travelled paths of collections, broadcast and fan-in."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import (
    MachineAlreadyOrchestratedError,
    MachineTypeMismatchError,
    NotAMemberError,
    Orchestrator,
    StateFieldIsNotUniqueError,
    UnknownEventError,
    _psm,
    built,
)
from statemachines_orchestrator._psm import _binding, _fallback, _members
from statemachines_orchestrator._psm._ownership import FallbackOwners, OwnerMark, RegistryOwners
from statemachines_orchestrator.coordination import member_key, when_all

from .coordination_machines import Crate, Depot, FragileItem, Item, Order, Shipment, state_of
from .machines import OrderMachine
from .psm_line import PSM3


def test_dict_member_of_the_wrong_class_at_construction() -> None:
    """A dict given with a member of another class is refused, naming its key."""
    with pytest.raises(
        MachineTypeMismatchError, match=r"member items\['b'\] expects an instance of Item"
    ):
        Depot({"a": Item(), "b": OrderMachine()})


def test_single_field_of_the_wrong_class_beside_a_collection() -> None:
    """A single field of a class with collections is checked like any other."""
    with pytest.raises(
        MachineTypeMismatchError, match="machine field 'order' expects an instance of Order"
    ):
        Shipment(Item(), [])  # type: ignore[arg-type]


def test_built_single_field_beside_a_collection() -> None:
    """A built single field is built, checked and wired with the collection, or unwired."""

    class Kit(Orchestrator):
        items: list[Item]
        spare: Item = built(factory=Item)
        wrong: Item = built(factory=lambda **_: OrderMachine())

    with pytest.raises(
        MachineTypeMismatchError, match="machine field 'wrong' expects an instance of Item"
    ):
        Kit([])

    class Good(Orchestrator):
        items: list[Item]
        spare: Item = built(factory=Item)

    good = Good([])
    assert owner_of_is(good.spare, good)
    shared = Item()
    with pytest.raises(StateFieldIsNotUniqueError):
        Good([shared, Item(model=shared.model)])


def owner_of_is(machine: Any, orc: Any) -> bool:
    return _psm.owner_of(machine) is orc


def test_post_init_runs_after_members_are_wired() -> None:
    """``__post_init__`` sees every member wired."""

    class Counted(Orchestrator):
        items: list[Item]

        def __post_init__(self) -> None:
            self.owners = [_psm.owner_of(m) for m in self.items]

    counted = Counted([Item(), Item()])
    assert counted.owners == [counted, counted]


def test_assigning_after_release_and_other_assignments() -> None:
    """A released orchestrator takes a collection again; assignments keep the rules."""
    crate = Crate([Item()])
    crate.release()
    fresh = [Item()]
    crate.items = fresh
    assert owner_of_is(fresh[0], crate)
    with pytest.raises(MachineTypeMismatchError):
        crate.items = Item()  # type: ignore[assignment]
    other = Crate([Item()])
    with pytest.raises(
        MachineAlreadyOrchestratedError, match=r"items\[0\] already belongs to Crate"
    ):
        crate.items = [other.items[0]]
    depot = Depot({"a": Item()})
    depot.items = {"b": Item()}
    assert list(depot.items) == ["b"]
    assert owner_of_is(depot.items["b"], depot)
    shipment = Shipment(Order(), [])
    with pytest.raises(MachineTypeMismatchError):
        shipment.order = Item()  # type: ignore[assignment]


def test_failed_restore_leaves_nothing() -> None:
    """Restoring a state that breaks a rule leaves the instance empty."""
    crate = Crate.__new__(Crate)
    with pytest.raises(MachineTypeMismatchError):
        crate.__setstate__({"items": [OrderMachine()], "note": 1})
    assert vars(crate) == {}


def test_same_machine_twice_in_one_mutation() -> None:
    """extend() with one machine twice is refused, naming both places."""
    crate = Crate([])
    twice = Item()
    with pytest.raises(
        MachineAlreadyOrchestratedError, match=r"given for items\[0\] and items\[1\]"
    ):
        crate.items.extend([twice, twice])
    with pytest.raises(
        StateFieldIsNotUniqueError, match=r"items\[0\] and items\[1\] share one model"
    ):
        crate.items.extend([twice, Item(model=twice.model)])
    assert crate.items == []


def test_dict_set_to_the_same_machine_is_no_change() -> None:
    """``items[k] = items[k]`` changes nothing."""
    depot = Depot({"a": Item()})
    machine = depot.items["a"]
    depot.items["a"] = machine
    assert owner_of_is(machine, depot)


def test_member_key_after_release() -> None:
    """A released orchestrator has no members."""
    crate = Crate([Item()])
    item = crate.items[0]
    crate.release()
    with pytest.raises(NotAMemberError):
        member_key(crate, item)


def test_send_to_a_released_orchestrator() -> None:
    """A released orchestrator has no machine to send to."""
    crate = Crate([Item()])
    crate.release()
    assert crate.send("ship") == {}  # the class defines it: no error, nobody reached
    with pytest.raises(UnknownEventError, match="its machine classes: none"):
        crate.send("unknown")


def test_send_to_dict_members_of_a_subclass() -> None:
    """In a dict, members whose subclass defines the event are reached, the others skipped."""

    class Returnable(Item):
        back = Item.shipped.to(Item.packed)

    depot = Depot({"a": Item(), "b": Returnable()})
    depot.send("ship")
    assert depot.send("back") == {("items", "b"): None}


class AsyncItem(StateMachine):
    """An async item."""

    packed = State(initial=True)
    shipped = State(final=True)
    ship = packed.to(shipped)

    async def on_ship(self) -> str:
        await asyncio.sleep(0)
        return "async"


def test_async_broadcast_continues_with_sync_machines() -> None:
    """After the first awaitable, sync results are kept and sync exceptions propagate."""

    class Mixed(Orchestrator):
        fast: list[AsyncItem]
        slow: list[Item]

    async def main() -> tuple[Any, Any]:
        mixed = Mixed([AsyncItem()], [Item()])
        await mixed.fast[0].activate_initial_state()
        results = await mixed.send("ship")
        failing = Mixed([AsyncItem()], [FragileItem()])
        await failing.fast[0].activate_initial_state()
        with pytest.raises(RuntimeError, match="broken") as info:
            await failing.send("ship")
        return results, info.value

    results, _error = asyncio.run(main())
    assert results == {("fast", 0): "async", ("slow", 0): "shipped"}


def test_fan_in_restarts_after_release_and_reassignment() -> None:
    """Assigning to a released orchestrator with fan-ins tracks the new members."""
    shipment = Shipment(Order(), [Item()])
    shipment.release()
    shipment.items = [Item()]  # the order is not there yet: the group is the items alone
    shipment.order = Order()
    shipment.items[0].ship()
    assert state_of(shipment.order) == "complete"


def test_watched_machine_moved_to_an_orchestrator_without_fan_in() -> None:
    """A member that moves on keeps an idle listener."""
    shipment = Shipment(Order(), [Item()])
    item = shipment.items.pop()
    crate = Crate([item])
    item.ship()
    assert owner_of_is(item, crate)
    assert state_of(shipment.order) == "waiting"


def test_two_fan_ins_over_different_groups() -> None:
    """Each fan-in tracks its own group."""

    class Task(StateMachine):
        todo = State(initial=True)
        done = State(final=True)
        finish = todo.to(done)

    class Two(Orchestrator):
        order: Order
        spare: Task
        items: list[Item]
        extras: list[Item] = built(factory=list)
        done = when_all("items", "shipped", send=("order", "finish"))
        extra_done = when_all("extras", "shipped", send=("spare", "finish"))

    two = Two(Order(), Task(), [Item()], [Item()])
    two.extras[0].ship()
    assert state_of(two.order) == "waiting"
    assert state_of(two.spare) == "done"
    two.items[0].ship()
    assert state_of(two.order) == "complete"


def test_two_async_fan_ins_firing_on_one_transition() -> None:
    """Two fan-ins that fire on one async transition are awaited in turn."""

    class AsyncOrder(StateMachine):
        waiting = State(initial=True)
        complete = State(final=True)
        finish = waiting.to(complete)

        async def on_finish(self) -> None:
            await asyncio.sleep(0)

    class Both(Orchestrator):
        first: AsyncOrder
        second: AsyncOrder
        items: list[AsyncItem]
        one = when_all("items", "shipped", send=("first", "finish"))
        other = when_all("items", send=("second", "finish"))

    async def main() -> list[Any]:
        both = Both(AsyncOrder(), AsyncOrder(), [AsyncItem()])
        for machine in (both.first, both.second, *both.items):
            await machine.activate_initial_state()
        await both.items[0].ship()
        return [state_of(both.first), state_of(both.second)]

    assert asyncio.run(main()) == ["complete", "complete"]


# --------------------------------------------------------------------------- the psm adapter


def test_join_all_without_the_registry() -> None:
    """The batch join also works with ownership kept beside the machines (unknown internals)."""
    owners = FallbackOwners()
    wired: list[Any] = []

    def wire(machine: Any, orc: object, name: str) -> None:
        wired.append((machine, orc, name))

    class Holder:
        pass

    holder = Holder()
    machines = [Item(), Item()]
    assert _members.join_all(machines, OwnerMark(holder), holder, "orc", owners, wire) == -1
    assert [m for m, _orc, _name in wired] == machines
    other = Holder()
    wired.clear()
    assert (
        _members.join_all([Item(), machines[0]], OwnerMark(other), other, "orc", owners, wire) == 1
    )
    assert wired == []

    def failing(*_args: object) -> None:
        raise RuntimeError

    third = Holder()
    fresh = [Item()]
    with pytest.raises(RuntimeError):
        _members.join_all(fresh, OwnerMark(third), third, "orc", owners, failing)
    assert owners.owner_of(fresh[0]) is None
    weakref.ref(third)


def test_join_all_refused_on_the_registry_frees_the_claimed() -> None:
    """With registry marks, a refused batch frees the machines it claimed."""
    owners = RegistryOwners()

    class Holder:
        pass

    first, second = Holder(), Holder()
    taken = Item()
    assert owners.claim(taken, OwnerMark(first))
    fresh = Item()
    mark = OwnerMark(second)
    assert _members.join_all([fresh, taken], mark, second, "orc", owners, _psm.wire) == 1
    assert owners.owner_of(fresh) is None


@pytest.mark.skipif(not PSM3, reason="the prepare_event fallback exists on 3.x only")
def test_join_all_fallback_wiring_on_3x() -> None:
    """The fallback injector wires a batch through prepare_event."""
    owners = FallbackOwners()

    class Holder:
        pass

    holder = Holder()
    machine = Item()
    assert (
        _members.join_all([machine], OwnerMark(holder), holder, "orc", owners, _fallback.wire)
        == -1
    )
    machine.ship()
    assert machine.seen == [holder]


def test_join_all_off_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where internals are not recognised, a batch is claimed beside the machines and wired."""
    owners = FallbackOwners()
    monkeypatch.setattr(_psm, "_owners", owners)

    class Holder:
        pass

    holder = Holder()
    machine = Item()
    assert _psm._join_all([machine], OwnerMark(holder), holder, "orc") == -1  # noqa: SLF001
    assert owners.owner_of(machine) is holder
    machine.ship()
    assert machine.seen == [holder]


def test_is_final_and_events_of() -> None:
    """The adapter's answers on the installed line."""
    item = Item()
    assert not _members.is_final(item)
    item.ship()
    item.deliver()
    assert _members.is_final(item)
    assert _members.events_of(Item) == frozenset({"ship", "deliver"})


def test_unresolvable_member_class_is_reported_at_first_build() -> None:
    """``list["Nowhere"]`` waits for its class; undefined at the first build, it is named."""
    annotations = {"items": list["Nowhere"]}  # noqa: F821 - undefined on purpose
    cls = type("Waiting", (Orchestrator,), {"__annotations__": annotations})
    with pytest.raises(NameError, match="but 'Nowhere' is not defined in module"):
        cls([])


def test_released_dict_collection_is_a_plain_dict() -> None:
    """release() hands a dict field back as a plain dict of free machines."""
    depot = Depot({"a": Item()})
    released = depot.release()
    assert type(released["items"]) is dict
    assert _psm.owner_of(released["items"]["a"]) is None


def test_collection_outliving_its_orchestrator_is_a_plain_list() -> None:
    """A collection whose orchestrator was collected takes any machine, unwired."""
    import gc

    items = Crate([]).items
    gc.collect()
    items.append(Item())
    assert _psm.owner_of(items[0]) is None


def test_fan_in_group_with_a_field_not_set() -> None:
    """A released orchestrator given one machine of a two-machine group tracks that one."""
    from .coordination_machines import Project, Report, Task

    project = Project(Report(), Task(), Task())
    project.release()
    project.report = Report()
    project.design = Task()
    project.design.finish()
    assert state_of(project.report) == "written"  # the group is the design alone


def test_condition_over_a_field_not_set() -> None:
    """A guard over a field a released orchestrator does not hold again sees no machine."""

    class Manual(Orchestrator):
        order: Order
        items: list[Item]

    manual = Manual(Order(), [Item()])
    manual.release()
    manual.order = Order()
    manual.order.finish()  # all_in over no item holds
    assert state_of(manual.order) == "complete"


class Plain(StateMachine):
    """A machine none of whose callbacks asks for the orchestrator."""

    a = State(initial=True)
    b = State()
    go = a.to(b) | b.to(a)


class Pen(Orchestrator):
    """A list of plain machines."""

    items: list[Plain]


def test_member_whose_last_orchestrator_was_collected() -> None:
    """A machine still marked by a collected orchestrator is free to join another."""
    import gc

    kept = Plain()
    Pen([kept])
    gc.collect()
    pen = Pen([Plain(), kept, Plain()])
    assert all(_psm.owner_of(m) is pen for m in pen.items)


@pytest.mark.usefixtures("eager_wiring")
def test_wiring_failure_frees_every_member(monkeypatch: pytest.MonkeyPatch) -> None:
    """If wiring raises, no member stays claimed."""

    def failing(registries: Any, *_args: object) -> None:
        for _registry in registries:
            pass
        message = "wiring failed"
        raise RuntimeError(message)

    monkeypatch.setattr(_binding, "wire_registries", failing)
    machines = [Plain(), Plain()]
    with pytest.raises(RuntimeError, match="wiring failed"):
        Pen(machines)
    assert [_psm.owner_of(m) for m in machines] == [None, None]

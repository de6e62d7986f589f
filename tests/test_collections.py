"""Fields holding a list or dict of machines: declaring, building, changing, releasing, copying."""

from __future__ import annotations

import copy
import pickle
from typing import Annotated, Any, Dict, List, Optional  # noqa: UP035 - the typing aliases are supported

import pytest

from statemachines_orchestrator import (
    InvalidMemberKeyError,
    MachineAlreadyOrchestratedError,
    MachineBusyError,
    MachineTypeMismatchError,
    NotAMemberError,
    Orchestrator,
    StateFieldIsNotUniqueError,
    UnexpectedAnnotationTypeError,
    built,
)
from statemachines_orchestrator._fields import DICT, LIST, SINGLE
from statemachines_orchestrator._psm import owner_of
from statemachines_orchestrator.coordination import member_key

from .coordination_machines import (
    Crate,
    Depot,
    Item,
    LabelledItem,
    LateCrate,
    LateItem,
    Order,
    Shipment,
    state_of,
)
from .machines import OrderMachine


def wired(machine: Any, orc: Orchestrator) -> bool:
    """Whether ``machine`` belongs to ``orc`` and its callbacks receive it."""
    if owner_of(machine) is not orc:
        return False
    before = len(machine.seen)
    machine.ship()
    return machine.seen[before:] == [orc]


def free(machine: Any) -> bool:
    """Whether ``machine`` belongs to no orchestrator and its callbacks receive none."""
    if owner_of(machine) is not None:
        return False
    machine.ship()
    return machine.seen[-1] is None


# --------------------------------------------------------------------------- declaring


@pytest.mark.parametrize(
    ("annotation", "kind"),
    [
        (list[Item], LIST),
        (List[Item], LIST),  # noqa: UP006 - the typing alias is supported too
        ("list[Item]", LIST),
        ("List[Item]", LIST),
        (list["Item"], LIST),
        (Annotated[list[Item], "doc"], LIST),
        (list[Annotated[Item, "doc"]], LIST),
        (dict[str, Item], DICT),
        (Dict[str, Item], DICT),  # noqa: UP006
        ("dict[str, Item]", DICT),
        (dict[str, "Item"], DICT),
        (Item, SINGLE),
    ],
)
def test_collection_annotations(annotation: Any, kind: str) -> None:
    """list[M] and dict[str, M], in every spelling, declare collections of M."""
    cls = type(
        "Holder",
        (Orchestrator,),
        {"__annotations__": {"items": annotation}, "__module__": __name__},
    )
    field = cls.__machine_fields__["items"]
    assert field.kind == kind
    assert field.machine_class is Item


def test_forward_reference_resolves_at_first_build() -> None:
    """A collection of a class defined after the orchestrator resolves when first built."""

    assert LateCrate.__machine_fields__["items"].kind in (SINGLE, LIST)  # LIST once resolved
    late = LateCrate([LateItem()])
    assert LateCrate.__machine_fields__["items"].kind == LIST
    assert wired(late.items[0], late)


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (dict[int, Item], "a collection of machines by key is declared dict[str, MachineClass]"),
        (list, "is annotated with list, which is not a"),
        (List, "is annotated with a bare list; say which machines it holds"),  # noqa: UP006
        (list[int], "is annotated with int, which is not a"),
        (list[Optional[Item]], "which is not a class"),
    ],
)
def test_bad_collection_annotations(annotation: Any, message: str) -> None:
    """Collections of something else than one machine class are refused when the class is made."""
    with pytest.raises(TypeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        type(
            "Bad",
            (Orchestrator,),
            {"__annotations__": {"items": annotation}, "__module__": __name__},
        )


def test_bad_key_annotation_error_type() -> None:
    """A dict keyed by anything but str is an UnexpectedAnnotationTypeError."""
    with pytest.raises(UnexpectedAnnotationTypeError):

        class Bad(Orchestrator):
            items: dict[int, Item]


def test_field_repr_names_the_kind() -> None:
    """A collection field's repr says its kind."""
    assert repr(Crate.__machine_fields__["items"]).endswith("built=None, kind='list')")


# --------------------------------------------------------------------------- building


def test_list_members_are_wired() -> None:
    """Every member of a list receives the orchestrator; the list is the orchestrator's copy."""
    given = [Item(), Item()]
    crate = Crate(given)
    assert crate.items == given
    assert crate.items is not given
    assert isinstance(crate.items, list)
    assert all(wired(m, crate) for m in given)
    assert crate.machines["items"] is crate.items


def test_tuple_is_accepted_for_a_list() -> None:
    """A tuple of machines is taken as the list's members."""
    crate = Crate((Item(),))  # type: ignore[arg-type]
    assert isinstance(crate.items, list)
    assert wired(crate.items[0], crate)


def test_dict_members_are_wired() -> None:
    """Every member of a dict receives the orchestrator."""
    depot = Depot({"a": Item(), "b": Item()})
    assert list(depot.items) == ["a", "b"]
    assert all(wired(m, depot) for m in depot.items.values())


def test_built_empty_collections() -> None:
    """built(factory=list) and built(factory=dict) start empty collections."""

    class Both(Orchestrator):
        order: Order
        line: list[Item] = built(factory=list)
        bins: dict[str, Item] = built(factory=dict)

    both = Both(Order())
    assert both.line == []
    assert both.bins == {}
    both.line.append(Item())
    both.bins["x"] = Item()
    assert wired(both.line[0], both)
    assert wired(both.bins["x"], both)


def test_built_collection_from_a_factory_of_machines() -> None:
    """A collection factory may return machines; they are checked and wired."""

    class Prefilled(Orchestrator):
        items: list[Item] = built(factory=lambda: [Item(), Item()])

    prefilled = Prefilled()
    assert len(prefilled.items) == 2
    assert all(wired(m, prefilled) for m in prefilled.items)


def test_repr_shows_members() -> None:
    """The repr lists each member's state."""
    assert repr(Crate([Item()])) == "Crate(items=[<Item: 'packed'>])"
    assert repr(Depot({"a": Item()})) == "Depot(items={'a': <Item: 'packed'>})"


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: Crate(Item()),
            MachineTypeMismatchError,
            "machine field 'items' is a collection and expects a list of Item, got Item",
        ),
        (
            lambda: Depot([Item()]),
            MachineTypeMismatchError,
            "expects a dict of str to Item, got list",
        ),
        (
            lambda: Crate([Item(), OrderMachine()]),
            MachineTypeMismatchError,
            "member items[1] expects an instance of Item, got OrderMachine",
        ),
        (
            lambda: Depot({1: Item()}),
            InvalidMemberKeyError,
            "the members of 'items' are keyed by str, got the key 1 (int)",
        ),
    ],
)
def test_refused_values(make: Any, error: type[Exception], message: str) -> None:
    """A wrong container, member class or key is refused, naming the place."""
    with pytest.raises(error) as info:
        make()
    assert message in str(info.value)


def test_machine_twice_is_refused_and_nothing_is_wired() -> None:
    """The same machine twice in a list is refused; no member stays wired."""
    first, twice = Item(), Item()
    with pytest.raises(MachineAlreadyOrchestratedError) as info:
        Crate([first, twice, twice])
    assert "the same Item instance is given for items[1] and items[2]" in str(info.value)
    assert free(first)
    assert free(twice)


def test_shared_model_and_state_field_is_refused() -> None:
    """Two members on one model and state field are refused."""
    model = object.__new__(type("Model", (), {}))
    with pytest.raises(StateFieldIsNotUniqueError) as info:
        Depot({"a": Item(model=model), "b": Item(model=model)})
    assert "machines items['a'] and items['b'] share one model" in str(info.value)


def test_members_on_one_model_with_their_own_state_fields_are_accepted() -> None:
    """One model may carry several members, each on a state field of its own."""
    model = object.__new__(type("Model", (), {}))
    first = Item(model=model, state_field="first")
    second = Item(model=model, state_field="second")
    crate = Crate([first, second])
    assert owner_of(first) is crate
    assert owner_of(second) is crate
    first.ship()
    assert state_of(first) != state_of(second)


def test_member_owned_elsewhere_is_refused_and_nothing_is_wired() -> None:
    """A member that belongs to another orchestrator is refused; the others are freed."""
    taken = Item()
    other = Crate([taken])
    mine = Item()
    with pytest.raises(MachineAlreadyOrchestratedError) as info:
        Shipment(Order(), [mine, taken])
    assert "the machine given for items[1] already belongs to Crate" in str(info.value)
    assert free(mine)
    assert wired(taken, other)


def test_single_and_member_cannot_be_the_same_machine() -> None:
    """A machine given for a single field and as a member is refused."""

    class Mixed(Orchestrator):
        first: Item
        rest: list[Item]

    item = Item()
    with pytest.raises(MachineAlreadyOrchestratedError, match=r"given for 'first' and rest\[0\]"):
        Mixed(item, [item])
    assert free(item)


# --------------------------------------------------------------------------- list mutators


def mutations() -> list[tuple[str, Any, int]]:
    """(name, mutation of a two-member crate, members expected afterwards)."""
    return [
        ("append", lambda c, n: c.items.append(n[0]), 3),
        ("extend", lambda c, n: c.items.extend(n), 4),
        ("insert", lambda c, n: c.items.insert(0, n[0]), 3),
        ("setitem", lambda c, n: c.items.__setitem__(0, n[0]), 2),
        ("setitem negative", lambda c, n: c.items.__setitem__(-1, n[0]), 2),
        ("slice", lambda c, n: c.items.__setitem__(slice(0, 1), n), 3),
        ("iadd", lambda c, n: c.items.__iadd__(n), 4),
    ]


@pytest.mark.parametrize(("name", "mutate", "size"), mutations(), ids=[m[0] for m in mutations()])
def test_list_mutators_wire_and_unwire(name: str, mutate: Any, size: int) -> None:
    """Every mutator wires the machines that join and unwires those that leave."""
    del name
    old = [Item(), Item()]
    crate = Crate(list(old))
    new = [Item(), Item()]
    mutate(crate, new)
    assert len(crate.items) == size
    for machine in old + new:
        if any(m is machine for m in crate.items):
            assert wired(machine, crate)
        else:
            assert free(machine)


@pytest.mark.parametrize(
    "remove",
    [
        lambda c: c.items.pop(),
        lambda c: c.items.pop(0),
        lambda c: c.items.remove(c.items[0]),
        lambda c: c.items.__delitem__(0),
        lambda c: c.items.__delitem__(slice(0, 2)),
        lambda c: c.items.clear(),
        lambda c: c.items.__imul__(0),
    ],
)
def test_list_removals_unwire(remove: Any) -> None:
    """Every way of removing members unwires them."""
    old = [Item(), Item()]
    crate = Crate(list(old))
    remove(crate)
    for machine in old:
        if any(m is machine for m in crate.items):
            assert wired(machine, crate)
        else:
            assert free(machine)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c, bad: c.items.append(bad),
        lambda c, bad: c.items.extend([Item(), bad]),
        lambda c, bad: c.items.insert(0, bad),
        lambda c, bad: c.items.__setitem__(0, bad),
        lambda c, bad: c.items.__setitem__(slice(0, 1), [Item(), bad]),
        lambda c, bad: c.items.__iadd__([bad]),
    ],
)
@pytest.mark.parametrize(
    "kind", ["wrong class", "owned elsewhere", "already a member", "shared model"]
)
def test_refused_list_mutation_changes_nothing(mutate: Any, kind: str) -> None:
    """A mutation that would break a rule raises and leaves list and machines as they were."""
    old = [Item(), Item()]
    crate = Crate(list(old))
    bad: Any
    if kind == "wrong class":
        bad = OrderMachine()
    elif kind == "owned elsewhere":
        bad = Item()
        Crate([bad])
    elif kind == "already a member":
        bad = old[1]
    else:
        bad = Item(model=old[1].model)
    with pytest.raises(
        (MachineTypeMismatchError, MachineAlreadyOrchestratedError, StateFieldIsNotUniqueError)
    ):
        mutate(crate, bad)
    assert crate.items == old
    assert all(wired(m, crate) for m in old)


def test_a_leaving_members_model_may_be_taken_by_a_newcomer() -> None:
    """A machine replacing a member may share the model and state field the member leaves free."""
    old = [Item(), Item()]
    crate = Crate(list(old))
    newcomer = Item(model=old[1].model, state_field="state")
    crate.items[1] = newcomer
    assert wired(newcomer, crate)
    assert free(old[1])


def test_repeating_members_is_refused() -> None:
    """``*=`` cannot repeat members; ``*= 1`` keeps them."""
    crate = Crate([Item()])
    crate.items *= 1
    assert len(crate.items) == 1
    with pytest.raises(MachineAlreadyOrchestratedError, match="cannot hold a machine twice"):
        crate.items *= 2


def test_extended_slice_of_another_size_is_refused_before_wiring() -> None:
    """An extended slice assignment of the wrong size raises like a list, changing nothing."""
    old = [Item(), Item()]
    crate = Crate(list(old))
    new = Item()
    with pytest.raises(ValueError, match="extended slice of size 1"):
        crate.items[::2] = [new, Item()]
    assert free(new)
    crate.items[::-1] = list(crate.items)
    assert crate.items == old[::-1]
    assert all(wired(m, crate) for m in old)


def test_reordering_keeps_members_wired() -> None:
    """sort, reverse and slice reassignment of the same members keep them wired."""
    old = [Item(), Item(), Item()]
    crate = Crate(list(old))
    crate.items.reverse()
    crate.items[:] = crate.items[::-1]
    crate.items.sort(key=id)
    assert sorted(map(id, crate.items)) == sorted(map(id, old))
    assert all(wired(m, crate) for m in old)


def test_setting_a_member_to_itself_is_no_change() -> None:
    """``items[0] = items[0]`` changes nothing."""
    crate = Crate([Item()])
    crate.items[0] = crate.items[0]
    assert wired(crate.items[0], crate)


def test_remove_takes_the_very_instance() -> None:
    """remove() of a machine that is no member raises ValueError."""
    crate = Crate([Item()])
    with pytest.raises(ValueError, match="is not a member of this list"):
        crate.items.remove(Item())


def test_member_processing_an_event_cannot_be_removed() -> None:
    """A member removing itself from its own callback is refused."""

    class SelfRemoving(Item):
        def after_ship(self, orc: Any = None) -> str:
            orc.items.remove(self)
            return "gone"

    class Line(Orchestrator):
        items: list[SelfRemoving]

    line = Line([SelfRemoving()])
    with pytest.raises(MachineBusyError, match="cannot remove a member of 'items'"):
        line.items[0].ship()
    assert len(line.items) == 1


# --------------------------------------------------------------------------- dict mutators


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d, n: d.items.__setitem__("c", n[0]),
        lambda d, n: d.items.__setitem__("a", n[0]),
        lambda d, n: d.items.update({"c": n[0], "a": n[1]}),
        lambda d, n: d.items.update(c=n[0]),
        lambda d, n: d.items.__ior__({"c": n[0]}),
        lambda d, n: d.items.setdefault("c", n[0]),
        lambda d, n: d.items.setdefault("a", n[0]),
        lambda d, _n: d.items.pop("a"),
        lambda d, _n: d.items.pop("zz", None),
        lambda d, _n: d.items.popitem(),
        lambda d, _n: d.items.__delitem__("b"),
        lambda d, _n: d.items.clear(),
    ],
)
def test_dict_mutators_wire_and_unwire(mutate: Any) -> None:
    """Every dict mutator wires the machines that join and unwires those that leave."""
    old = {"a": Item(), "b": Item()}
    depot = Depot(dict(old))
    new = [Item(), Item()]
    mutate(depot, new)
    for machine in [*old.values(), *new]:
        if any(m is machine for m in depot.items.values()):
            assert wired(machine, depot)
        else:
            assert free(machine)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d, bad: d.items.__setitem__("c", bad),
        lambda d, bad: d.items.update({"c": Item(), "d": bad}),
        lambda d, bad: d.items.setdefault("c", bad),
    ],
)
def test_refused_dict_mutation_changes_nothing(mutate: Any) -> None:
    """A refused dict mutation leaves the dict and its machines as they were."""
    old = {"a": Item(), "b": Item()}
    depot = Depot(dict(old))
    with pytest.raises(MachineTypeMismatchError):
        mutate(depot, OrderMachine())
    assert depot.items == old
    assert all(wired(m, depot) for m in old.values())


def test_dict_key_must_be_a_string() -> None:
    """A member under a key that is not a str is refused."""
    depot = Depot({})
    with pytest.raises(InvalidMemberKeyError):
        depot.items[1] = Item()  # type: ignore[index]
    assert depot.items == {}


def test_dict_pop_and_popitem_errors() -> None:
    """pop() and popitem() raise KeyError like a dict."""
    depot = Depot({})
    with pytest.raises(KeyError):
        depot.items.pop("a")
    with pytest.raises(KeyError):
        depot.items.popitem()
    assert type(Depot({}).items.fromkeys(["a"])) is dict


# --------------------------------------------------------------------------- whole collections


def test_replacing_the_whole_collection_rewires_it() -> None:
    """Assigning a new list wires its machines, keeps the ones still there, unwires the rest."""
    keep, drop, new = Item(), Item(), Item()
    crate = Crate([keep, drop])
    old_list = crate.items
    crate.items = [keep, new]
    assert wired(keep, crate)
    assert wired(new, crate)
    assert free(drop)
    # The former list object is detached: a plain list again.
    old_list.append(Item())
    assert free(old_list[-1])


def test_refused_replacement_changes_nothing() -> None:
    """A replacement list with a wrong member changes nothing."""
    old = [Item()]
    crate = Crate(list(old))
    with pytest.raises(MachineTypeMismatchError):
        crate.items = [Item(), OrderMachine()]
    assert crate.items == old
    assert wired(old[0], crate)


def test_replacing_a_single_field_beside_a_collection() -> None:
    """A single field of a class with collections is replaced with the same rules."""
    shipment = Shipment(Order(), [Item()])
    old = shipment.order
    shipment.order = Order()
    assert owner_of(old) is None
    assert owner_of(shipment.order) is shipment
    with pytest.raises(
        StateFieldIsNotUniqueError, match=r"items\[0\] and items\[1\] share one model"
    ):
        shipment.items = [item := Item(), Item(model=item.model)]

    class Mixed(Orchestrator):
        first: Item
        rest: list[Item]

    mixed = Mixed(Item(), [])
    with pytest.raises(MachineAlreadyOrchestratedError, match=r"given for rest\[0\] and first"):
        mixed.rest = [mixed.first]
    mixed.rest = [Item()]
    with pytest.raises(MachineAlreadyOrchestratedError, match="given for 'first' and rest"):
        mixed.first = mixed.rest[0]
    with pytest.raises(MachineAlreadyOrchestratedError, match="belongs to this orchestrator"):
        mixed.rest.append(mixed.first)


def test_release_hands_back_plain_collections() -> None:
    """release() unwires every member and returns plain lists and dicts."""
    members = [Item(), Item()]
    crate = Crate(list(members))
    items = crate.items
    released = crate.release()
    assert type(released["items"]) is list
    assert released["items"] == members
    assert all(free(m) for m in members)
    items.append(Item())  # a detached collection is a plain list
    assert free(items[-1])
    again = Crate(**released)
    assert all(wired(m, again) for m in members)


def test_release_refused_while_a_member_is_busy() -> None:
    """release() from a member's callback is refused."""

    class Releasing(Item):
        def after_ship(self, orc: Any = None) -> str:
            orc.release()
            return "released"

    class Line(Orchestrator):
        items: list[Releasing]

    line = Line([Releasing()])
    with pytest.raises(MachineBusyError):
        line.items[0].ship()


@pytest.mark.parametrize(
    "duplicate",
    [copy.deepcopy, lambda o: pickle.loads(pickle.dumps(o))],  # noqa: S301 - our own data
)
def test_copies_wire_their_own_members(duplicate: Any) -> None:
    """Deep copies and unpickled copies wire copies of the members to the copy."""
    shipment = Shipment(Order(), [Item(), Item()])
    shipment.items[0].ship()
    twin = duplicate(shipment)
    assert type(twin.items) is type(shipment.items)
    assert [state_of(m) for m in twin.items] == ["shipped", "packed"]
    assert all(owner_of(m) is twin for m in twin.items)
    twin.items.append(Item())
    assert owner_of(twin.items[-1]) is twin
    assert len(shipment.items) == 2
    depot = duplicate(Depot({"a": Item()}))
    assert wired(depot.items["a"], depot)


def test_collection_pickles_as_a_plain_list() -> None:
    """A collection pickled on its own comes back as a plain list, of free machines."""
    crate = Crate([Item()])
    loaded = pickle.loads(pickle.dumps(crate.items))  # noqa: S301 - our own data
    assert type(loaded) is list
    assert owner_of(loaded[0]) is None


# --------------------------------------------------------------------------- which member


def test_member_key_tells_index_and_key() -> None:
    """A callback finds which member it is with member_key."""

    class Line(Orchestrator):
        items: list[LabelledItem]
        bins: dict[str, LabelledItem]

    line = Line([LabelledItem(), LabelledItem()], {"x": LabelledItem()})
    line.items[1].ship()
    line.bins["x"].ship()
    assert line.items[1].seen == [("items", 1)]
    assert line.bins["x"].seen == [("bins", "x")]
    line.items.pop(0)
    assert member_key(line, line.items[0]) == ("items", 0)


def test_member_key_of_a_stranger() -> None:
    """member_key of a machine that is no member raises NotAMemberError."""
    shipment = Shipment(Order(), [])
    with pytest.raises(NotAMemberError, match="is no member of a collection of Shipment"):
        member_key(shipment, shipment.order)

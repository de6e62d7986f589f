"""Orchestrator.restore() refuses bad data clearly, and builds, wires and keeps nothing."""
# ruff: noqa: E501 - a table of whole error messages, one per bad snapshot

from __future__ import annotations

import copy
import re
from typing import Any, Callable, ClassVar

import pytest
from statemachine import State, StateMachine

from statemachines_orchestrator import (
    MachineAlreadyOrchestratedError,
    MachineBusyError,
    MachineDataNotSerializableError,
    MachineTypeMismatchError,
    NoMachinesOnOrchestratorError,
    Orchestrator,
    OrchestratorError,
    SnapshotError,
    SnapshotTypeError,
    SnapshotVersionError,
)

from . import snapshot_machines as sm
from .psm_line import PSM3


def house_snapshot() -> dict[str, Any]:
    """A snapshot of a House whose door is open."""
    house = sm.House(door=sm.Door(), alarm=sm.Alarm())
    house.door.open()
    return house.snapshot()


def changed(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    """A House snapshot changed by ``edit``."""
    data = copy.deepcopy(house_snapshot())
    edit(data)
    return data


def assert_free(*machines: Any) -> None:
    """Each machine may still join a new orchestrator (nothing kept it)."""
    for machine in machines:
        house = sm.House(door=machine, alarm=sm.Alarm())
        house.release()


def test_not_a_mapping() -> None:
    """A list (or any non-mapping) is a SnapshotTypeError naming what was expected."""
    with pytest.raises(SnapshotTypeError) as info:
        sm.House.restore([1, 2])  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert str(info.value) == (
        "House.restore(): the snapshot must be a dict (a JSON object, as "
        "Orchestrator.snapshot() returns), got list [1, 2]"
    )
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, OrchestratorError)


def test_a_read_only_mapping_is_accepted() -> None:
    """Any mapping serves at the top level."""
    from types import MappingProxyType

    restored = sm.House.restore(MappingProxyType(house_snapshot()))
    assert restored.door.current_state_value == "opened"


def test_no_format_key() -> None:
    """A dict without "format" is no snapshot at all."""
    with pytest.raises(SnapshotError, match=re.escape('the snapshot has no "format" key')):
        sm.House.restore({"machines": {}})


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (
            lambda d: d.update(format="1"),
            SnapshotTypeError,
            "House.restore(): \"format\" must be an int, got str '1'",
        ),
        (
            lambda d: d.update(format=True),
            SnapshotTypeError,
            'House.restore(): "format" must be an int, got bool True',
        ),
        (
            lambda d: d.update(format=2, other=1),
            SnapshotVersionError,
            (
                "House.restore(): the snapshot's format 2 is newer than this release reads (1); "
                "upgrade statemachines-orchestrator"
            ),
        ),
        (
            lambda d: d.update(format=0),
            SnapshotError,
            "House.restore(): the snapshot's format 0 does not exist (formats start at 1)",
        ),
        (
            lambda d: d.update(extra=1),
            SnapshotError,
            "House.restore(): the snapshot has keys the format does not know: 'extra'",
        ),
        (
            lambda d: d.pop("version"),
            SnapshotError,
            "House.restore(): the snapshot lacks the keys 'version'",
        ),
        (
            lambda d: d.update(orchestrator=None),
            SnapshotTypeError,
            'House.restore(): "orchestrator" must be a str ("module:qualname"), got NoneType None',
        ),
        (
            lambda d: d.update(orchestrator="tests.snapshot_machines:LitHouse"),
            SnapshotError,
            (
                "House.restore(): the snapshot is one of tests.snapshot_machines:LitHouse, not of "
                "tests.snapshot_machines:House; restore it with the class that took it"
            ),
        ),
        (
            lambda d: d.update(version=1.0),
            SnapshotTypeError,
            'House.restore(): "version" must be an int, got float 1.0',
        ),
        (
            lambda d: d.update(version=3),
            SnapshotVersionError,
            (
                "House.restore(): the snapshot's version 3 is newer than House's (0, registered with "
                "statemachines_orchestrator.snapshot.upgrade); restore it with the release of your "
                "application that wrote it"
            ),
        ),
        (
            lambda d: d.update(version=-1),
            SnapshotVersionError,
            "House.restore(): the snapshot's version -1 does not exist (versions start at 0)",
        ),
        (
            lambda d: d.update(machines=[]),
            SnapshotTypeError,
            (
                'House.restore(): "machines" must be a dict of machine field name to machine '
                "snapshot, got list []"
            ),
        ),
        (
            lambda d: d["machines"].update(garage={}),
            SnapshotError,
            (
                "House.restore(): the snapshot holds a machine for 'garage', which is no machine "
                "field of House; register an upgrade that removes it "
                "(statemachines_orchestrator.snapshot.upgrade)"
            ),
        ),
        (
            lambda d: d["machines"].pop("alarm"),
            SnapshotError,
            (
                "House.restore(): the snapshot lacks machine field 'alarm'; give the field a built() "
                "default (it is then built fresh), or register an upgrade that adds it "
                "(statemachines_orchestrator.snapshot.upgrade)"
            ),
        ),
        (
            lambda d: d["machines"].update(door="closed"),
            SnapshotTypeError,
            "House.restore(): machine 'door': its snapshot must be a dict, got str 'closed'",
        ),
        (
            lambda d: d["machines"]["door"].pop("history"),
            SnapshotError,
            "House.restore(): machine 'door': its snapshot lacks the keys 'history'",
        ),
        (
            lambda d: d["machines"]["door"].update(colour="red"),
            SnapshotError,
            (
                "House.restore(): machine 'door': its snapshot has keys the format does not know: "
                "'colour'"
            ),
        ),
        (
            lambda d: d["machines"]["door"].update({"class": 3}),
            SnapshotTypeError,
            (
                'House.restore(): machine \'door\': "class" must be a str ("module:qualname"), got '
                "int 3"
            ),
        ),
        (
            lambda d: d["machines"]["door"].update({"class": "tests.snapshot_machines:Alarm"}),
            SnapshotError,
            (
                "House.restore(): machine 'door' was saved as a tests.snapshot_machines:Alarm, but is "
                "now a tests.snapshot_machines:Door; pass a machine of the saved class by field "
                'name, or register an upgrade that changes "class"'
            ),
        ),
        (
            lambda d: d["machines"]["door"].update(configuration="opened"),
            SnapshotTypeError,
            (
                "House.restore(): machine 'door': \"configuration\" must be a list of state ids, got "
                "str 'opened'"
            ),
        ),
        (
            lambda d: d["machines"]["door"].update(configuration=[1]),
            SnapshotTypeError,
            "House.restore(): machine 'door': \"configuration\" holds int 1, not a state id (str)",
        ),
        (
            lambda d: d["machines"]["door"].update(configuration=["ajar"]),
            SnapshotError,
            (
                "House.restore(): machine 'door': \"configuration\" names the state 'ajar', which "
                "Door no longer has; register an upgrade that renames or replaces it "
                "(statemachines_orchestrator.snapshot.upgrade)"
            ),
        ),
        (
            lambda d: d["machines"]["door"].update(configuration=["opened", "opened"]),
            SnapshotError,
            (
                "House.restore(): machine 'door': its configuration ['opened', 'opened'] lists a "
                "state twice"
            ),
        ),
        (
            lambda d: d["machines"]["door"].update(configuration=["opened", "closed"]),
            SnapshotError,
            "House.restore(): machine 'door': ['opened', 'closed'] is no configuration a Door "
            "can be in: it has 2 "
            + ("top-level states (opened, closed), not one" if PSM3 else "states, not one"),
        ),
        (
            lambda d: d["machines"]["door"].update(history=[]),
            SnapshotTypeError,
            (
                "House.restore(): machine 'door': \"history\" must be a dict of history state id to "
                "a list of state ids, got list []"
            ),
        ),
        (
            lambda d: d["machines"]["door"].update(history={"h": ["opened"]}),
            SnapshotError,
            (
                "House.restore(): machine 'door': its history names 'h', which is no history state "
                "of Door"
            ),
        ),
        (
            lambda d: d["machines"]["door"].update(finished=0),
            SnapshotTypeError,
            "House.restore(): machine 'door': \"finished\" must be a bool, got int 0",
        ),
        (
            lambda d: d["machines"]["door"].update(finished=True),
            SnapshotError,
            (
                "House.restore(): machine 'door': \"finished\" is True, which its configuration "
                "['opened'] contradicts (a machine is finished when it reached a top-level final "
                "state, and only then)"
            ),
        ),
        (
            lambda d: d["machines"]["door"].update(data=None),
            SnapshotTypeError,
            (
                "House.restore(): machine 'door': \"data\" must be a dict of attribute name to JSON "
                "value, got NoneType None"
            ),
        ),
        (
            lambda d: d["machines"]["door"].update(data={"openings": 1, "colour": "red"}),
            SnapshotError,
            (
                "House.restore(): machine 'door': \"data\" holds [\"'colour'\", \"'openings'\"], but "
                "its class's snapshot_fields lists ['openings']; register an upgrade that converts "
                "the data (statemachines_orchestrator.snapshot.upgrade)"
            ),
        ),
        (
            lambda d: d["machines"]["door"].update(data={"openings": (1,)}),
            SnapshotTypeError,
            "House.restore(): machine 'door': \"data\"['openings'] holds tuple (1,), not JSON data",
        ),
        (
            lambda d: d["machines"]["door"].update(data={"openings": {"a": {1: 2}}}),
            SnapshotTypeError,
            (
                "House.restore(): machine 'door': \"data\"['openings']['a'][1] holds int 1, not JSON "
                "data"
            ),
        ),
        (
            lambda d: d["machines"]["door"].update(data={"openings": float("nan")}),
            SnapshotTypeError,
            "House.restore(): machine 'door': \"data\"['openings'] holds float nan, not JSON data",
        ),
        (
            lambda d: d["machines"]["alarm"].update(model=[]),
            SnapshotTypeError,
            (
                "House.restore(): machine 'alarm': \"model\" must be a dict of attribute name to JSON "
                "value, got list []"
            ),
        ),
    ],
)
def test_bad_snapshots_are_refused_with_a_clear_error(
    edit: Callable[[dict[str, Any]], object], error: type[Exception], message: str
) -> None:
    """Each broken rule has its own message, and passed machines stay free; restoring
    without passing a machine (the inline common case first) words the same error."""
    data = changed(edit)
    door = sm.Door()
    with pytest.raises(error) as info:
        sm.House.restore(data, door=door)
    assert str(info.value) == message
    assert isinstance(info.value, SnapshotError)
    assert isinstance(info.value, ValueError)
    assert_free(door)
    assert door.current_state_value == "closed"
    sm.House.restore(house_snapshot())  # the inline case's cache is ready
    with pytest.raises(error) as again:
        sm.House.restore(changed(edit))
    assert str(again.value) == message


def test_unknown_machine_keyword() -> None:
    """A machine passed for no field is a SnapshotTypeError naming the fields."""
    with pytest.raises(SnapshotTypeError) as info:
        sm.House.restore(house_snapshot(), garage=sm.Door())
    assert str(info.value) == (
        "House.restore() got a machine for 'garage', which is no machine field of House "
        "(its fields: door, alarm)"
    )


def test_passed_machine_of_another_class() -> None:
    """A machine passed for a field must be an instance of the field's class."""
    with pytest.raises(MachineTypeMismatchError):
        sm.House.restore(house_snapshot(), door=sm.Alarm())


def test_passed_machine_owned_elsewhere_is_refused_and_left_there() -> None:
    """A machine of another orchestrator is refused; it stays with its owner."""
    other = sm.House(door=sm.Door(), alarm=sm.Alarm())
    with pytest.raises(MachineAlreadyOrchestratedError):
        sm.House.restore(house_snapshot(), alarm=other.alarm)
    other.door.lock()
    assert other.alarm.current_state_value == "armed"


def test_passed_machine_refused_late_leaves_the_others_free() -> None:
    """When one given machine is refused, the others given are not kept either."""
    other = sm.House(door=sm.Door(), alarm=sm.Alarm())
    door = sm.Door()
    with pytest.raises(MachineAlreadyOrchestratedError):
        sm.House.restore(house_snapshot(), door=door, alarm=other.alarm)
    assert_free(door)


def test_passed_machine_busy_is_refused() -> None:
    """A machine processing an event cannot be restored into."""
    seen: list[str] = []

    def during(machine: Any) -> None:
        with pytest.raises(MachineBusyError) as info:
            House2.restore(data, door=machine)
        seen.append(str(info.value))

    house = House2(door=Door2(), alarm=sm.Alarm())
    data = house.snapshot()
    door = Door2()
    door.hook = during
    door.open()
    assert seen == [
        (
            "House2.restore(): the machine given for 'door' is processing an event or has events "
            "queued; pass an idle machine"
        )
    ]
    assert_free_door2(door)


class Door2(StateMachine):
    """A door that calls ``hook`` from its ``open`` action."""

    closed = State(initial=True)
    opened = State()
    open = closed.to(opened)
    close = opened.to(closed)
    hook: ClassVar[Callable[[Any], None] | None] = None

    def on_open(self) -> None:
        if self.hook is not None:
            self.hook(self)


class House2(Orchestrator):
    """A Door2 and an alarm."""

    door: Door2
    alarm: sm.Alarm


def assert_free_door2(door: Door2) -> None:
    """``door`` may join a new House2."""
    House2(door=door, alarm=sm.Alarm()).release()


def test_abstract_orchestrator_cannot_restore() -> None:
    """A class without machine fields has nothing to restore into."""

    class Base(Orchestrator, abstract=True):
        pass

    with pytest.raises(NoMachinesOnOrchestratorError):
        Base.restore(house_snapshot())


def test_restore_imports_and_calls_nothing_named_in_the_data() -> None:
    """Class paths naming a module are compared only: the module is never imported."""
    import sys

    data = changed(lambda d: d["machines"]["door"].update({"class": "antigravity:Door"}))
    with pytest.raises(SnapshotError):
        sm.House.restore(data)
    assert "antigravity" not in sys.modules


def test_restore_does_not_modify_the_data() -> None:
    """The data given is read, not changed; restored machines share no list with it."""
    data = house_snapshot()
    kept = copy.deepcopy(data)
    restored = sm.House.restore(data)
    assert data == kept
    restored.door.close()
    restored.door.open()
    assert data == kept


# --- snapshot() refusals ------------------------------------------------------------------


class Basket(StateMachine):
    """A machine whose data may be set to anything."""

    snapshot_fields: ClassVar[tuple[str, ...]] = ("items",)
    snapshot_model_fields: ClassVar[tuple[str, ...]] = ("owner",)

    empty = State(initial=True)
    full = State()
    fill = empty.to(full)
    spill = full.to(empty)

    def __init__(self, **kwargs: Any) -> None:
        self.items: Any = []
        super().__init__(**kwargs)


class Market(Orchestrator):
    """One basket."""

    basket: Basket


def market() -> Market:
    """A market whose basket's model has an owner."""
    basket = Basket()
    basket.model.owner = "ada"
    return Market(basket=basket)


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({1, 2}, "set {1, 2}"),
        ((1, 2), "tuple (1, 2)"),
        ([1, object], "type <class 'object'>"),
        ({"a": float("inf")}, "float inf"),
        ({3: "x"}, "int 3"),
    ],
)
def test_snapshot_refuses_data_that_is_not_json(value: Any, where: str) -> None:
    """The error names the orchestrator, machine, class, attribute and value."""
    orc = market()
    orc.basket.items = value
    with pytest.raises(MachineDataNotSerializableError) as info:
        orc.snapshot()
    message = str(info.value)
    assert message.startswith("Market: machine 'basket' (Basket): attribute 'items'")
    assert where in message
    assert message.endswith(
        "which is not JSON data (str, int, finite float, bool, None, list, dict with str "
        "keys); store it in a JSON form, or remove 'items' from snapshot_fields"
    )
    assert isinstance(info.value, TypeError)


def test_snapshot_refuses_model_data_that_is_not_json() -> None:
    """The model's fields are checked the same way, and named as the model's."""
    orc = market()
    orc.basket.model.owner = b"ada"
    with pytest.raises(MachineDataNotSerializableError) as info:
        orc.snapshot()
    assert str(info.value).startswith(
        "Market: model of machine 'basket' (Basket): attribute 'owner' holds bytes b'ada'"
    )


def test_model_data_round_trips() -> None:
    """A model field listed in snapshot_model_fields comes back on the new model."""
    orc = market()
    orc.basket.items = [{"sku": "x", "n": 2}]
    orc.basket.fill()
    restored = Market.restore(orc.snapshot())
    assert restored.basket.items == [{"sku": "x", "n": 2}]
    assert restored.basket.model.owner == "ada"
    assert restored.basket.current_state_value == "full"


def test_snapshot_refuses_a_missing_attribute() -> None:
    """A listed attribute that was never set is named, with the fix."""
    orc = market()
    del orc.basket.model.owner
    with pytest.raises(SnapshotError) as info:
        orc.snapshot()
    assert str(info.value) == (
        "Market: model of machine 'basket' (Basket) has no attribute 'owner', which its class "
        "lists in snapshot_model_fields; give it a value in __init__ or a class-level default"
    )


def test_snapshot_refuses_the_state_field_as_model_data() -> None:
    """The state field is saved as the configuration; listing it is a mistake."""

    class Listed(Basket):
        snapshot_model_fields: ClassVar[tuple[str, ...]] = ("state",)

    class Stall(Orchestrator):
        basket: Listed

    with pytest.raises(SnapshotTypeError, match="lists its state field 'state'"):
        Stall(basket=Listed()).snapshot()


@pytest.mark.parametrize(
    ("declared", "problem"),
    [
        ("items", "must be a tuple of attribute names (str), got 'items'"),
        ((1,), "must be a tuple of attribute names (str), got (1,)"),
        (("not a name",), "'not a name' is not a plain attribute name"),
        (("items", "items"), "'items' is listed twice"),
        (("_items",), "'_items' is private"),
        (("empty",), "'empty' is a state, an event, a method"),
        (("fill",), "'fill' is a state, an event, a method"),
        (("send",), "'send' is a state, an event, a method"),
        (("model",), "'model' is a state, an event, a method"),
    ],
)
def test_bad_snapshot_fields_declarations(declared: Any, problem: str) -> None:
    """A snapshot_fields that cannot work is refused when first used, naming the class."""
    listed = type("Listed", (Basket,), {"snapshot_fields": declared})

    class Stall(Orchestrator):
        basket: Basket

    with pytest.raises(SnapshotTypeError) as info:
        Stall(basket=listed()).snapshot()
    assert str(info.value).startswith("Listed.snapshot_fields")
    assert problem in str(info.value)


def test_restore_with_a_bad_snapshot_fields_declaration() -> None:
    """restore() reports a bad declaration as snapshot() does."""
    listed = type("Listed", (Basket,), {"snapshot_fields": ("_items",)})

    class Stall(Orchestrator):
        basket: listed  # type: ignore[valid-type]

    data = {
        "format": 1,
        "orchestrator": f"{Stall.__module__}:{Stall.__qualname__}",
        "version": 0,
        "machines": {
            "basket": {
                "class": f"{listed.__module__}:Listed",
                "configuration": ["empty"],
                "history": {},
                "finished": False,
                "data": {"_items": []},
                "model": {"owner": None},
            }
        },
    }
    with pytest.raises(SnapshotTypeError, match=r"Listed.snapshot_fields: '_items' is private"):
        Stall.restore(data)


def test_snapshot_of_a_released_orchestrator() -> None:
    """A released orchestrator holds nothing to save."""
    orc = market()
    orc.release()
    with pytest.raises(SnapshotError, match="cannot snapshot a released Market"):
        orc.snapshot()


def test_snapshot_refuses_a_model_holding_no_state_of_the_class() -> None:
    """A model whose state field was set to garbage is reported, not saved."""
    orc = market()
    orc.basket.model.state = "gone"
    with pytest.raises(SnapshotError) as info:
        orc.snapshot()
    assert str(info.value) == (
        "Market: machine 'basket' (Basket) holds the state value 'gone' in its model, which is "
        "no state of its class"
    )


class Porch(Orchestrator):
    """An alarm, then a door whose callbacks may call ``hook``."""

    alarm: sm.Alarm
    door: Door2


def test_snapshot_from_the_second_machine_callback_is_refused() -> None:
    """The busy machine is named, whichever field it is."""
    seen: list[str] = []

    def during(machine: Any) -> None:  # noqa: ARG001
        with pytest.raises(MachineBusyError) as info:
            porch.snapshot()
        seen.append(str(info.value))

    porch = Porch(alarm=sm.Alarm(), door=Door2())
    porch.door.hook = during
    porch.door.open()
    assert len(seen) == 1
    assert seen[0].startswith("Porch: cannot take a snapshot while machine 'door' is processing")


def test_snapshot_from_a_callback_is_refused() -> None:
    """While a machine processes an event (a callback asks), snapshot() refuses."""
    seen: list[str] = []

    def during(machine: Any) -> None:  # noqa: ARG001
        with pytest.raises(MachineBusyError) as info:
            house.snapshot()
        seen.append(str(info.value))

    house = House2(door=Door2(), alarm=sm.Alarm())
    house.door.hook = during
    house.door.open()
    assert seen == [
        (
            "House2: cannot take a snapshot while machine 'door' is processing an event (called "
            "from one of its callbacks, or another thread); a snapshot holds configurations only, "
            "never events in flight: do it once the events are processed (or cancelled), e.g. "
            "from the code that sent them"
        )
    ]
    assert house.snapshot()["machines"]["door"]["configuration"] == ["opened"]

"""Queries over groups of machines, answered at once or as guards (``cond=``)."""

from __future__ import annotations

from typing import Any

import pytest
from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from statemachines_orchestrator import (
    NotAMemberError,
    Orchestrator,
    UnknownFieldError,
    UnknownStateError,
)
from statemachines_orchestrator.coordination import (
    all_final,
    all_in,
    any_in,
    count_in,
    members_in,
)

from .coordination_machines import Item, Order, state_of
from .psm_line import PSM3


def items(*states: str) -> list[Item]:
    """Items brought to the given states."""
    made = []
    for state in states:
        item = Item()
        if state in ("shipped", "delivered"):
            item.ship()
        if state == "delivered":
            item.deliver()
        made.append(item)
    return made


def test_direct_queries_on_a_list() -> None:
    """Each query answers at once for machines given directly."""
    group = items("packed", "shipped", "shipped")
    assert members_in(group, "shipped") == group[1:]
    assert count_in(group, "shipped") == 2
    assert any_in(group, "packed")
    assert not all_in(group, "shipped")
    assert all_in(group[1:], "shipped")
    assert not all_final(group)
    assert all_final(items("delivered", "delivered"))


def test_direct_queries_on_a_dict_and_empty_groups() -> None:
    """Dicts are queried by their values; an empty group is all in any state, like all()."""
    group = dict(zip("ab", items("shipped", "packed")))
    assert members_in(group, "shipped") == [group["a"]]
    assert all_in({}, "shipped")
    assert all_final([])
    assert not any_in([], "shipped")


def test_unknown_state() -> None:
    """A state the class does not have raises UnknownStateError, listing its states."""
    with pytest.raises(UnknownStateError) as info:
        all_in(items("packed"), "shiped")
    assert str(info.value) == (
        "Item has no state 'shiped' (its states: 'delivered', 'packed', 'shipped')"
    )
    with pytest.raises(UnknownStateError, match="has no state 'ship'"):
        all_in(items("packed"), "ship")  # an event, not a state


def test_conditions_guard_a_transition_of_another_machine() -> None:
    """``cond=all_in("items", ...)`` reads the guarded machine's orchestrator, every time."""

    class Manual(Orchestrator):
        order: Order
        items: list[Item]

    manual = Manual(Order(), items("shipped", "packed"))
    assert not _takes(manual.order, "finish")
    manual.items[1].ship()
    manual.items.append(Item())
    assert not _takes(manual.order, "finish")
    manual.items.pop()
    assert _takes(manual.order, "finish")
    assert state_of(manual.order) == "complete"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: all_in("items", "shipped"), [False, True]),
        (lambda: any_in("items", "shipped"), [True, True]),
        (lambda: count_in("items", "shipped"), [True, True]),
        (lambda: members_in("items", "shipped"), [True, True]),
        (lambda: all_final("items"), [False, False]),
        (lambda: all_in(("items", "spare"), "shipped"), [False, False]),
    ],
)
def test_each_query_as_a_condition(make: Any, expected: list[bool]) -> None:
    """Every query gives a guard, evaluated against the current members each time."""

    class Gate(StateMachine):
        closed = State(initial=True)
        opened = State()
        open = closed.to(opened, cond=make())
        close = opened.to(closed)

    class Yard(Orchestrator):
        gate: Gate
        items: list[Item]
        spare: Item

    yard = Yard(Gate(), items("shipped", "packed"), Item())
    seen = [_takes(yard.gate, "open")]
    if seen[0]:
        yard.gate.close()
    yard.items[1].ship()
    seen.append(_takes(yard.gate, "open"))
    assert seen == expected


def _takes(machine: Any, event: str) -> bool:
    """Send ``event``; whether the machine took it (its guard held)."""
    before = state_of(machine)
    try:
        machine.send(event)
    except TransitionNotAllowed:
        return False
    return state_of(machine) != before


def test_condition_names_itself() -> None:
    """A condition's name says what it checks."""
    assert all_in("items", "shipped").__name__ == "all_in('items', 'shipped')"
    assert all_final(("a", "b")).__name__ == "all_final(('a', 'b'))"


def test_condition_of_a_machine_without_orchestrator() -> None:
    """A query guard on a machine that belongs to no orchestrator says so."""
    with pytest.raises(NotAMemberError) as info:
        Order().finish()
    assert str(info.value) == (
        "all_in('items', 'shipped'): the Order whose guard it is belongs to no orchestrator, "
        "so there are no 'items' to ask"
    )


def test_condition_naming_no_field() -> None:
    """A query guard naming a field its orchestrator lacks raises UnknownFieldError."""

    class Alone(Orchestrator):
        order: Order

    alone = Alone(Order())
    with pytest.raises(UnknownFieldError) as info:
        alone.order.finish()
    assert str(info.value).startswith("all_in('items', 'shipped') on ")
    assert str(info.value).endswith("Alone: it has no machine field 'items' (its fields: 'order')")


@pytest.mark.skipif(not PSM3, reason="compound states exist from python-statemachine 3.0")
def test_compound_states_count_their_parents() -> None:
    """A machine in a nested state is in its parent state too."""
    from statemachine import StateChart

    class Job(StateChart):
        class running(State.Compound):
            fetch = State(initial=True)
            parse = State()
            step = fetch.to(parse)

        stopped = State(final=True)
        stop = running.to(stopped)

    jobs = [Job(), Job()]
    jobs[0].step()
    assert all_in(jobs, "running")
    assert members_in(jobs, "parse") == [jobs[0]]
    jobs[1].stop()
    assert count_in(jobs, "running") == 1
    assert not all_final(jobs)
    jobs[0].stop()
    assert all_final(jobs)

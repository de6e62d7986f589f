"""What type checkers see of collections, broadcast and coordination; checked by mypy and pyright.

Like ``check_orchestrator_types.py``: every ``assert_type`` must hold for both
checkers, and each statement under ``if TYPE_CHECKING:`` at the end must be an
error for both (it carries a mypy and a pyright ignore comment, and each
checker reports an ignore comment that suppresses nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from statemachine import State, StateMachine
from typing_extensions import assert_type

from statemachines_orchestrator import Orchestrator, built
from statemachines_orchestrator.coordination import (
    FanIn,
    all_final,
    all_in,
    any_in,
    count_in,
    member_key,
    members_in,
    when_all,
)


class ItemMachine(StateMachine):
    packed = State(initial=True)
    shipped = State(final=True)

    ship = packed.to(shipped)


class OrderMachine(StateMachine):
    waiting = State(initial=True)
    complete = State(final=True)

    finish = waiting.to(complete, cond=all_in("items", "shipped"))


class Shipment(Orchestrator):
    order: OrderMachine
    # built(factory=list) runs too; pyright's strict mode wants the element type
    # spelled out (list[ItemMachine] is callable: it makes an empty list).
    items: list[ItemMachine] = built(factory=list[ItemMachine])
    bins: dict[str, ItemMachine] = built(factory=dict[str, ItemMachine])

    done = when_all("items", "shipped", send=("order", "finish"))


shipment = Shipment(OrderMachine(), [ItemMachine()], {"a": ItemMachine()})
assert_type(Shipment(OrderMachine()), Shipment)  # the collections are built empty
assert_type(shipment.items, list[ItemMachine])
assert_type(shipment.items[0], ItemMachine)
assert_type(shipment.bins["a"], ItemMachine)
shipment.items.append(ItemMachine())
shipment.items += [ItemMachine()]
shipment.bins["b"] = ItemMachine()
shipment.items = [ItemMachine()]  # replacing the whole collection type-checks (rewired at runtime)

# Broadcast: one result per machine reached.
assert_type(shipment.send("ship"), Any)

# Queries on machines answer at once; on field names they make conditions.
assert_type(all_in(shipment.items, "shipped"), bool)
assert_type(any_in(shipment.bins, "shipped"), bool)
assert_type(count_in(shipment.items, "shipped"), int)
assert_type(members_in(shipment.items, "shipped"), list[ItemMachine])
assert_type(members_in(shipment.bins, "shipped"), list[ItemMachine])
assert_type(all_final(shipment.items), bool)
assert_type(all_in("items", "shipped"), Callable[..., Any])
assert_type(all_final(("items", "bins")), Callable[..., Any])
assert_type(when_all("items", send=("order", "finish")), FanIn)
assert_type(member_key(shipment, shipment.items[0]), "tuple[str, int | str]")

# --------------------------------------------------------------------------- expected errors

if TYPE_CHECKING:
    # A list of machines of another class.
    Shipment(OrderMachine(), [OrderMachine()])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    shipment.items.append(OrderMachine())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    shipment.bins["c"] = OrderMachine()  # type: ignore[assignment]  # pyright: ignore[reportArgumentType]

    # A whole collection of another class.
    shipment.items = [OrderMachine()]  # type: ignore[list-item]  # pyright: ignore[reportAttributeAccessIssue]

    # when_all's target is a field name and an event.
    when_all("items", "shipped", send="order")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

"""Every store saves and loads orchestrators with collection fields, members included."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from .shop import Depot, Parcel

if TYPE_CHECKING:
    from .backends import Backend


class BoomError(Exception):
    """Raised inside a unit of work's block."""


def _fail_after_adding(backend: Backend) -> None:
    with backend.transaction(Depot, "depot-1") as depot:
        depot.lockers["b"] = Parcel()
        raise BoomError


def _states(depot: Depot) -> tuple[list[object], dict[str, object]]:
    return (
        [(p.current_state_value, p.weight) for p in depot.parcels],
        {k: (p.current_state_value, p.weight) for k, p in depot.lockers.items()},
    )


def test_a_unit_of_work_round_trips_the_members_of_collections(backend: Backend) -> None:
    with backend.transaction(Depot, "depot-1") as depot:
        assert depot.parcels == []
        depot.parcels.append(Parcel())
        depot.parcels.append(Parcel())
        depot.parcels[1].weight = 7
        depot.parcels[1].ship()
        depot.lockers["a"] = Parcel()
    loaded = backend.load(Depot, "depot-1")
    assert _states(loaded) == ([("packed", 0), ("shipped", 7)], {"a": ("packed", 0)})
    unit = backend.transaction(Depot, "depot-1")
    with unit as depot:
        depot.parcels.pop(0)
        depot.lockers["a"].ship()
    assert (unit.loaded_version, unit.saved_version) == (1, 2)
    assert _states(backend.load(Depot, "depot-1")) == (
        [("shipped", 7)],
        {"a": ("shipped", 0)},
    )
    with pytest.raises(BoomError):
        _fail_after_adding(backend)
    assert list(backend.load(Depot, "depot-1").lockers) == ["a"]

"""Fan-ins across an orchestrator's life: restored, copied, rolled back, stored.

A fan-in's count is not saved: it is worked out again from the machines
whenever an orchestrator is built from saved data (restore, copy, pickle, a
store's load) or an atomic block rolls back; a condition that already holds
then sends nothing, as on building.
"""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any, Callable

import pytest

from statemachines_orchestrator.store import MemoryStore

from . import coordination_machines as cm
from .snapshot_machines import BoomError, fail_in_block


def _through_json(project: cm.Project) -> cm.Project:
    return cm.Project.restore(json.loads(json.dumps(project.snapshot())))


def _with_a_machine_passed(project: cm.Project) -> cm.Project:
    return cm.Project.restore(project.snapshot(), report=cm.Report())


def _pickled(project: cm.Project) -> Any:
    return pickle.loads(pickle.dumps(project))  # noqa: S301 - our own bytes


REBUILT: dict[str, Callable[[cm.Project], Any]] = {
    "restore": lambda project: cm.Project.restore(project.snapshot()),
    "restore-json": _through_json,
    "restore-given": _with_a_machine_passed,
    "deepcopy": copy.deepcopy,
    "pickle": _pickled,
}


@pytest.mark.parametrize("rebuild", REBUILT.values(), ids=REBUILT.keys())
def test_a_rebuilt_orchestrator_of_single_fields_fires(rebuild: Callable[..., Any]) -> None:
    """One task finished before, the other after: the rebuilt project writes its report."""
    project = cm.Project(cm.Report(), cm.Task(), cm.Task())
    project.design.finish()  # a final state: on 3.x its engine has stopped
    rebuilt = rebuild(project)
    assert rebuilt.report.current_state_value == "waiting"
    rebuilt.build.finish()
    assert rebuilt.report.current_state_value == "written"
    assert rebuilt.report.writes == 1
    assert project.report.current_state_value == "waiting"  # the original is untouched


def test_restoring_where_the_condition_holds_sends_nothing() -> None:
    """Saved after the items shipped (before the order joined): restore sends no event."""
    item = cm.Item()
    item.ship()
    shipment = cm.Shipment(cm.Order(), [item])  # already true: nothing fired
    restored = cm.Shipment.restore(json.loads(json.dumps(shipment.snapshot())))
    assert restored.order.current_state_value == "waiting"
    assert restored.order.completions == 0
    restored.items.append(cm.Item())  # false again ...
    restored.items[1].ship()  # ... and true: it fires
    assert restored.order.current_state_value == "complete"
    assert restored.order.completions == 1


def test_a_rolled_back_block_forgets_what_finished_in_it() -> None:
    """A task finished in a block that raised counts as not done after the rollback."""
    project = cm.Project(cm.Report(), cm.Task(), cm.Task())
    with pytest.raises(BoomError):
        fail_in_block(project, project.design.finish)
    assert project.design.current_state_value == "todo"
    project.build.finish()
    assert project.report.current_state_value == "waiting"  # design is not done
    project.design.finish()
    assert project.report.current_state_value == "written"


def test_a_rollback_sends_nothing_and_fires_again_afterwards() -> None:
    """Members leaving and machines moving back during a rollback send no event."""
    shipment = cm.Shipment(cm.Order(), [cm.Item(), cm.Item()])
    shipment.items[0].ship()
    seen: list[int] = []
    with pytest.raises(BoomError):
        fail_in_block(
            shipment,
            shipment.items[1].ship,  # true: the order completes, inside the block
            lambda: seen.append(shipment.order.completions),
            lambda: shipment.items.append(cm.Item()),  # false again
        )
    assert seen == [1]
    # Taking the new item out first, with items[1] still shipped, made the
    # condition true for a moment: had the fan-in been listening, the order
    # would have completed a second time.
    assert shipment.order.completions == 1
    assert shipment.order.current_state_value == "waiting"
    assert [i.current_state_value for i in shipment.items] == ["shipped", "packed"]
    shipment.items[1].ship()
    assert shipment.order.current_state_value == "complete"
    assert shipment.order.completions == 2


def test_a_fan_in_across_units_of_work() -> None:
    """Each task finishes in its own unit of work; the second writes the report."""
    store = MemoryStore()

    def create() -> cm.Project:
        return cm.Project(cm.Report(), cm.Task(), cm.Task())

    with store.transaction(cm.Project, "p-1", create=create) as project:
        project.design.finish()
    with store.transaction(cm.Project, "p-1") as project:
        project.build.finish()
        assert project.report.current_state_value == "written"
    assert store.load(cm.Project, "p-1").report.current_state_value == "written"

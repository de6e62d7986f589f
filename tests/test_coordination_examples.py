"""The fan-in and barrier examples tell the stories their docstrings promise."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from typing import TYPE_CHECKING, Any

from statemachines_orchestrator._psm import owner_of

if TYPE_CHECKING:
    from types import ModuleType

    import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import ``examples/<name>.py`` as a module."""
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def states(machines: Any) -> list[Any]:
    return [machine.current_state_value for machine in machines]


def test_fan_in_completes_the_order_when_every_item_shipped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Items added while open are waited for; the last shipment completes the order."""
    example = load("fan_in", monkeypatch)
    order = example.main()
    out = capsys.readouterr().out
    assert "order: still 'opened'" in out
    assert out.index("item 2: bulb shipped") < out.index("order: completed: 3 items shipped")
    assert order.order.current_state_value == "closed"
    assert states(order.items) == ["archived"] * 3
    assert all(owner_of(item) is order for item in order.items)


def test_fan_in_order_waits_for_a_late_item(monkeypatch: pytest.MonkeyPatch) -> None:
    """An item added after the others shipped holds the order open until it ships."""
    example = load("fan_in", monkeypatch)
    order = example.Order(example.OrderMachine(), [example.ItemMachine("book")])
    order.items.append(example.ItemMachine("pen"))
    order.items[0].ship()
    assert order.order.current_state_value == "opened"
    order.items[1].ship()
    assert order.order.current_state_value == "completed"


def test_barrier_releases_everyone_after_the_last_initialisation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No participant prepares before all are initialised; the coordinator hears the end."""
    example = load("barrier", monkeypatch)
    task = example.main(size=5)
    capsys.readouterr()
    log = example.LOG
    last_init = max(i for i, line in enumerate(log) if line.endswith(": initialised"))
    first_prepare = min(i for i, line in enumerate(log) if "preparing" in line)
    assert last_init < first_prepare
    assert sum("preparing (0 still idle)" in line for line in log) == 5
    assert log[-1] == "coordinator: every participant is done"
    assert states(task.participants) == ["done"] * 5
    assert task.coordinator.current_state_value == "finished"

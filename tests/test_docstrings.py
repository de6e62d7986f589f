"""The examples in the package's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

from .conftest import PSM3

MODULES = [
    "statemachines_orchestrator",
    "statemachines_orchestrator.annotations",
    "statemachines_orchestrator.callback_binding",
    "statemachines_orchestrator.exceptions",
    "statemachines_orchestrator.fields",
    "statemachines_orchestrator.injection",
    "statemachines_orchestrator.orchestrator",
    "statemachines_orchestrator.ownership",
    # Each line's module imports what only that line has.
    "statemachines_orchestrator.statemachine3"
    if PSM3
    else "statemachines_orchestrator.statemachine2",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    """Every ``>>>`` example of the module's docstrings gives what it shows."""
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0

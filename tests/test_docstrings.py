"""The examples in the package's docstrings run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import statemachines_orchestrator

MODULES = sorted(
    {"statemachines_orchestrator"}
    | {
        info.name
        for info in pkgutil.walk_packages(
            statemachines_orchestrator.__path__, "statemachines_orchestrator."
        )
        # Optional backends import their extra; __main__ runs the CLI.
        if not info.name.endswith("__main__")
    }
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    """Every ``>>>`` example of the module's docstrings gives what it shows."""
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0

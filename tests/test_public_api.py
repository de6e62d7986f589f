"""What the package exports, and the import paths 0.0.4 users have."""

from __future__ import annotations

import importlib.metadata
import inspect
import pathlib

import statemachines_orchestrator
from statemachines_orchestrator import exceptions
from statemachines_orchestrator.orchestrator import API_NAMES, Orchestrator


def test_import_paths_of_0_0_4_keep_working() -> None:
    """``Orchestrator`` and the exceptions live where 0.0.4 had them."""
    assert statemachines_orchestrator.Orchestrator is Orchestrator
    for name in (
        "StateFieldIsNotUniqueError",
        "AnnotationIsNotAStateMachineError",
        "UnexpectedAnnotationTypeError",
        "NoMachinesOnOrchestratorError",
    ):
        assert getattr(statemachines_orchestrator, name) is getattr(exceptions, name)


def test_every_exception_derives_from_the_root_and_a_builtin() -> None:
    """Each error is an ``OrchestratorError`` and a builtin error callers already catch;
    each warning a ``RuntimeWarning``."""
    builtins = (TypeError, ValueError, AttributeError, NameError, RuntimeError, LookupError)
    for name in exceptions.__all__:
        error = getattr(exceptions, name)
        assert getattr(statemachines_orchestrator, name) is error
        if name.endswith("Warning"):
            assert issubclass(error, RuntimeWarning), name
            continue
        assert issubclass(error, exceptions.OrchestratorError)
        if error is not exceptions.OrchestratorError:
            assert issubclass(error, builtins), name


def test_the_package_lists_exception_names_once() -> None:
    """The package's ``__all__`` is ``exceptions.__all__`` plus the rest, no more."""
    rest = set(statemachines_orchestrator.__all__) - set(exceptions.__all__)
    assert rest == {"Orchestrator", "OrchestratorMeta", "__version__", "built"}


def test_public_names_of_orchestrator_are_the_documented_list() -> None:
    """Every public attribute of ``Orchestrator`` is in ``API_NAMES``, reserved for no field."""
    public = {name for name in dir(Orchestrator) if not name.startswith("_")}
    assert public <= API_NAMES
    assert {"machines", "machine_classes", "orchestrator_name", "release"} <= public


def test_every_public_name_has_a_docstring() -> None:
    """Every exported name, and every public method, is documented."""
    for name in statemachines_orchestrator.__all__:
        if name == "__version__":
            continue
        obj = getattr(statemachines_orchestrator, name)
        assert inspect.getdoc(obj), name
    for name, member in vars(Orchestrator).items():
        if not name.startswith("_") and (callable(member) or isinstance(member, property)):
            assert inspect.getdoc(member), name


def test_version_matches_the_installed_distribution() -> None:
    """``__version__`` is the version of the distribution."""
    try:
        installed = importlib.metadata.version("statemachines-orchestrator")
    except importlib.metadata.PackageNotFoundError:  # running from a bare source tree
        installed = statemachines_orchestrator.__version__
    assert statemachines_orchestrator.__version__ == installed


def test_package_is_typed() -> None:
    """The package ships ``py.typed``."""
    package_dir = pathlib.Path(statemachines_orchestrator.__file__).parent
    assert (package_dir / "py.typed").is_file()

"""What the package exports, and the import paths 0.0.4 users have."""

from __future__ import annotations

import importlib.metadata
import inspect
import json
import pathlib
import subprocess
import sys

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
    builtins = (
        TypeError,
        ValueError,
        AttributeError,
        NameError,
        RuntimeError,
        LookupError,
        ImportError,
    )
    for name in exceptions.__all__:
        error = getattr(exceptions, name)
        assert getattr(statemachines_orchestrator, name) is error
        if name.endswith("Warning"):
            assert issubclass(error, RuntimeWarning), name
            continue
        assert issubclass(error, exceptions.OrchestratorError)
        if error is not exceptions.OrchestratorError:
            assert issubclass(error, builtins), name


def test_every_missing_extra_error_is_one_missing_extra_error() -> None:
    """One ``except MissingExtraError`` catches a missing store, OpenTelemetry or pydot."""
    from statemachines_orchestrator.diagram import DiagramExtraMissingError

    for error in (
        exceptions.StoreExtraMissingError,
        exceptions.OpenTelemetryNotInstalledError,
        DiagramExtraMissingError,
    ):
        assert issubclass(error, exceptions.MissingExtraError)
    assert issubclass(exceptions.MissingExtraError, ImportError)
    assert issubclass(exceptions.MissingExtraError, exceptions.OrchestratorError)


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


# What a bare ``import statemachines_orchestrator`` may load of the package: the
# public face and the private core, never a submodule that a feature adds
# (diagram, CLI, stores, traces, ...), nor an optional dependency.
CORE_MODULES = {
    "statemachines_orchestrator",
    "statemachines_orchestrator._annotations",
    "statemachines_orchestrator._atomic",
    "statemachines_orchestrator._attachments",
    "statemachines_orchestrator._collections",
    "statemachines_orchestrator._fan_in",
    "statemachines_orchestrator._fields",
    "statemachines_orchestrator._init_gen",
    "statemachines_orchestrator._joining",
    "statemachines_orchestrator._psm",
    "statemachines_orchestrator._psm._binding",
    "statemachines_orchestrator._psm._deferred",
    "statemachines_orchestrator._psm._fallback",
    "statemachines_orchestrator._psm._listening",
    "statemachines_orchestrator._psm._members",
    "statemachines_orchestrator._psm._observe",
    "statemachines_orchestrator._psm._ownership",
    "statemachines_orchestrator._psm._state",
    "statemachines_orchestrator._records",
    "statemachines_orchestrator._snapshot",
    "statemachines_orchestrator.exceptions",
    "statemachines_orchestrator.orchestrator",
}
OPTIONAL = (
    "sqlalchemy",
    "pydot",
    "opentelemetry",
    "psycopg",
    "asyncpg",
    "aiosqlite",
    "hypothesis",
)


def test_a_bare_import_loads_the_core_only() -> None:
    """In a fresh interpreter, importing the package loads its core and no optional module."""
    code = (
        "import sys, json, statemachines_orchestrator\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{('statemachines_orchestrator', *OPTIONAL)!r})))"
    )
    result = subprocess.run(  # noqa: S603 - the running interpreter, a fixed script
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert set(json.loads(result.stdout)) == CORE_MODULES

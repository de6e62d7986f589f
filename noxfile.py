"""Nox sessions: the test matrix, coverage, typing, lint, docs, examples, wheel.

``nox -l`` lists them. uv is used for the virtualenvs when it is installed,
plain virtualenv otherwise. A session whose interpreter is missing is skipped
by nox; ``.ci/run`` decides which ones must run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = False

# uv must never download an interpreter of its own: use the ones on PATH.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

ROOT = Path(__file__).parent
PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]
PSM_VERSIONS = ["2.5.0", "2.6.0", "3.0.0", "3.1.2", "3.2.2"]
NEWEST_PSM = PSM_VERSIONS[-1]
OLDEST_PSM = PSM_VERSIONS[0]
# python-statemachine releases that need a newer Python than the package does.
PSM_MIN_PYTHON = {"3.2.2": (3, 10)}
# Interpreter for the tooling sessions (typing, lint, docs, coverage, ...).
TOOLS_PYTHON = "3.12"

# Run by wheel_tests before pytest: the package must come from site-packages
# (not from a source tree) and must carry its py.typed marker.
WHEEL_CHECK = """
import pathlib, sys
import statemachines_orchestrator as package
path = pathlib.Path(package.__file__).resolve()
print("testing", path, "version", package.__version__)
if "site-packages" not in path.parts:
    sys.exit(f"not the installed wheel: {path}")
if not (path.parent / "py.typed").is_file():
    sys.exit("py.typed is missing from the installed wheel")
"""


def _version_tuple(python: str) -> tuple[int, ...]:
    return tuple(int(part) for part in python.split("."))


def psm_supports(python: str, psm: str) -> bool:
    """Whether python-statemachine ``psm`` installs on Python ``python``."""
    return _version_tuple(python) >= PSM_MIN_PYTHON.get(psm, (0,))


@nox.session(python=PYTHONS)
@nox.parametrize("psm", PSM_VERSIONS)
def tests(session: nox.Session, psm: str) -> None:
    """Run the test suite (and the README/docs doctests) under coverage.

    Extra arguments go to pytest: ``nox -s "tests-3.12(psm='3.2.2')" -- -k pickle``.
    """
    python = str(session.python)
    if not psm_supports(python, psm):
        minimum = ".".join(map(str, PSM_MIN_PYTHON[psm]))
        session.skip(f"python-statemachine {psm} requires Python >= {minimum}")
    session.install("-e", ".[test]", f"python-statemachine=={psm}")
    session.run(
        "coverage",
        "run",
        "-m",
        "pytest",
        *session.posargs,
        env={"COVERAGE_FILE": str(ROOT / f".coverage.{python}-{psm}")},
    )


@nox.session(python=TOOLS_PYTHON)
def tests_newest_psm(session: nox.Session) -> None:
    """Run the suite against the newest python-statemachine on PyPI, pre-releases included.

    Unpinned, so that a new release that changes the internals the fast path
    relies on is known the day it appears. Not measured for coverage.
    """
    session.install("-e", ".[test]")
    session.install("--upgrade", "--pre", "python-statemachine")
    session.run(
        "python",
        "-c",
        "import statemachine; print('python-statemachine', statemachine.__version__)",
    )
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=TOOLS_PYTHON)
def coverage(session: nox.Session) -> None:
    """Combine the data of every tests session and enforce 95 % coverage."""
    session.install("coverage[toml]>=7.10")
    session.run("coverage", "combine")
    session.run("coverage", "report", "--fail-under=95", "--show-missing")


@nox.session(python=TOOLS_PYTHON)
def typing(session: nox.Session) -> None:
    """Mypy and pyright (strict) on src and tests/typing, on both psm lines."""
    session.install("-e", ".[typing,test]", f"python-statemachine=={NEWEST_PSM}")
    session.run("mypy", *session.posargs)
    session.run("pyright", *session.posargs)
    # The 2.x line has different (partial) annotations: the package must
    # type-check against it as well.
    session.install(f"python-statemachine=={OLDEST_PSM}")
    session.run("mypy", *session.posargs)


@nox.session(python=TOOLS_PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install("ruff>=0.12")
    session.run("ruff", "check", *(session.posargs or ["."]))
    session.run("ruff", "format", "--check", *(session.posargs or ["."]))


@nox.session(python=TOOLS_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the HTML documentation; any Sphinx warning is an error."""
    session.install("-e", ".[docs,diagrams]")
    build_dir = ROOT / "docs" / "_build"
    shutil.rmtree(build_dir, ignore_errors=True)
    session.run(
        "sphinx-build",
        "-W",
        "--keep-going",
        "-b",
        "html",
        "docs",
        str(build_dir / "html"),
        *session.posargs,
    )


@nox.session(python=TOOLS_PYTHON)
def examples(session: nox.Session) -> None:
    """Run every examples/*.py script; any non-zero exit fails the session."""
    scripts = sorted((ROOT / "examples").glob("*.py"))
    if not scripts:
        session.error("no examples/*.py found")
    # Editable, so that a reused venv always runs the current source.
    session.install("-e", ".")
    for script in scripts:
        session.log(f"running {script.relative_to(ROOT)}")
        session.run("python", str(script))


@nox.session(python=TOOLS_PYTHON)
def wheel_tests(session: nox.Session) -> None:
    """Build sdist and wheel, check them, and test the *installed* wheel.

    The tests run from a temporary copy of tests/, benchmarks/, examples/,
    README.md, the docs' Markdown pages and pyproject.toml that has no src/
    directory, with --import-mode=importlib, so the only importable copy of the
    package is the one in site-packages.
    """
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.install("build[uv]>=1", "twine>=5")
    session.run("python", "-m", "build", "--installer=uv", "--outdir", str(dist), str(ROOT))
    artifacts = sorted(str(path) for path in dist.iterdir())
    session.run("twine", "check", "--strict", *artifacts)

    wheels = list(dist.glob("*.whl"))
    if len(wheels) != 1:
        session.error(f"expected exactly one wheel in dist/, found {wheels}")
    session.install(f"{wheels[0]}[test]")
    # A reused venv may hold an older build with the same version number.
    session.install("--force-reinstall", "--no-deps", str(wheels[0]))

    workdir = Path(session.create_tmp()) / "wheel-tests"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    shutil.copytree(ROOT / "tests", workdir / "tests")
    shutil.copytree(ROOT / "benchmarks", workdir / "benchmarks")
    shutil.copytree(ROOT / "examples", workdir / "examples")
    shutil.copy2(ROOT / "pyproject.toml", workdir)
    if (ROOT / "README.md").exists():
        shutil.copy2(ROOT / "README.md", workdir)
    shutil.copytree(
        ROOT / "docs",
        workdir / "docs",
        ignore=lambda _folder, names: [
            name for name in names if name == "_build" or name.endswith((".py", ".inv"))
        ],
    )
    if (ROOT / "conftest.py").exists():
        shutil.copy2(ROOT / "conftest.py", workdir)

    with session.chdir(workdir):
        session.run(
            "python",
            "-c",
            WHEEL_CHECK,
        )
        session.run(
            "python",
            "-m",
            "pytest",
            "--import-mode=importlib",
            "-p",
            "no:cacheprovider",
            *session.posargs,
        )

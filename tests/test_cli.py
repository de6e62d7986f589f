"""The command line, run as a real subprocess: ``python -m statemachines_orchestrator``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import statemachines_orchestrator
from statemachines_orchestrator import __version__

from ._graphviz import assert_dot_renders, dot_program, pydot_installed
from ._mermaid import assert_mermaid_parses, unavailable, unfence

ROOT = Path(__file__).resolve().parent.parent
SHOP = "tests.diagram_machines:Shop"
# The subprocess imports the package the tests import (a source tree or an
# installed wheel), and this repository's tests/ package, from any directory.
PACKAGE_ROOT = Path(statemachines_orchestrator.__file__).resolve().parent.parent


def environment(*first: Path, **changes: str) -> dict[str, str]:
    paths = [*map(str, first), str(PACKAGE_ROOT), str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths)), **changes}


def run(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [sys.executable, "-m", "statemachines_orchestrator", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env if env is not None else environment(),
        check=False,
        timeout=120,
    )


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], status: int, line: str
) -> None:
    assert result.returncode == status
    assert result.stdout == ""
    assert result.stderr == f"python -m statemachines_orchestrator: error: {line}\n"


def test_version() -> None:
    result = run("--version")
    assert (result.returncode, result.stdout) == (0, f"statemachines-orchestrator {__version__}\n")


def test_help_names_the_formats() -> None:
    result = run("diagram", "--help")
    assert result.returncode == 0
    assert "MODULE:NAME" in result.stdout
    assert ".mmd" in result.stdout
    assert ".svg" in result.stdout


def test_mermaid_goes_to_standard_output_without_output_file() -> None:
    result = run("diagram", SHOP)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("stateDiagram-v2\n")
    assert_mermaid_parses(result.stdout)


def test_direction_of_standard_output() -> None:
    result = run("diagram", SHOP, "--direction", "TB")
    assert "    direction TB\n" in result.stdout


@pytest.mark.parametrize("suffix", [".mmd", ".md", ".dot"])
def test_text_formats_from_the_suffix(tmp_path: Path, suffix: str) -> None:
    output = tmp_path / f"shop{suffix}"
    result = run("diagram", SHOP, "-o", str(output))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    text = output.read_text(encoding="utf-8")
    if suffix == ".mmd":
        assert_mermaid_parses(text)
    elif suffix == ".md":
        assert_mermaid_parses(unfence(text))
    else:
        assert_dot_renders(text)


@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_images_from_the_suffix(tmp_path: Path, suffix: str, magic: bytes) -> None:
    pydot_installed()
    dot_program()
    output = tmp_path / f"shop{suffix}"
    result = run("diagram", SHOP, "-o", str(output))
    assert (result.returncode, result.stderr) == (0, "")
    assert output.read_bytes().startswith(magic)


def test_a_module_in_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "myshop.py").write_text("from tests.diagram_machines import Shop as MyShop\n")
    result = run("diagram", "myshop:MyShop", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'state "order: OrderMachine"' in result.stdout


def test_an_instance_is_drawn_with_its_states(tmp_path: Path) -> None:
    (tmp_path / "live.py").write_text(
        "from tests.diagram_machines import new_shop\n"
        "SHOP = new_shop()\n"
        "SHOP.order.place(total=5)\n"
    )
    result = run("diagram", "live:SHOP", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "class order__paid, payment__authorized active" in result.stdout


def test_problems_are_warnings_on_standard_error(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(
        "from statemachine import State, StateMachine\n"
        "from statemachines_orchestrator import Orchestrator\n"
        "class A(StateMachine):\n"
        "    s = State(initial=True)\n"
        "    t = State(final=True)\n"
        "    go = s.to(t)\n"
        "    def on_go(self, orc):\n"
        "        orc.ghost.boo()\n"
        "class Solo(Orchestrator):\n"
        "    a: A\n"
    )
    result = run("diagram", "broken:Solo", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == (
        "statemachines-orchestrator: warning: A.on_go: "
        "calls orc.ghost.boo(), but Solo has no machine field 'ghost'\n"
    )


@pytest.mark.parametrize(
    ("target", "status", "line"),
    [
        (
            "tests.diagram_machines",
            2,
            (
                "'tests.diagram_machines' is not an import path: write MODULE:NAME, "
                "for example package.module:Shop"
            ),
        ),
        (
            "tests.no_such_module:Shop",
            1,
            "cannot import module 'tests.no_such_module': no module named 'tests.no_such_module'",
        ),
        (
            "tests.diagram_machines:Nope",
            1,
            "module 'tests.diagram_machines' has no attribute 'Nope'",
        ),
        (
            "tests.diagram_machines:Shop.missing",
            1,
            "tests.diagram_machines:Shop has no attribute 'missing'",
        ),
        (
            "tests.diagram_machines:OrderMachine",
            1,
            (
                "tests.diagram_machines:OrderMachine is the class 'OrderMachine', "
                "not an Orchestrator subclass or instance"
            ),
        ),
        (
            "tests.diagram_machines:NOT_AN_ORCHESTRATOR",
            1,
            (
                "tests.diagram_machines:NOT_AN_ORCHESTRATOR is an object of type 'int', "
                "not an Orchestrator subclass or instance"
            ),
        ),
        (
            "os:path.__import__('x')",
            2,
            (
                "\"os:path.__import__('x')\" is not an import path: "
                "write MODULE:NAME, for example package.module:Shop"
            ),
        ),
    ],
)
def test_bad_targets_are_one_line_errors(target: str, status: int, line: str) -> None:
    assert_one_line_error(run("diagram", target), status, line)


def test_a_module_that_raises_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "explodes.py").write_text("raise RuntimeError('boom\\nsecond line')\n")
    result = run("diagram", "explodes:Shop", cwd=tmp_path)
    assert_one_line_error(
        result, 1, "importing module 'explodes' raised RuntimeError: boom second line"
    )


def test_an_unknown_suffix_is_a_usage_error_before_any_import(tmp_path: Path) -> None:
    (tmp_path / "loud.py").write_text("print('imported!')\n")
    result = run("diagram", "loud:Shop", "-o", "shop.gif", cwd=tmp_path)
    assert_one_line_error(
        result,
        2,
        "cannot tell the diagram format of 'shop.gif' from '.gif': "
        "use one of .mmd, .md, .dot, .svg, .png",
    )


def test_usage_errors_are_one_line() -> None:
    result = run("diagram")
    assert result.returncode == 2
    assert result.stderr == (
        "python -m statemachines_orchestrator diagram: error: the following arguments are "
        "required: MODULE:NAME (see --help)\n"
    )


def test_a_missing_extra_says_what_to_install(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "pydot.py").write_text("raise ImportError('pydot is blocked by the test')\n")
    result = run("diagram", SHOP, "-o", str(tmp_path / "shop.svg"), env=environment(blocker))
    assert_one_line_error(
        result, 1, "SVG output needs pydot: pip install 'statemachines-orchestrator[diagrams]'"
    )


def test_a_missing_graphviz_says_to_install_it(tmp_path: Path) -> None:
    pydot_installed()
    no_dot = environment(PATH=str(tmp_path))  # no dot there
    result = run("diagram", SHOP, "-o", str(tmp_path / "shop.png"), env=no_dot)
    assert result.returncode == 1
    assert result.stderr.startswith(
        "python -m statemachines_orchestrator: error: PNG output needs Graphviz's dot program, "
        "which is not on PATH: install Graphviz (Debian/Ubuntu: apt-get install graphviz;"
    )
    assert result.stderr.count("\n") == 1


def test_an_unwritable_output_is_one_line(tmp_path: Path) -> None:
    result = run("diagram", SHOP, "-o", str(tmp_path / "missing" / "shop.mmd"))
    assert result.returncode == 1
    assert result.stderr.startswith("python -m statemachines_orchestrator: error: cannot write ")
    assert result.stderr.count("\n") == 1


def test_the_console_script() -> None:
    script = Path(sys.executable).with_name("statemachines-orchestrator")
    if not script.exists():
        unavailable("the console script is not installed: pip install -e .")
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [str(script), "--version"], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (0, f"statemachines-orchestrator {__version__}\n")

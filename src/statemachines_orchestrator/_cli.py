"""The command line: ``statemachines-orchestrator diagram package.module:Shop -o shop.svg``.

Also run as ``python -m statemachines_orchestrator``. It imports the one module
the user names (and what that module imports), looks the object up with
attribute access only, and runs nothing else. Every error is one line on
standard error, without a traceback: exit status 2 for a usage error (a
malformed ``MODULE:NAME``, an unknown file suffix), 1 for anything else.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from . import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence

PROG = "statemachines-orchestrator"
USAGE_ERROR = 2
FAILURE = 1


class CommandLineError(Exception):
    """An error the command line reports in one line, with its exit status.

    Args:
        message: What went wrong, in one line.
        status: The exit status.
    """

    def __init__(self, message: str, status: int = FAILURE) -> None:
        super().__init__(message)
        self.status = status


def _one_line(text: str) -> str:
    return " ".join(text.split())


def load(target: str) -> object:
    """The object ``module:qualname`` names: the module imported, then attributes read.

    Raises:
        CommandLineError: The path is malformed, the module cannot be imported,
            or an attribute is missing.
    """
    module_name, colon, qualname = target.partition(":")
    parts = qualname.split(".")
    modules = module_name.split(".")
    if not (colon and all(p.isidentifier() for p in parts + modules)):
        msg = (
            f"{target!r} is not an import path: write MODULE:NAME, for example package.module:Shop"
        )
        raise CommandLineError(msg, USAGE_ERROR)
    # As `python -m` does: modules in the current directory can be named.
    cwd = str(Path.cwd())
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj: object = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            msg = f"cannot import module {module_name!r}: no module named {error.name!r}"
        else:
            msg = f"importing module {module_name!r} failed: {error}"
        raise CommandLineError(_one_line(msg)) from None
    except Exception as error:  # noqa: BLE001 - the user's module may raise anything
        msg = f"importing module {module_name!r} raised {type(error).__name__}: {error}"
        raise CommandLineError(_one_line(msg)) from None
    owner = f"module {module_name!r}"
    for index, part in enumerate(parts):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            msg = f"{owner} has no attribute {part!r}"
            raise CommandLineError(msg) from None
        owner = f"{module_name}:{'.'.join(parts[: index + 1])}"
    return obj


def _diagram(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> None:
    # Imported here: the package's import must not load the diagram code.
    from .diagram import (  # noqa: PLC0415
        DiagramError,
        NotAnOrchestratorError,
        UnknownDiagramFormatError,
        extract,
        format_for_path,
        render,
        to_mermaid,
    )

    if args.output is not None:  # a bad suffix is found before any import
        try:
            format_for_path(args.output)
        except UnknownDiagramFormatError as error:
            raise CommandLineError(str(error), USAGE_ERROR) from None
    obj = load(args.target)
    try:
        graph = extract(obj)
    except NotAnOrchestratorError:
        msg = f"{args.target} is {_describe(obj)}, not an Orchestrator subclass or instance"
        raise CommandLineError(msg) from None
    stderr.writelines(f"{PROG}: warning: {_one_line(str(p))}\n" for p in graph.problems)
    try:
        if args.output is None:
            stdout.write(to_mermaid(graph, direction=args.direction))
        else:
            render(graph, args.output)
    except DiagramError as error:
        raise CommandLineError(_one_line(str(error))) from None
    except OSError as error:
        msg = f"cannot write {args.output!r}: {error.strerror or error}"
        raise CommandLineError(msg) from None


def _describe(obj: object) -> str:
    if isinstance(obj, type):
        return f"the class {obj.__name__!r}"
    return f"an object of type {type(obj).__name__!r}"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the usage too; one line is the rule here.
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="Tools for statemachines-orchestrator orchestrators.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    diagram = commands.add_parser(
        "diagram",
        help="draw an orchestrator's machines and the calls between them",
        description=(
            "Draw an orchestrator class (or instance) named MODULE:NAME. The format comes "
            "from the output file's suffix: .mmd (Mermaid), .md (Mermaid in Markdown), "
            ".dot (Graphviz), .svg and .png (these two need "
            "pip install 'statemachines-orchestrator[diagrams]' and Graphviz). Without "
            "-o, Mermaid goes to standard output. Only MODULE is imported."
        ),
    )
    diagram.add_argument("target", metavar="MODULE:NAME", help="for example shop.models:Shop")
    diagram.add_argument("-o", "--output", metavar="FILE", help="the file to write")
    diagram.add_argument(
        "--direction",
        choices=("LR", "TB", "RL", "BT"),
        default="LR",
        help="layout direction of Mermaid on standard output (default: LR)",
    )
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str = PROG) -> int:
    """Run the command line; return its exit status.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).
        prog: The program name shown in usage and errors.
    """
    args = _parser(prog).parse_args(argv)
    try:
        _diagram(args, sys.stdout, sys.stderr)
    except CommandLineError as error:
        sys.stderr.write(f"{prog}: error: {error}\n")
        return error.status
    return 0

"""Graphviz's ``dot``, for the tests: render every DOT text the package writes.

Without ``dot`` on PATH, the tests that need it skip, except when ``CI`` is
``true``: then they fail. ``bash .ci/setup-diagrams`` installs it.
"""

from __future__ import annotations

import shutil
import subprocess

from ._mermaid import unavailable


def pydot_installed() -> None:
    """Skip the test (fail it on CI) without pydot, the ``diagrams`` extra."""
    try:
        import pydot  # noqa: F401 - only to know that it imports
    except ImportError:
        unavailable("SVG and PNG need pydot: pip install -e '.[test]' (or '.[diagrams]')")


def dot_program() -> str:
    """The path of ``dot``; skips the test (fails it on CI) without one."""
    program = shutil.which("dot")
    if program is None:
        unavailable("Graphviz's dot is not on PATH: run `bash .ci/setup-diagrams`")
    assert program is not None
    return program


def assert_dot_renders(text: str, image_format: str = "svg") -> bytes:
    """Render DOT text with the real ``dot``; fail on an error or any warning."""
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [dot_program(), f"-T{image_format}"],
        input=text.encode("utf-8"),
        capture_output=True,
        check=False,
        timeout=60,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0, f"dot failed ({result.returncode}):\n{stderr}\n{text}"
    assert not stderr.strip(), f"dot warned:\n{stderr}\n{text}"
    return result.stdout

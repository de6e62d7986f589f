"""Mermaid's own parser, for the tests: one Node.js process for the whole session.

The parser is the npm package ``mermaid`` (with ``jsdom``), installed by
``bash .ci/setup-diagrams`` into ``$SMO_MERMAID_DIR`` (default: ``.ci/node`` in
the repository) and driven by ``tests/mermaid_parse.mjs`` over JSON lines.
Without Node.js or the package, the tests that need it skip, except when the
environment variable ``CI`` is ``true``: then they fail, so that CI cannot pass
by skipping them.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve().with_name("mermaid_parse.mjs")
SETUP = "run `bash .ci/setup-diagrams` (or set SMO_MERMAID_DIR to a folder with node_modules)"


def unavailable(reason: str) -> None:
    """Skip the test, or fail it on CI (``CI=true``), where nothing may be missing."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: required)", pytrace=False)
    pytest.skip(reason)


def mermaid_dir() -> Path:
    """Where the tests look for node_modules/mermaid."""
    return Path(os.environ.get("SMO_MERMAID_DIR") or ROOT / ".ci" / "node").resolve()


class _Parser:
    """A running ``node tests/mermaid_parse.mjs`` process."""

    def __init__(self, folder: Path) -> None:
        self.ids = itertools.count()
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            [str(shutil.which("node")), str(SCRIPT), str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        ready = self.process.stdout.readline() if self.process.stdout else ""
        if not ready:
            error = self.process.stderr.read() if self.process.stderr else ""
            msg = f"Mermaid's parser did not start: {error.strip()[-500:]}"
            raise RuntimeError(msg)
        atexit.register(self.close)

    def parse(self, text: str) -> str | None:
        """None if Mermaid parses ``text``, else its error message."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        request_id = next(self.ids)
        self.process.stdin.write(json.dumps({"id": request_id, "text": text}) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        assert answer["id"] == request_id
        return None if answer["ok"] else str(answer["error"])

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - node hung
            self.process.kill()


_parser: _Parser | None = None


def parser() -> _Parser:
    """The session's parser, started on first use; skips (or fails on CI) without it."""
    global _parser  # noqa: PLW0603 - one Node.js process for the whole session
    if _parser is None:
        if shutil.which("node") is None:
            unavailable(f"Mermaid's parser needs Node.js, which is not on PATH: {SETUP}")
        folder = mermaid_dir()
        if not (folder / "node_modules" / "mermaid").is_dir():
            unavailable(f"Mermaid's parser is not installed in {folder}: {SETUP}")
        _parser = _Parser(folder)
    return _parser


def assert_mermaid_parses(text: str) -> None:
    """Fail unless Mermaid's own parser accepts ``text``."""
    error = parser().parse(text)
    assert error is None, f"Mermaid rejects this text:\n{text}\n{error}"


def assert_mermaid_rejects(text: str) -> str:
    """Fail unless Mermaid's parser rejects ``text``; return its message."""
    error = parser().parse(text)
    assert error is not None, f"Mermaid accepts this text:\n{text}"
    return error


def unfence(markdown: str) -> str:
    """The Mermaid text inside a Markdown ``mermaid`` code fence."""
    lines = markdown.strip().splitlines()
    assert lines[0] == "```mermaid", markdown
    assert lines[-1] == "```", markdown
    return "\n".join(lines[1:-1]) + "\n"

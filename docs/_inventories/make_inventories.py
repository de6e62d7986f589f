"""Write the local intersphinx inventories used by docs/conf.py.

The documentation must build without network access, so ``docs/conf.py``
falls back on these files when the real ``objects.inv`` of docs.python.org or
python-statemachine.readthedocs.io cannot be fetched. They list only the
objects and pages this project's docs refer to, each with its real URL path.

Regenerate after adding a cross-reference to a new external object::

    python docs/_inventories/make_inventories.py

The output is the Sphinx inventory format, version 2: four plain header lines
followed by zlib-compressed lines of ``name domain:role priority uri dispname``
(``$`` at the end of ``uri`` stands for ``name``, a ``dispname`` of ``-`` means
the name itself).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).parent


class Entry(NamedTuple):
    """One line of an inventory."""

    name: str
    role: str
    uri: str
    dispname: str = "-"
    priority: int = 1


def _py(name: str, role: str, page: str, anchor: str = "$") -> Entry:
    return Entry(name, f"py:{role}", f"{page}#{anchor}")


def _module(name: str, page: str) -> Entry:
    return Entry(name, "py:module", f"{page}#module-{name}", priority=0)


PYTHON = (
    # Modules.
    _module("annotationlib", "library/annotationlib.html"),
    _module("asyncio", "library/asyncio.html"),
    _module("copy", "library/copy.html"),
    _module("dataclasses", "library/dataclasses.html"),
    _module("inspect", "library/inspect.html"),
    _module("pickle", "library/pickle.html"),
    _module("typing", "library/typing.html"),
    _module("weakref", "library/weakref.html"),
    # Functions and decorators.
    _py("asyncio.gather", "function", "library/asyncio-task.html"),
    _py("asyncio.run", "function", "library/asyncio-runner.html"),
    _py("copy.copy", "function", "library/copy.html"),
    _py("copy.deepcopy", "function", "library/copy.html"),
    _py("dataclasses.dataclass", "function", "library/dataclasses.html"),
    _py("dataclasses.field", "function", "library/dataclasses.html"),
    _py("inspect.signature", "function", "library/inspect.html"),
    _py("pickle.dumps", "function", "library/pickle.html"),
    _py("pickle.loads", "function", "library/pickle.html"),
    _py("typing.dataclass_transform", "function", "library/typing.html"),
    # Classes. docs.python.org files the typing special forms under py:data;
    # they are listed as py:class too, which is the role autodoc uses for
    # annotations.
    _py("typing.ClassVar", "data", "library/typing.html"),
    _py("typing.ClassVar", "class", "library/typing.html"),
    _py("typing.Any", "data", "library/typing.html"),
    _py("typing.Any", "class", "library/typing.html"),
    _py("typing.Generic", "class", "library/typing.html"),
    _py("typing.TypeVar", "class", "library/typing.html"),
    _py("weakref.ref", "class", "library/weakref.html"),
    _py("bool", "class", "library/functions.html"),
    _py("dict", "class", "library/stdtypes.html"),
    _py("int", "class", "library/functions.html"),
    _py("list", "class", "library/stdtypes.html"),
    _py("object", "class", "library/functions.html"),
    _py("str", "class", "library/stdtypes.html"),
    _py("tuple", "class", "library/stdtypes.html"),
    _py("type", "class", "library/functions.html"),
    _py("None", "data", "library/constants.html"),
    # Exceptions.
    _py("AttributeError", "exception", "library/exceptions.html"),
    _py("Exception", "exception", "library/exceptions.html"),
    _py("KeyError", "exception", "library/exceptions.html"),
    _py("NotImplementedError", "exception", "library/exceptions.html"),
    _py("RuntimeError", "exception", "library/exceptions.html"),
    _py("TypeError", "exception", "library/exceptions.html"),
    _py("ValueError", "exception", "library/exceptions.html"),
)

# python-statemachine documents its classes under their defining modules
# (statemachine.statemachine.StateMachine, ...) and re-exports them from the
# top-level package; both spellings resolve to the same anchor.
_STATEMACHINE_CLASSES = {
    "StateMachine": "statemachine.statemachine.StateMachine",
    "StateChart": "statemachine.statemachine.StateChart",
    "State": "statemachine.state.State",
    "Event": "statemachine.event.Event",
}

STATEMACHINE = (
    Entry("statemachine", "py:module", "api.html", priority=0),
    *(
        Entry(name, "py:class", f"api.html#{target}")
        for short, target in _STATEMACHINE_CLASSES.items()
        for name in (f"statemachine.{short}", target)
    ),
    # Pages (``{doc}`statemachine:listeners```) and their top labels
    # (``{ref}`statemachine:listeners```).
    Entry("listeners", "std:doc", "listeners.html", "Listeners", priority=-1),
    Entry("actions", "std:doc", "actions.html", "Actions", priority=-1),
    Entry("async", "std:doc", "async.html", "Async support", priority=-1),
    Entry("listeners", "std:label", "listeners.html#$", "Listeners", priority=-1),
    Entry("observers", "std:label", "listeners.html#$", "Listeners", priority=-1),
    Entry("actions", "std:label", "actions.html#$", "Actions", priority=-1),
    Entry("async", "std:label", "async.html#$", "Async support", priority=-1),
)


def render(project: str, version: str, entries: tuple[Entry, ...]) -> bytes:
    """Return the bytes of a version 2 Sphinx inventory."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = "".join(
        f"{entry.name} {entry.role} {entry.priority} {entry.uri} {entry.dispname}\n"
        for entry in sorted(entries)
    )
    return header.encode() + zlib.compress(lines.encode(), 9)


def main() -> None:
    """Write python.inv and statemachine.inv next to this script."""
    (HERE / "python.inv").write_bytes(render("Python", "3", PYTHON))
    (HERE / "statemachine.inv").write_bytes(
        render("python-statemachine", "3", STATEMACHINE),
    )


if __name__ == "__main__":
    main()

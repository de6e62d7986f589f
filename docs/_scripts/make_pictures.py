# ruff: noqa: INP001, T201 - a stand-alone script of the docs build (not a package); it prints what it wrote.
"""Draw the pictures of docs/diagrams.md from a real run of examples/ecommerce.py.

Run by docs/conf.py at every build (and runnable by hand:
``python docs/_scripts/make_pictures.py``). Writes into docs/_generated/
(ignored by git):

- ``ecommerce-class.mmd`` and ``ecommerce-class.svg``: the ``Shop`` class;
- ``ecommerce-instance.mmd`` and ``ecommerce-instance.svg``: a checkout after
  ``shop.order.place(total=120)``, its current states highlighted, with the
  calls a :class:`~statemachines_orchestrator.trace.Trace` of that run observed;
- ``ecommerce-sequence.mmd`` and ``ecommerce-timeline.txt``: that trace as a
  Mermaid sequence diagram and as a text timeline.

The SVG pictures need pydot (the ``diagrams`` extra) and Graphviz's ``dot``;
without them the script stops with the diagram package's own message.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

DOCS = Path(__file__).resolve().parent.parent
ROOT = DOCS.parent
GENERATED = DOCS / "_generated"


def load_example() -> ModuleType:
    """Import examples/ecommerce.py as a module (it is a script, not in a package)."""
    path = ROOT / "examples" / "ecommerce.py"
    spec = importlib.util.spec_from_file_location("ecommerce_example", path)
    if spec is None or spec.loader is None:  # pragma: no cover - the file is ours
        msg = f"cannot load {path}"
        raise ImportError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its string annotations are resolved there
    spec.loader.exec_module(module)
    return module


def main() -> list[Path]:
    """Write the pictures; return their paths."""
    from statemachines_orchestrator.diagram import render  # noqa: PLC0415 - after sys.path is set
    from statemachines_orchestrator.trace import Trace  # noqa: PLC0415

    example = load_example()
    shop = example.new_shop()
    with Trace(shop) as trace, contextlib.redirect_stdout(io.StringIO()):  # the story it tells
        shop.order.place(total=120)
    GENERATED.mkdir(exist_ok=True)
    written = [
        render(example.Shop, GENERATED / f"ecommerce-class{suffix}") for suffix in (".mmd", ".svg")
    ]
    written += [
        render(shop, GENERATED / f"ecommerce-instance{suffix}", trace=trace)
        for suffix in (".mmd", ".svg")
    ]
    sequence = GENERATED / "ecommerce-sequence.mmd"
    sequence.write_text(trace.mermaid(), encoding="utf-8")
    timeline = GENERATED / "ecommerce-timeline.txt"
    timeline.write_text(trace.timeline(times=False) + "\n", encoding="utf-8")
    return [*written, sequence, timeline]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    for path in main():
        print(path.relative_to(ROOT))

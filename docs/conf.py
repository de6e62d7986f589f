"""Sphinx configuration for the statemachines-orchestrator documentation.

Build with ``nox -s docs`` (or ``sphinx-build -W --keep-going -b html docs
docs/_build/html`` with the ``docs`` extra installed).
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# Document the source tree even when the package is not installed (it
# still needs its dependencies); an editable install resolves to the same files.
sys.path.insert(0, str(DOCS.parent / "src"))

import statemachines_orchestrator  # noqa: E402 - needs the sys.path entry above

sys.path.insert(0, str(DOCS / "_scripts"))
import make_pictures  # noqa: E402 - draws docs/_generated/ for diagrams.md

make_pictures.main()

# -- Project -----------------------------------------------------------------

project = "statemachines-orchestrator"
author = "statemachines-orchestrator contributors"
copyright = f"2026, {author}"
release = statemachines_orchestrator.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinxcontrib.mermaid",
]
source_suffix = {
    ".md": "markdown",
    ".rst": "restructuredtext",
}
root_doc = "index"
exclude_patterns = ["_build", "_inventories", "Thumbs.db", ".DS_Store"]

# -- MyST --------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- autodoc / napoleon --------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# -- intersphinx -------------------------------------------------------------
# Each project is tried online first and then from a local inventory in
# docs/_inventories/ (written by make_inventories.py), so the docs build the
# same offline. A failed fetch that has a working fallback is only an info
# message, not a warning, so ``-W`` is unaffected.

intersphinx_mapping = {
    "python": (
        "https://docs.python.org/3",
        (None, "_inventories/python.inv"),
    ),
    "statemachine": (
        "https://python-statemachine.readthedocs.io/en/latest",
        (None, "_inventories/statemachine.inv"),
    ),
}
intersphinx_timeout = 5

# -- HTML --------------------------------------------------------------------

html_theme = "furo"
html_title = f"statemachines-orchestrator {release}"

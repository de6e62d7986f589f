"""``python -m statemachines_orchestrator``: the command line (see :mod:`._cli`)."""

from __future__ import annotations

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m statemachines_orchestrator"))

"""Choose the injection adapter for the installed python-statemachine line.

The rest of the package talks to the engine only through the four names
exported here, so supporting a new line means adding one adapter module.
"""

from __future__ import annotations

import statemachine

if hasattr(statemachine, "StateChart"):  # python-statemachine 3.x
    from .statemachine3 import MACHINE_BASE, build, owner_of, unwire, wire
else:  # python-statemachine 2.5 and 2.6
    from .statemachine2 import MACHINE_BASE, build, owner_of, unwire, wire

__all__ = ["MACHINE_BASE", "RESERVED_CALLBACK_PARAMETERS", "build", "owner_of", "unwire", "wire"]

RESERVED_CALLBACK_PARAMETERS = frozenset(
    {
        # Passed to every callback by python-statemachine 2.x and 3.x.
        "event_data",
        "machine",
        "event",
        "model",
        "transition",
        "state",
        "source",
        "target",
        # Passed or accepted by 3.x: error.execution handlers, invoke handlers,
        # configuration changes (3.2), and the keyword arguments ``send()``
        # keeps for itself.
        "error",
        "ctx",
        "delay",
        "send_id",
        "internal",
        "event_kwargs",
        "previous_configuration",
        "new_configuration",
        # Bound by Python itself in every method.
        "self",
    }
)
"""Keywords python-statemachine already passes to callbacks, or keeps for itself.

They are reserved on every supported line, so that an orchestrator valid on one
line is valid on all.
"""

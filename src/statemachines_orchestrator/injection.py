"""The injection mechanism, and what differs per installed python-statemachine line.

The rest of the package talks to python-statemachine only through the names
exported here: :mod:`.callback_binding` wires machines on every supported line,
and one small module per line says which class machines derive from and how a
machine the orchestrator builds gets it before entering its initial state.
"""

from __future__ import annotations

import statemachine

from .callback_binding import unwire, wire, wire_registries

if hasattr(statemachine, "StateChart"):  # python-statemachine 3.x
    from .statemachine3 import MACHINE_BASE, build
else:  # python-statemachine 2.5 and 2.6
    from .statemachine2 import MACHINE_BASE, build

__all__ = [
    "MACHINE_BASE",
    "RESERVED_CALLBACK_PARAMETERS",
    "build",
    "unwire",
    "wire",
    "wire_registries",
]

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
        # configuration changes, and the keyword arguments ``send()``
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

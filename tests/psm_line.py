"""Which python-statemachine line the tests run against."""

from __future__ import annotations

import statemachine

PSM3 = hasattr(statemachine, "StateChart")
"""Whether the installed python-statemachine is a 3.x release."""

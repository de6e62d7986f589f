"""Shared fixtures and markers."""

from __future__ import annotations

import statemachine

PSM3 = hasattr(statemachine, "StateChart")
"""Whether the installed python-statemachine is a 3.x release."""

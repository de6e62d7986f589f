"""Atomic steps across machines: roll every machine back when a block raises."""

from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from . import _psm
from ._snapshot import declared_fields
from .exceptions import MachineBusyError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .orchestrator import Orchestrator

__all__ = ["atomic"]

_MISSING = object()


def _capture_data(source: Any, attributes: tuple[str, ...]) -> list[tuple[str, Any]]:
    return [(name, copy.deepcopy(getattr(source, name, _MISSING))) for name in attributes]


def _restore_data(source: Any, saved: list[tuple[str, Any]]) -> None:
    for name, value in saved:
        if value is _MISSING:
            if name in vars(source):
                delattr(source, name)
        else:
            # A copy again: the block may run (and roll back) more than once.
            setattr(source, name, copy.deepcopy(value))


@contextmanager
def atomic(orc: Orchestrator) -> Iterator[None]:
    """What :meth:`Orchestrator.atomic` returns."""
    machines = dict(orc.machines)
    for name, machine in machines.items():
        if _psm.is_processing(machine):
            msg = (
                f"{type(orc).__qualname__}: cannot begin an atomic block while machine "
                f"{name!r} is processing an event (called from one of its callbacks, or "
                f"another thread); begin it in the code that sends the event"
            )
            raise MachineBusyError(msg)
    saved = []
    for machine in machines.values():
        fields, model_fields = declared_fields(type(machine))
        saved.append(
            (
                machine,
                _psm.capture(machine),
                _capture_data(machine, fields),
                _capture_data(machine.model, model_fields),
            )
        )
    try:
        yield
    except BaseException:
        for machine, state, data, model in saved:
            _psm.restore_captured(machine, state)
            _restore_data(machine, data)
            _restore_data(machine.model, model)
        raise

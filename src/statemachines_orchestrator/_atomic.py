"""Atomic steps across machines: roll every machine back when a block raises."""

from __future__ import annotations

import copy
import operator
from typing import TYPE_CHECKING, Any

from . import _fan_in, _psm
from ._collections import label, labelled_machines
from ._snapshot import declared_fields
from .exceptions import MachineBusyError

if TYPE_CHECKING:
    from types import TracebackType

    from .orchestrator import Orchestrator

__all__ = ["atomic"]

_MISSING = object()

_Saved = tuple[Any, Any, list[tuple[str, Any]], list[tuple[str, Any]]]
"""A machine, its captured state, its snapshot fields and its model's, as on entry."""


def _capture_data(source: Any, attributes: tuple[str, ...]) -> list[tuple[str, Any]]:
    saved: list[tuple[str, Any]] = []
    for name in attributes:
        value = getattr(source, name, _MISSING)
        saved.append((name, value if value is _MISSING else copy.deepcopy(value)))
    return saved


def _restore_data(source: Any, saved: list[tuple[str, Any]]) -> None:
    for name, value in saved:
        if value is _MISSING:
            if name in vars(source):
                delattr(source, name)
        else:
            # A copy again: the block may run (and roll back) more than once.
            setattr(source, name, copy.deepcopy(value))


class Atomic:
    """What :meth:`Orchestrator.atomic` returns: a context manager that rolls back on error.

    Everything is captured on entry (so that one object may be entered again
    and nested blocks each roll back to their own start).
    """

    __slots__ = ("_memberships", "_orc", "_saved")

    def __init__(self, orc: Orchestrator) -> None:
        self._orc = orc
        self._saved: list[list[_Saved]] = []
        self._memberships: list[list[tuple[str, list[Any] | dict[str, Any]]]] = []

    def __enter__(self) -> None:
        orc = self._orc
        machines: dict[str, Any] = {}
        memberships: list[tuple[str, list[Any] | dict[str, Any]]] = []
        for name, key, machine in labelled_machines(orc):
            machines[label(name, key)] = machine
        for name, field in type(orc).__machine_fields__.items():
            value = vars(orc).get(name)
            if field.kind == "list" and value is not None:
                memberships.append((name, list(value)))
            elif field.kind == "dict" and value is not None:
                memberships.append((name, dict(value)))
        for name, machine in machines.items():
            if _psm.is_processing(machine):
                msg = (
                    f"{type(orc).__qualname__}: cannot begin an atomic block while machine "
                    f"{name!r} is processing an event (called from one of its callbacks, or "
                    f"another thread); begin it in the code that sends the event"
                )
                raise MachineBusyError(msg)
        saved: list[_Saved] = []
        for machine in machines.values():
            fields, model_fields = declared_fields(machine.__class__)
            saved.append(
                (
                    machine,
                    _psm.capture(machine),
                    _capture_data(machine, fields),
                    _capture_data(machine.model, model_fields),
                )
            )
        self._saved.append(saved)
        self._memberships.append(memberships)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        saved = self._saved.pop()
        memberships = self._memberships.pop()
        if exc_type is None:
            return
        orc = self._orc
        tracked = _fan_in.paused(orc)
        for name, members in memberships:
            # The members of the start, in their order (or under their keys): the
            # machines that joined in the block leave (unwired), those that left return.
            value = vars(orc).get(name)
            if value is not None and not _same(value, members):  # None: released in the block
                setattr(orc, name, members)
        for machine, state, data, model in saved:
            _psm.restore_captured(machine, state)
            _restore_data(machine, data)
            _restore_data(machine.model, model)
        if tracked:
            # Recounted from the machines as they are again; as on building, a
            # condition that holds now does not fire.
            _fan_in.start(orc)


def _same(value: Any, members: list[Any] | dict[str, Any]) -> bool:
    """Whether a collection holds the very ``members`` (same machines, same order or keys)."""
    if isinstance(members, list):
        return len(value) == len(members) and all(map(operator.is_, value, members))
    return value.keys() == members.keys() and all(value[k] is m for k, m in members.items())


def atomic(orc: Orchestrator) -> Atomic:
    """What :meth:`Orchestrator.atomic` returns."""
    return Atomic(orc)

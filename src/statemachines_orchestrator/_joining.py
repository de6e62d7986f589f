"""The rules a machine must meet to join an orchestrator, and the all-or-nothing joining.

A machine joins an orchestrator when it is given to (or built by) the
generated ``__init__``, assigned to a field, or restored with a copy. It must
be an instance of its field's class, belong to no other live orchestrator, be
given once, and not share a model and state field with another machine of the
orchestrator. Joining claims the machine (atomically: see
:mod:`._psm._ownership`) and then wires its callbacks; if anything fails, every
machine joined so far is unwired and freed again, so nothing is left half-wired.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _attachments, _psm
from ._fields import resolve_pending
from .exceptions import (
    InvalidMachineFieldError,
    MachineAlreadyOrchestratedError,
    MachineBusyError,
    MachineTypeMismatchError,
    StateFieldIsNotUniqueError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from ._fields import MachineField
    from .orchestrator import Orchestrator

__all__ = [
    "abandon",
    "attach",
    "build_missing",
    "check_machine",
    "detach",
    "post_init",
    "refuse_busy",
    "release",
    "resolve",
    "setup",
    "wire_all",
]


def resolve(cls: type[Orchestrator]) -> None:
    """Resolve the annotations of ``cls`` that were pending when it was defined."""
    # On failure the class stays pending: every later build reports it again
    # (with the module's names only: the function's locals were given up on).
    resolve_pending(cls.__qualname__, cls.__machine_fields__.values(), _psm.MACHINE_BASE)
    cls.__orchestrator_pending__ = False


def check_machine(
    orc: Orchestrator, field: MachineField, machine: Any, others: Mapping[str, Any]
) -> None:
    """Check that ``machine`` may be ``orc``'s ``field`` beside the ``others``."""
    # Messages are built only on failure: this runs for every machine given.
    if not isinstance(machine, field.expected_class):
        expected = field.expected_class
        got: Any = machine.__class__
        head = f"{type(orc).__qualname__}: machine field {field.name!r} expects an instance of"
        if getattr(got, "__qualname__", None) == expected.__qualname__:
            # A class redefined (a notebook cell run twice, a reload): same
            # name, another class. Tell the two apart.
            msg = (
                f"{head} {expected.__qualname__} (module {expected.__module__}, id "
                f"{id(expected):#x}), got an instance of another class of the same name (module "
                f"{got.__module__}, id {id(got):#x}), probably defined again after "
                f"{type(orc).__qualname__} was: {machine!r}"
            )
        else:
            msg = f"{head} {expected.__qualname__}, got {got.__qualname__} {machine!r}"
        raise MachineTypeMismatchError(msg)
    owner = _psm.owner_of(machine)
    if owner is not None and owner is not orc:
        _refuse_owned(orc, field.name, owner)
    if others:
        _check_against_others(orc, field, machine, others)


def _refuse_owned(orc: Orchestrator, name: str, owner: object) -> None:
    msg = (
        f"{type(orc).__qualname__}: the machine given for {name!r} already belongs "
        f"to {type(owner).__qualname__} at {id(owner):#x}; pass a new machine, or call "
        f"release() on that orchestrator first"
    )
    raise MachineAlreadyOrchestratedError(msg)


def _check_against_others(
    orc: Orchestrator, field: MachineField, machine: Any, others: Mapping[str, Any]
) -> None:
    """Refuse a machine given twice, or sharing a model and state field with another."""
    model, state_field = machine.model, machine.state_field
    for other_name, other in others.items():
        if other is machine:
            msg = (
                f"{type(orc).__qualname__}: the same {type(machine).__qualname__} instance is "
                f"given for {other_name!r} and {field.name!r}; each field needs a machine of "
                f"its own"
            )
            raise MachineAlreadyOrchestratedError(msg)
        if other.model is model and other.state_field == state_field:
            msg = (
                f"{type(orc).__qualname__}: machines {other_name!r} and {field.name!r} share one "
                f"model and both keep their state in its {state_field!r} attribute; give one "
                f"of them another state_field"
            )
            raise StateFieldIsNotUniqueError(msg)


def refuse_busy(orc: Orchestrator, names: Iterable[str], action: str) -> None:
    """Refuse ``action`` while one of the named machines is processing an event.

    Unwiring a machine in the middle of its own step would leave the rest of
    the step (its remaining callbacks, its queued events) without the
    orchestrator they were promised.
    """
    own = vars(orc)
    for name in names:
        machine = own.get(name)
        if isinstance(machine, (list, dict)):  # a collection: see _collections
            from ._collections import refuse_busy_members  # noqa: PLC0415 - imports this module

            refuse_busy_members(orc, machine, name, action)
            continue
        if machine is not None and _psm.is_processing(machine):
            msg = (
                f"{type(orc).__qualname__}: cannot {action} while machine {name!r} is "
                f"processing an event (called from one of its callbacks, or from another "
                f"thread); do it after the event, e.g. from the code that sent it"
            )
            raise MachineBusyError(msg)


def attach(machine: Any, orc: Orchestrator, name: str) -> None:
    """Claim ``machine`` for ``orc`` (field ``name``) and wire its callbacks."""
    mark = _psm.OwnerMark(orc)
    if not _psm.claim(machine, mark):
        _refuse_owned(orc, name, _psm.owner_of(machine))
    try:
        _psm.wire(machine, orc, type(orc).orchestrator_name)
        if _attachments.ATTACHED:  # listeners, traces: see _attachments
            _attachments.joined(orc, name, machine)
    except BaseException:
        _undo((machine,))
        raise


def detach(machine: Any) -> None:
    """Undo :func:`attach`: the machine is free even if unwiring fails."""
    try:
        _psm.unwire(machine)
    finally:
        _psm.free(machine)


def _undo(machines: Iterable[Any]) -> None:
    """Detach every machine while an error propagates: one failure does not stop the rest."""
    for machine in machines:
        try:
            detach(machine)
        except Exception:  # noqa: BLE001, PERF203, S112 - the error being handled is the one to report
            continue


def release(orc: Orchestrator) -> dict[str, Any]:
    """What :meth:`Orchestrator.release` does, which a subclass may override."""
    own = vars(orc)
    machines = {name: own[name] for name in type(orc).__machine_fields__ if name in own}
    for name, machine in machines.items():
        if isinstance(machine, (list, dict)):  # a collection: see _collections
            from ._collections import detach_collection  # noqa: PLC0415 - imports this module

            machines[name] = detach_collection(machine)
        else:
            detach(machine)
        del own[name]
    if type(orc).__dict__.get("__orchestrator_coordinated__"):
        from ._collections import released  # noqa: PLC0415

        released(orc)
    return machines


def abandon(orc: Orchestrator) -> None:
    """Release every machine of ``orc`` while an error propagates (a failed construction)."""
    own = vars(orc)
    names = [name for name in type(orc).__machine_fields__ if name in own]
    _undo(own[name] for name in names)
    for name in names:
        del own[name]


def wire_all(orc: Orchestrator, machines: Mapping[str, Any]) -> None:
    """Attach every machine to ``orc``, or none: a failure detaches those done.

    The general path of the generated ``__init__``, and copies; the inline path
    does the same for the common case.
    """
    mark = _psm.OwnerMark(orc)
    claimed: list[Any] = []
    try:
        for name, machine in machines.items():
            if not _psm.claim(machine, mark):
                # Another thread's orchestrator won the machine since it was checked.
                _refuse_owned(orc, name, _psm.owner_of(machine))
            claimed.append(machine)
        keyword = type(orc).orchestrator_name
        for machine in claimed:
            _psm.wire(machine, orc, keyword)
    except BaseException:
        _undo(claimed)
        raise


def setup(orc: Orchestrator, values: tuple[Any, ...], cls: type[Orchestrator]) -> None:
    """Check, store and wire the machines the generated ``__init__`` of ``cls`` received.

    When ``orc`` is an instance of a subclass of ``cls`` (a subclass's own
    ``__init__`` called ``super().__init__(...)``), the values are handed to
    the subclass's generated ``__init__`` by field name, so that the
    subclass's ``built()`` fields are built too.
    """
    if type(orc) is not cls:
        _setup_subclass(orc, values, cls)
        return
    if cls.__orchestrator_pending__:
        resolve(cls)
    given: dict[str, Any] = {}
    missing: list[MachineField] = []
    for field, value in zip(cls.__machine_fields__.values(), values):
        if value is field.built:
            missing.append(field)
        else:
            check_machine(orc, field, value, given)
            given[field.name] = value

    own = vars(orc)
    own.update(given)
    try:
        wire_all(orc, given)
    except BaseException:
        for field_name in given:
            del own[field_name]
        raise
    if missing:
        build_missing(orc, missing)
    _attachments.log_events_if_debug(orc)
    if cls.__orchestrator_post_init__:
        post_init(orc)


def _setup_subclass(orc: Orchestrator, values: tuple[Any, ...], cls: type[Orchestrator]) -> None:
    subclass = type(orc)
    fields = cls.__machine_fields__
    given = {
        name: value
        for (name, field), value in zip(fields.items(), values)
        if value is not field.built
    }
    required = [
        name
        for name, field in subclass.__machine_fields__.items()
        if field.built is None and name not in fields
    ]
    if required:
        names = ", ".join(repr(name) for name in required)
        msg = (
            f"{subclass.__qualname__}.__init__ called {cls.__qualname__}.__init__, which takes "
            f"only {cls.__qualname__}'s fields, but {subclass.__qualname__} also requires "
            f"{names}: call Orchestrator.__init__(self, ...) with every field of "
            f"{subclass.__qualname__} instead (it runs {subclass.__qualname__}'s generated "
            f"__init__), or give those fields a built() default"
        )
        raise InvalidMachineFieldError(msg)
    subclass.__orchestrator_init__(orc, **given)


def post_init(orc: Orchestrator) -> None:
    """Run ``__post_init__`` once every machine is wired; if it fails, release them."""
    # As dataclasses do, and as 0.0.4 orchestrators (dataclasses) did.
    try:
        orc.__post_init__()  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    except BaseException:
        abandon(orc)
        raise


def build_missing(orc: Orchestrator, missing: list[MachineField]) -> None:
    """Build, in declaration order, the machines the caller left to the orchestrator."""
    own = vars(orc)
    name = type(orc).orchestrator_name
    machine = None
    try:
        for field in missing:
            assert field.built is not None  # noqa: S101 - only built fields are missing
            machine = _psm.build(field.built.factory, orc, name)
            check_machine(orc, field, machine, orc.machines)
            own[field.name] = machine
            attach(machine, orc, field.name)  # build() may have wired it already: idempotent
    except BaseException:
        # build() wires a machine before it is checked: a refused one is not
        # among the machines release() hands back.
        if machine is not None and machine not in orc.machines.values():
            _undo((machine,))
        abandon(orc)
        raise

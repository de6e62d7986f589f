"""The one home of everything that names a python-statemachine internal.

The rest of the package reaches python-statemachine's private structure only
through the names exported here. The installed line is checked once, below
(:data:`IS_V3`). When the private structure the fast injection path rewrites is
recognised (:mod:`._binding` checks its layout, and a probe machine checks that
every callback kind really receives the orchestrator), machines are wired by
rewriting their callbacks (:data:`FAST`); otherwise the package warns once with
:class:`~statemachines_orchestrator.EngineInternalsWarning` and injects through
python-statemachine's public ``prepare_event`` hook (:mod:`._fallback`), or, on
2.x, which has no such hook, refuses to build orchestrators.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Callable

import statemachine

from statemachines_orchestrator.exceptions import EngineInternalsWarning, EngineNotSupportedError

from . import _binding, _deferred, _fallback, _listening, _members, _observe
from ._members import UnknownState, add_listener_once, events_of, is_final, state_test
from ._ownership import KEY as OWNER_KEY
from ._ownership import MARK_PROBLEM, FallbackOwners, Mark, OwnerMark, RegistryOwners
from ._state import (
    ChartShape,
    build_in_state,
    build_with_value,
    capture,
    clear_queues,
    has_queued_events,
    illegal_configuration,
    is_idle,
    read_state,
    restore_captured,
    shape_of,
    write_history,
    write_state,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "CURRENT_EVENT",
    "FAST",
    "FIELD_PARAMETER",
    "IS_V3",
    "MACHINE_BASE",
    "OWNED_LISTENERS",
    "OWNER_KEY",
    "PLAIN_REGISTRY",
    "REGISTRY_PATH",
    "RESERVED_CALLBACK_PARAMETERS",
    "UNRECOGNISED",
    "VERSION",
    "Mark",
    "OwnerMark",
    "PendingRegistry",
    "UnknownState",
    "add_listener_once",
    "build",
    "claim",
    "configuration_of",
    "deferral_plans",
    "events_of",
    "free",
    "is_final",
    "is_processing",
    "join_all",
    "listen",
    "own_listeners",
    "owner_of",
    "state_test",
    "unlisten",
    "unwatch",
    "unwire",
    "watch",
    "watched",
    "wire",
    "wire_machines",
    "wire_registries",
]
# Snapshots and atomic steps (._state).
__all__ += [
    "ChartShape",
    "build_in_state",
    "build_with_value",
    "capture",
    "clear_queues",
    "has_queued_events",
    "illegal_configuration",
    "is_idle",
    "read_state",
    "registry_of",
    "restore_captured",
    "shape_of",
    "write_history",
    "write_state",
]

VERSION: str = str(getattr(statemachine, "__version__", "unknown"))
"""The installed python-statemachine's version."""

IS_V3: bool = hasattr(statemachine, "StateChart")
"""Whether the installed python-statemachine is a 3.x release (the line check)."""

MACHINE_BASE: type[Any] = (
    statemachine.StateChart  # type: ignore[attr-defined, unused-ignore]
    if IS_V3
    else statemachine.StateMachine
)
"""The class every machine field's class must derive from on this line."""

REGISTRY_PATH = _binding.REGISTRY_PATH
"""The attribute path of a machine's callback registry (for the generated ``__init__``)."""

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
        # Passed or accepted by 3.x: error.execution handlers, invoke handlers
        # and their done.invoke events, configuration changes, and the keyword
        # arguments ``send()`` keeps for itself.
        "error",
        "ctx",
        "data",
        "delay",
        "send_id",
        "internal",
        "event_kwargs",
        "previous_configuration",
        "new_configuration",
        # Handed to callbacks evaluated by 3.x's SCXML support (statemachine.io),
        # and the keyword its callback registry takes for itself.
        "In",
        "_event",
        "_invokeid",
        "on_error",
        # Bound by Python itself in every method.
        "self",
    }
)
"""Keywords python-statemachine already passes to callbacks, or keeps for itself.

They are reserved on every supported line, so that an orchestrator valid on one
line is valid on all. ``tests/test_engine_adapters.py`` finds them in the
installed python-statemachine's source and checks that each is listed here.
"""


def _build_before_start(factory: type[Any], wire_: Callable[[Any], None]) -> Any:
    """Build a machine of class ``factory``, wired once its callbacks exist.

    Every supported line builds its callback registry in the constructor, then
    creates its engine (``_get_engine``), then enters the initial state: an
    instance attribute shadowing ``_get_engine`` for the duration of the
    constructor wires the machine between the two, whatever arguments the
    class's own ``__init__`` takes.
    """
    cls: Any = factory
    machine: Any = cls.__new__(cls)

    def get_engine_wired(*args: Any, **kwargs: Any) -> Any:
        wire_(machine)
        return cls._get_engine(machine, *args, **kwargs)

    machine._get_engine = get_engine_wired  # noqa: SLF001
    try:
        init: Any = machine.__init__
        init()
    finally:
        del machine._get_engine  # noqa: SLF001
    return machine


def _probe() -> None:
    """Check on a real machine that every callback kind receives the orchestrator.

    Raises:
        _binding.Unrecognised: Some callback kind did not receive it.
    """
    base: Any = MACHINE_BASE
    seen: list[tuple[str, object]] = []

    class Probe(base):  # type: ignore[misc]
        a = statemachine.State(initial=True)
        b = statemachine.State()
        go = a.to(b, cond="ok", validators="valid") | b.to(a, cond="ok and not ko")

        def ok(self, orc: object) -> bool:
            seen.append(("guard", orc))
            return True

        def ko(self, orc: object) -> bool:
            seen.append(("expression", orc))
            return False

        def valid(self, orc: object) -> None:
            seen.append(("validator", orc))

        def on_go(self, orc: object) -> None:
            seen.append(("action", orc))

        def on_enter_a(self, orc: object = None) -> None:
            seen.append(("initial", orc))

        def on_enter_b(self, orc: object) -> None:
            seen.append(("enter", orc))

    token = object()
    machine = _build_before_start(Probe, lambda m: _binding.wire(m, token, "orc"))
    machine.go()
    machine.go()
    wrong = sorted({kind for kind, orc in seen if orc is not token})
    expected = {"guard", "expression", "validator", "action", "initial", "enter"}
    missing = sorted(expected - {kind for kind, _ in seen})
    if wrong or missing:
        msg = (
            "a probe machine's callbacks did not receive the orchestrator: "
            f"{', '.join(wrong + missing)}"
        )
        raise _binding.Unrecognised(msg)
    machine_registry = machine._callbacks._registry  # noqa: SLF001 - REGISTRY_PATH
    if not isinstance(machine_registry, dict):
        msg = f"{REGISTRY_PATH} is a {type(machine_registry).__name__}, not a dict"
        raise _binding.Unrecognised(msg)


def _recognise() -> str | None:
    """Return why the fast path cannot be used here, or ``None`` when it can."""
    if MARK_PROBLEM is not None:
        return MARK_PROBLEM
    try:
        _binding.recognise()
        _probe()
    except _binding.Unrecognised as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - any failure means "not the layout we know"
        return f"{type(exc).__name__}: {exc}"
    return None


UNRECOGNISED: str | None = _recognise()
"""Why the fast path is off (what was not recognised), or ``None`` when it is on."""

FAST: bool = UNRECOGNISED is None
"""Whether machines are wired by rewriting their callbacks (the fast path)."""

if not FAST:
    _consequence = (
        "injecting the orchestrator through the public prepare_event hook instead (slower)"
        if IS_V3
        else "orchestrators cannot be built on this version"
    )
    warnings.warn(
        EngineInternalsWarning(
            f"statemachines-orchestrator does not recognise the internals of the installed "
            f"python-statemachine {VERSION} ({UNRECOGNISED}); {_consequence}. See "
            f"https://statemachines-orchestrator.readthedocs.io/en/latest/engine-notes.html"
        ),
        stacklevel=2,
    )


def _unsupported(*_args: object) -> Any:
    msg = (
        f"statemachines-orchestrator cannot inject the orchestrator on python-statemachine "
        f"{VERSION}: its internals are not the ones this release knows ({UNRECOGNISED}), "
        f"and the 2.x line has no public hook to fall back on. Install a supported "
        f"release (pip install 'python-statemachine>=2.5,<2.7' or a 3.x release), or "
        f"upgrade statemachines-orchestrator"
    )
    raise EngineNotSupportedError(msg)


def _fast_wire(machine: Any, orc: object, name: str) -> None:
    """Make every callback of ``machine`` that asks for ``name`` receive ``orc``."""
    _binding.wire(machine, orc, name)
    _listening.own(machine)


def _fast_unwire(machine: Any) -> None:
    """Undo :func:`wire`, and detach the orchestrator's listeners and observers."""
    _deferred.cancel(machine)
    _binding.unwire(machine)
    _listening.disown(machine)
    _listening.unlisten_all(machine)
    _observe.unwatch(machine)


_owners: RegistryOwners | FallbackOwners
wire: Callable[[Any, object, str], None]
unwire: Callable[[Any], None]
if FAST:
    _owners = RegistryOwners()
    wire = _fast_wire
    unwire = _fast_unwire
elif IS_V3:
    _owners = FallbackOwners()
    wire = _fallback.wire
    unwire = _fallback.unwire
else:
    _owners = FallbackOwners()
    wire = unwire = _unsupported

claim = _owners.claim
free = _owners.free
owner_of = _owners.owner_of


def registry_of(machine: Any) -> Any:
    """A machine's callback registry (:data:`REGISTRY_PATH`; fast path only)."""
    return machine._callbacks._registry  # noqa: SLF001


def _join_all(machines: Sequence[Any], mark: Mark, orc: object, name: str) -> int:
    owners = _owners
    assert isinstance(owners, FallbackOwners)  # noqa: S101 - only off the fast path
    return _members.join_all(machines, mark, orc, name, owners, wire)


join_all: Callable[[Sequence[Any], Mark, object, str], int] = (
    _members.join_registries if FAST else _join_all
)
"""Claim and wire a batch of machines for one orchestrator (see :func:`._members.join_all`):
``-1``, or the index of the first machine another live orchestrator owns."""


wire_machines = _deferred.wire_machines
"""Wire freshly claimed machines, now or on their first use (:mod:`._deferred`; fast path)."""

PendingRegistry = _deferred.PendingRegistry
PLAIN_REGISTRY = _deferred.PLAIN_REGISTRY
deferral_plans = _deferred.plans


def wire_registries(registries: Iterable[Mapping[str, Any]], orc: object, name: str) -> None:
    """:func:`wire` several machines at once, given their callback registries (fast path only)."""
    _binding.wire_registries(registries, orc, name)


def build(factory: Callable[..., Any], orc: object, name: str) -> Any:
    """Build a machine whose initial-state callbacks receive the orchestrator.

    A machine class (whatever its ``__init__`` takes) is built with no
    arguments and wired before it enters its initial state, on every line. Any
    other factory is called with the orchestrator as its only keyword argument
    on 3.x (the constructor of a 3.x machine hands it to those callbacks), and
    with no arguments on 2.x; its machine is wired once built.
    """
    if isinstance(factory, type) and issubclass(factory, MACHINE_BASE):
        if FAST:
            return _build_before_start(factory, lambda m: wire(m, orc, name))
        if IS_V3 and hasattr(factory, "_get_engine"):
            return _build_before_start(factory, lambda m: _fallback.wire(m, orc, name))
        if not IS_V3:
            return _unsupported()
    return factory(**{name: orc}) if IS_V3 else factory()


def is_processing(machine: Any) -> bool:
    """Whether ``machine`` is processing an event right now (in any thread or task)."""
    lock = getattr(getattr(machine, "_engine", None), "_processing", None)
    return lock is not None and bool(lock.locked())


def configuration_of(machine: Any) -> Any:
    """The machine's current state value, or the list of active values of a 3.x chart."""
    values = getattr(machine, "configuration_values", None)
    if values is None:
        return machine.current_state_value
    values = list(values)
    return values[0] if len(values) == 1 else values


# --------------------------------------------------------------------------- listeners, traces

OWNED_LISTENERS = _listening.OwnedListeners
"""The class a wired machine's ``_listeners`` takes (see :mod:`._listening`)."""
own_listeners = _listening.own_all

FIELD_PARAMETER = _listening.FIELD_PARAMETER
CURRENT_EVENT = _observe.CURRENT
listen = _listening.listen
unlisten = _listening.unlisten
watch = _observe.watch
unwatch = _observe.unwatch
watched = _observe.watched

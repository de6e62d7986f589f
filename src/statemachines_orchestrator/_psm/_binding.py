"""Bind the orchestrator into a machine's callbacks (python-statemachine 2.5 to 3.2).

python-statemachine resolves every callback of a machine once, when the machine
is built, into a per-instance registry: each entry wraps a closure made by
``statemachine.dispatcher.callable_method``, which binds the keyword arguments of
each call to the callback's signature. Boolean guard expressions
(``cond="a and not b"``) combine such closures in ``statemachine.spec_parser``.

Wiring replaces, in that registry of one machine instance, the closure of each
callback that declares the orchestrator's parameter (or ``**kwargs``) by a
method bound to the callback's parts (see :func:`_wired`) that binds the same
way and adds the orchestrator.
Callbacks that do not ask for it are not touched, and no event carries an extra
keyword argument through python-statemachine's layers, so injection costs
nothing per event beyond the callbacks that use it. Every line from 2.5 to 3.2
shares this structure; ``tests/test_engine_adapters.py`` pins it.

A machine's ``__getstate__`` drops its registry and ``__setstate__`` resolves it
anew, so a copied or unpickled machine carries no orchestrator; the
orchestrator's own ``__setstate__`` wires the copies.
"""

from __future__ import annotations

from inspect import Parameter
from types import CodeType, FunctionType, MethodType
from typing import TYPE_CHECKING, Any, Callable

from statemachine import dispatcher

from statemachines_orchestrator.exceptions import CallbackSignatureError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

__all__ = [
    "REGISTRY_PATH",
    "Unrecognised",
    "composite_wired",
    "recognise",
    "unwire",
    "wire",
    "wire_registries",
    "wired_parts",
]

REGISTRY_PATH = "_callbacks._registry"
"""Where a machine keeps its per-instance callback registry (a ``dict`` of executors)."""


class Unrecognised(Exception):  # noqa: N818 - an internal signal, never raised to users
    """The installed python-statemachine is not laid out as this module expects."""


_callable_method: Callable[[Any], Any]
# Set by recognise(), once.
_adapter_codes: tuple[CodeType, ...] = ()
"""Code of the sync and async closures ``callable_method`` wraps callbacks in."""
_bind_cell: int = -1
_func_cell: int = -1
"""Positions, in those closures, of the bound signature's ``bind_expected`` and of
the callback (the same in both: a closure's cells are ordered by name)."""


def _missing(_callback: Any) -> Any:  # pragma: no cover - stands for a missing function
    raise NotImplementedError


def recognise() -> None:
    """Check that python-statemachine's internals are the ones this module rewrites.

    On success, record what :func:`wire` needs; never raises anything but
    :class:`Unrecognised`, whose message says what was not found.
    """
    global _callable_method, _adapter_codes, _bind_cell, _func_cell  # noqa: PLW0603
    method: Callable[[Any], Any] = getattr(dispatcher, "callable_method", None) or _missing
    code = getattr(method, "__code__", None)
    if method is _missing or not isinstance(code, CodeType):
        msg = "statemachine.dispatcher.callable_method is not a plain function"
        raise Unrecognised(msg)
    codes = tuple(
        const
        for const in code.co_consts
        if isinstance(const, CodeType) and const.co_name == "signature_adapter"
    )
    if len(codes) != 2:  # noqa: PLR2004 - one sync and one async closure
        msg = (
            "statemachine.dispatcher.callable_method does not make one sync and one async "
            f"'signature_adapter' closure (found {len(codes)})"
        )
        raise Unrecognised(msg)
    cells: list[int] = []
    for name in ("sig_bind_expected", "a_callable"):
        positions = {c.co_freevars.index(name) if name in c.co_freevars else -1 for c in codes}
        if len(positions) != 1 or -1 in positions:
            msg = f"the 'signature_adapter' closures do not keep {name!r} in one cell"
            raise Unrecognised(msg)
        cells.append(positions.pop())
    _callable_method = method
    _adapter_codes = codes
    _bind_cell, _func_cell = cells


_COMPOSITES = "statemachine.spec_parser"


def _call_with_orchestrator(parts: _Parts, /, *args: Any, **kwargs: Any) -> Any:
    # What python-statemachine's own signature adapter does, with the
    # orchestrator among the keyword arguments it binds from (an event argument
    # of the same name gives way to it): binding it then costs what binding
    # ``machine`` or ``event`` does.
    bind, func, orc, name = parts
    kwargs[name] = orc
    bound = bind(*args, **kwargs)
    return func(*bound.args, **bound.kwargs)


_Parts = tuple[Callable[..., Any], Callable[..., Any], object, str]
"""A wired callback's signature binder, callback, orchestrator and keyword."""


def _wired(bind: Callable[..., Any], func: Callable[..., Any], orc: object, name: str) -> Any:
    # A method bound to a tuple, not a functools.partial: calling it costs the
    # same, and making one allocates less (a partial also makes an empty
    # keyword dictionary), which building every orchestrator feels.
    return MethodType(_call_with_orchestrator, (bind, func, orc, name))


def wired_parts(callback: Any) -> _Parts | None:
    """The parts of a callback :func:`wire` made, or ``None`` for any other callback."""
    if type(callback) is MethodType and callback.__func__ is _call_with_orchestrator:
        method: Any = callback
        parts: _Parts = method.__self__
        return parts
    return None


_WANTS: dict[str, dict[int, bool]] = {}
"""Whether a signature asks for a keyword: by keyword, then by ``id`` of signature.

Keyed by ``id`` because hashing a Signature hashes all its parameters.
python-statemachine keeps one signature per callback function for the life of
the process; :data:`_SIGNATURES` keeps those seen here alive too, so that no
``id`` is reused.
"""

_SIGNATURES: list[object] = []


def _wants(signature: Any, name: str, func: object) -> bool:
    """Whether ``signature`` asks for ``name``: by that name, or through ``**kwargs``.

    Raises:
        CallbackSignatureError: ``name`` is a positional-only parameter of
            ``func``, which no keyword could ever fill.
    """
    cache = _WANTS.get(name)
    if cache is None:
        cache = _WANTS[name] = {}
    wants = cache.get(id(signature))
    if wants is None:
        parameters = signature.parameters
        parameter = parameters.get(name)
        if parameter is None:
            wants = any(p.kind is Parameter.VAR_KEYWORD for p in parameters.values())
        elif parameter.kind is Parameter.POSITIONAL_ONLY:
            callback = getattr(func, "__qualname__", None) or repr(func)
            msg = (
                f"{callback}() declares {name!r} as a positional-only parameter (before '/'), "
                f"but the orchestrator is passed by keyword; move {name!r} after the '/'"
            )
            raise CallbackSignatureError(msg)
        else:
            wants = parameter.kind is not Parameter.VAR_POSITIONAL
        _SIGNATURES.append(signature)
        cache[id(signature)] = wants
    return wants


def _bind(orc: object, name: str) -> Callable[[Any], Any]:
    def bind_orchestrator(callback: Any) -> Any:
        if getattr(callback, "__code__", None) not in _adapter_codes:
            return None
        closure = callback.__closure__
        bind = closure[_bind_cell].cell_contents
        func = closure[_func_cell].cell_contents
        if not _wants(bind.__self__, name, func):
            return None
        return _wired(bind, func, orc, name)

    return bind_orchestrator


def composite_wired(callback: Any) -> bool:
    """Whether ``callback`` is a guard expression over a callback :func:`wire` made."""
    if not (isinstance(callback, FunctionType) and callback.__module__ == _COMPOSITES):
        return False
    for cell in callback.__closure__ or ():
        try:
            inner = cell.cell_contents
        except ValueError:  # pragma: no cover - an empty cell
            continue
        if wired_parts(inner) is not None or composite_wired(inner):
            return True
    return False


def _unbind(callback: Any) -> Any:
    parts = wired_parts(callback)
    return None if parts is None else _callable_method(parts[1])


def _replace(callback: Any, replacement: Callable[[Any], Any]) -> Any:
    """Return the replacement of ``callback``, or ``None``.

    Guard expressions are closures over other callbacks: their closure cells
    are updated in place, and ``None`` is returned for the expression itself.
    """
    new = replacement(callback)
    if new is not None:
        return new
    if isinstance(callback, FunctionType) and callback.__module__ == _COMPOSITES:
        for cell in callback.__closure__ or ():
            inner = cell.cell_contents
            new_inner = _replace(inner, replacement)
            if new_inner is not None:
                cell.cell_contents = new_inner
    return None


def _callbacks(machine: Any) -> Iterator[Any]:
    """The callback wrappers of ``machine``, from its per-instance registry."""
    for executor in machine._callbacks._registry.values():  # noqa: SLF001 - see REGISTRY_PATH
        yield from executor.items


def _rewrite(machine: Any, replacement: Callable[[Any], Any]) -> None:
    for wrapper in _callbacks(machine):
        new = _replace(wrapper._callback, replacement)  # noqa: SLF001
        if new is not None:
            wrapper._callback = new  # noqa: SLF001


def wire(machine: Any, orc: object, name: str) -> None:
    """Make every callback of ``machine`` that asks for ``name`` receive ``orc``."""
    wire_registries((machine._callbacks._registry,), orc, name)  # noqa: SLF001 - see module doc


def wire_registries(registries: Iterable[Mapping[str, Any]], orc: object, name: str) -> None:
    """:func:`wire` several machines, given their callback registries.

    A machine's registry is ``machine._callbacks._registry``.
    """
    # The common case inline, in as few steps as it takes: this runs for every
    # machine of every orchestrator built. Code objects are compared by
    # identity (a dictionary lookup would hash them); guard expressions go
    # through the generic _replace.
    code_a, code_b = _adapter_codes  # sync and async
    wants = _WANTS.get(name) or {}
    for registry in registries:
        for executor in registry.values():
            for wrapper in executor.items:
                callback = wrapper._callback  # noqa: SLF001
                try:
                    code = callback.__code__
                except AttributeError:  # not a function: wired already, or not ours to wire
                    continue
                if code is code_a or code is code_b:
                    closure = callback.__closure__
                    bind = closure[_bind_cell].cell_contents
                    want = wants.get(id(bind.__self__))
                    func = closure[_func_cell].cell_contents
                    if want or (want is None and _wants(bind.__self__, name, func)):
                        wrapper._callback = MethodType(  # noqa: SLF001
                            _call_with_orchestrator, (bind, func, orc, name)
                        )
                elif callback.__module__ == _COMPOSITES:
                    _replace(callback, _bind(orc, name))


def unwire(machine: Any) -> None:
    """Undo :func:`wire`: the machine's callbacks are as python-statemachine built them."""
    _rewrite(machine, _unbind)


def adapter_parts(callback: Any) -> tuple[Callable[..., Any], Callable[..., Any]] | None:
    """The signature binder and the function of a closure ``callable_method`` made, or ``None``."""
    if getattr(callback, "__code__", None) not in _adapter_codes:
        return None
    closure = callback.__closure__
    return closure[_bind_cell].cell_contents, closure[_func_cell].cell_contents

"""Bind the orchestrator into a machine's callbacks (python-statemachine 2.5 to 3.2).

python-statemachine resolves every callback of a machine once, when the machine
is built, into a per-instance registry: each entry wraps a closure made by
``statemachine.dispatcher.callable_method``, which binds the keyword arguments of
each call to the callback's signature. Boolean guard expressions
(``cond="a and not b"``) combine such closures in ``statemachine.spec_parser``.

Wiring replaces, in that registry of one machine instance, the closure of each
callback that declares the orchestrator's parameter (or ``**kwargs``) by a
:func:`functools.partial` that binds the same way and adds the orchestrator.
Callbacks that do not ask for it are not touched, and no event carries an extra
keyword argument through python-statemachine's layers, so injection costs
nothing per event beyond the callbacks that use it. Every line from 2.5 to 3.2
shares this structure; ``tests/test_engine_adapters.py`` pins it.

A machine's ``__getstate__`` drops its registry and ``__setstate__`` resolves it
anew, so a copied or unpickled machine carries no orchestrator; the
orchestrator's own ``__setstate__`` wires the copies.
"""

from __future__ import annotations

from functools import partial
from inspect import Parameter
from types import CodeType, FunctionType
from typing import TYPE_CHECKING, Any, Callable

from statemachine import dispatcher

_callable_method: Callable[[Any], Any] = dispatcher.callable_method  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

__all__ = ["unwire", "wire", "wire_registries"]

_ADAPTER_CODES: tuple[CodeType, ...] = tuple(
    const
    for const in _callable_method.__code__.co_consts
    if isinstance(const, CodeType) and const.co_name == "signature_adapter"
)
"""Code of the sync and async closures ``callable_method`` wraps callbacks in."""

_BIND_CELL, _FUNC_CELL = (
    _ADAPTER_CODES[0].co_freevars.index("sig_bind_expected"),
    _ADAPTER_CODES[0].co_freevars.index("a_callable"),
)
"""Positions, in those closures, of the bound signature's ``bind_expected`` and of
the callback (the same in both: a closure's cells are ordered by name)."""

_COMPOSITES = "statemachine.spec_parser"


def _call_with_orchestrator(
    bind: Callable[..., Any],
    func: Callable[..., Any],
    orc: object,
    name: str,
    /,
    *args: Any,
    **kwargs: Any,
) -> Any:
    # What python-statemachine's own signature adapter does, with the
    # orchestrator among the keyword arguments it binds from (an event argument
    # of the same name gives way to it): binding it then costs what binding
    # ``machine`` or ``event`` does.
    kwargs[name] = orc
    bound = bind(*args, **kwargs)
    return func(*bound.args, **bound.kwargs)


_WANTS: dict[str, dict[int, bool]] = {}
"""Whether a signature asks for a keyword: by keyword, then by ``id`` of signature.

Keyed by ``id`` because hashing a Signature hashes all its parameters.
python-statemachine keeps one signature per callback function for the life of
the process; :data:`_SIGNATURES` keeps those seen here alive too, so that no
``id`` is reused.
"""

_SIGNATURES: list[object] = []


def _wants(signature: Any, name: str) -> bool:
    """Whether ``signature`` asks for ``name``: by that name, or through ``**kwargs``."""
    cache = _WANTS.get(name)
    if cache is None:
        cache = _WANTS[name] = {}
    wants = cache.get(id(signature))
    if wants is None:
        parameters = signature.parameters
        parameter = parameters.get(name)
        if parameter is None:
            wants = any(p.kind is Parameter.VAR_KEYWORD for p in parameters.values())
        else:
            wants = parameter.kind is not Parameter.VAR_POSITIONAL
        _SIGNATURES.append(signature)
        cache[id(signature)] = wants
    return wants


def _bind(orc: object, name: str) -> Callable[[Any], Any]:
    def bind_orchestrator(callback: Any) -> Any:
        if getattr(callback, "__code__", None) not in _ADAPTER_CODES:
            return None
        closure = callback.__closure__
        bind = closure[_BIND_CELL].cell_contents
        if not _wants(bind.__self__, name):
            return None
        func = closure[_FUNC_CELL].cell_contents
        return partial(_call_with_orchestrator, bind, func, orc, name)

    return bind_orchestrator


def _unbind(callback: Any) -> Any:
    if isinstance(callback, partial) and callback.func is _call_with_orchestrator:
        return _callable_method(callback.args[1])
    return None


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
    for executor in machine._callbacks._registry.values():  # noqa: SLF001 - see module doc
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
    code_a, code_b = _ADAPTER_CODES  # sync and async
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
                    bind = closure[_BIND_CELL].cell_contents
                    want = wants.get(id(bind.__self__))
                    if want or (want is None and _wants(bind.__self__, name)):
                        func = closure[_FUNC_CELL].cell_contents
                        wrapper._callback = partial(  # noqa: SLF001
                            _call_with_orchestrator, bind, func, orc, name
                        )
                elif callback.__module__ == _COMPOSITES:
                    _replace(callback, _bind(orc, name))


def unwire(machine: Any) -> None:
    """Undo :func:`wire`: the machine's callbacks are as python-statemachine built them."""
    _rewrite(machine, _unbind)

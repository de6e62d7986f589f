"""Read and resolve the annotations a class declares itself.

Python 3.14 (PEP 649 and PEP 749) no longer stores ``__annotations__`` in the
class namespace; annotations are computed on demand, and a name that cannot be
resolved yet must be asked for as a forward reference. :mod:`annotationlib` is
used where it exists; older Pythons read the namespace.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
import typing
from typing import TYPE_CHECKING, Any, ClassVar, ForwardRef

import typing_extensions

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import ModuleType

if sys.version_info >= (3, 14):  # pragma: no cover - present only on 3.14+, tested with a stand-in
    import annotationlib as _annotationlib
else:
    _annotationlib = None

__all__ = [
    "UNRESOLVED",
    "is_classvar",
    "names_in",
    "own_annotations",
    "resolve",
    "undefined_names",
]

annotationlib: ModuleType | None = _annotationlib
"""The :mod:`annotationlib` module where the running Python has it, else ``None``."""


class _Unresolved:
    """Marker for an annotation whose names cannot be resolved (yet)."""

    def __repr__(self) -> str:
        return "UNRESOLVED"


UNRESOLVED: Any = _Unresolved()
"""What :func:`resolve` returns for an annotation it cannot evaluate."""


def own_annotations(cls: type) -> dict[str, Any]:
    """Return the annotations ``cls`` declares in its own body, in order.

    Names that cannot be resolved are kept as strings or forward references;
    nothing is evaluated that would fail.
    """
    if annotationlib is not None:
        return dict(annotationlib.get_annotations(cls, format=annotationlib.Format.FORWARDREF))
    # ``cls.__annotations__`` would fall back to a base's on Python < 3.10.
    return dict(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063 - see the comment above


def _expression(annotation: object) -> str | None:
    if isinstance(annotation, ForwardRef):
        annotation = annotation.__forward_arg__
    if not isinstance(annotation, str):
        return None
    # ``x: "Machine"`` under ``from __future__ import annotations`` is "'Machine'".
    expression = annotation.strip()
    while len(expression) > 1 and expression[0] == expression[-1] and expression[0] in "'\"":
        expression = expression[1:-1].strip()
    return expression


def resolve(
    annotation: object,
    owner: type,
    scope: Mapping[str, Any] | None = None,
    globalns: Mapping[str, Any] | None = None,
) -> Any:
    """Evaluate ``annotation`` as declared in ``owner``'s body.

    Strings and forward references are evaluated in the module that defines
    ``owner`` (or in ``globalns``, the globals where the class statement ran
    when they are not that module's: a doctest, ``exec``), with ``scope`` (the
    local names where the class statement ran, for a class defined in a
    function) and then ``owner``'s namespace as locals.
    Returns :data:`UNRESOLVED` when a name is not defined (yet).
    """
    expression = _expression(annotation)
    if expression is None:
        return annotation
    localns = dict(scope or {})
    localns.update(vars(owner))
    localns.setdefault(owner.__name__, owner)
    try:
        # Evaluating annotation strings is what typing.get_type_hints does.
        return eval(expression, dict(_globals_of(owner, globalns)), localns)  # noqa: S307
    except Exception:  # noqa: BLE001 - any failure means "not resolvable yet"
        return UNRESOLVED


def names_in(annotation: object, owner: type) -> list[str]:
    """The names a string annotation mentions that ``owner``'s body does not define.

    For ``"mod.Machine"`` that is ``mod``; builtins are left out. An annotation
    that is no string, or no valid expression, mentions none.
    """
    expression = _expression(annotation)
    if expression is None:
        # ``list["Machine"]``: the names of the forward references inside.
        inner = [names_in(arg, owner) for arg in typing_extensions.get_args(annotation)]
        return list(dict.fromkeys(name for names in inner for name in names))
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return []
    names = dict.fromkeys(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))
    defined = vars(owner)
    return [n for n in names if n not in defined and n != owner.__name__ and n not in _BUILTINS]


_BUILTINS = vars(builtins)


def _globals_of(owner: type, globalns: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if globalns is not None:
        return globalns
    module = sys.modules.get(owner.__module__)
    return vars(module) if module is not None else {}


def undefined_names(
    annotation: object,
    owner: type,
    scope: Mapping[str, Any] | None = None,
    globalns: Mapping[str, Any] | None = None,
) -> list[str]:
    """The names of :func:`names_in` that neither the globals nor ``scope`` define."""
    defined = _globals_of(owner, globalns)
    return [n for n in names_in(annotation, owner) if n not in defined and n not in (scope or {})]


_CLASSVAR_STRING = re.compile(r"^\s*(?:[A-Za-z_]\w*\.)*ClassVar\b")
_CLASSVARS = (ClassVar, typing_extensions.ClassVar)


def is_classvar(annotation: object) -> bool:
    """Whether ``annotation`` is ``ClassVar`` or ``ClassVar[...]``, even as a string."""
    expression = _expression(annotation)
    if expression is not None:
        return _CLASSVAR_STRING.match(expression) is not None
    origin = typing.get_origin(annotation)
    return any(annotation is c or origin is c for c in _CLASSVARS)

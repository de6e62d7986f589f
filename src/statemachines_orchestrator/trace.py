"""Record every event an orchestrator's machines process, and which event sent it.

>>> from statemachine import State, StateMachine
>>> from statemachines_orchestrator import Orchestrator
>>> from statemachines_orchestrator.trace import Trace
>>> class Order(StateMachine):
...     cart = State(initial=True)
...     placed = State(final=True)
...     place = cart.to(placed)
...     def after_place(self, orc, amount):
...         orc.payment.authorize(amount=amount)
>>> class Payment(StateMachine):
...     pending = State(initial=True)
...     authorized = State(final=True)
...     authorize = pending.to(authorized)
>>> class Shop(Orchestrator):
...     order: Order
...     payment: Payment
>>> shop = Shop(order=Order(), payment=Payment())
>>> with Trace(shop) as trace:
...     shop.order.place(amount=30)
>>> print(trace.timeline(times=False))
order.place(amount=30): 'cart' -> 'placed' (taken)
  payment.authorize(amount=30): 'pending' -> 'authorized' (taken)
>>> trace.records[1].cause is trace.records[0]
True

Each :class:`TraceRecord` says which machine (its field name) processed which
event, with which arguments, from which state to which, when, with what
outcome, and which earlier record, in whichever machine, sent it (its
``cause``). Events queued while a machine was busy keep the cause of the
callback that sent them, and asyncio tasks keep the cause of the code that
created them (the current event is a :mod:`contextvars` variable).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from . import _attachments
from ._records import NOT_ALLOWED, RAISED, TAKEN, TraceRecord

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .orchestrator import Orchestrator

__all__ = ["NOT_ALLOWED", "RAISED", "TAKEN", "Trace", "TraceRecord"]

TraceRecord.__module__ = __name__


class Trace(_attachments.Attachable):
    """Records every event the machines of one orchestrator process, while it is attached.

    Use it as a context manager (``with Trace(orc) as trace:``), or call
    :meth:`attach` and :meth:`detach`. Machines that join the orchestrator
    while the trace is attached are traced too; machines that leave it are not.

    Args:
        orchestrator: The orchestrator whose machines to trace.

    Attributes:
        orchestrator: The orchestrator traced.
        records: The records, in the order their events began.
    """

    _what = "a trace"

    def __init__(self, orchestrator: Orchestrator) -> None:
        self.orchestrator = orchestrator
        self.records: list[TraceRecord] = []
        self._observer = _attachments.Observer(begin=self.records.append)

    def clear(self) -> None:
        """Forget the records kept so far."""
        self.records.clear()

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[TraceRecord]:
        return iter(self.records)

    def __repr__(self) -> str:
        state = "attached" if self._attached else "detached"
        return f"<Trace {type(self.orchestrator).__name__} {state}, {len(self.records)} records>"

    # ----------------------------------------------------------------- reading

    def roots(self) -> list[TraceRecord]:
        """The records no other record of this trace caused, in order."""
        kept = {id(r) for r in self.records}
        return [r for r in self.records if r.cause is None or id(r.cause) not in kept]

    def children(self, record: TraceRecord) -> list[TraceRecord]:
        """The records ``record`` caused, in order."""
        return [r for r in self.records if r.cause is record]

    def _tree(self) -> Iterator[tuple[int, TraceRecord]]:
        """Every record with its depth, each after its cause (depth first)."""
        kept = {id(r) for r in self.records}
        children: dict[int, list[TraceRecord]] = {}
        roots: list[TraceRecord] = []
        for record in self.records:
            cause = record.cause
            if cause is None or id(cause) not in kept:
                roots.append(record)
            else:
                children.setdefault(id(cause), []).append(record)
        stack = [(0, r) for r in reversed(roots)]
        while stack:
            depth, record = stack.pop()
            yield depth, record
            stack.extend((depth + 1, r) for r in reversed(children.get(id(record), ())))

    # ----------------------------------------------------------------- exports

    def to_dicts(self) -> list[dict[str, Any]]:
        """The records as JSON-ready dictionaries; ``cause`` is the index of the cause, or None."""
        index = {id(r): i for i, r in enumerate(self.records)}
        return [
            {
                "index": i,
                "field": r.field,
                "event": r.event,
                "arguments": r.arguments,
                "source": _jsonable(r.source),
                "target": _jsonable(r.target),
                "started": r.started,
                "ended": r.ended,
                "outcome": r.outcome,
                "error": r.error,
                "cause": None if r.cause is None else index.get(id(r.cause)),
            }
            for i, r in enumerate(self.records)
        ]

    def to_jsonl(self) -> str:
        """The records as JSON Lines: one object per line (see :meth:`to_dicts`)."""
        return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in self.to_dicts())

    def write_jsonl(self, path: str) -> None:
        """Write :meth:`to_jsonl` to the file ``path`` (UTF-8)."""
        with open(path, "w", encoding="utf-8") as file:  # noqa: PTH123 - a str path is enough
            file.write(self.to_jsonl())

    def timeline(self, *, times: bool = True) -> str:
        """A readable timeline: one line per record, indented under the record that caused it.

        Args:
            times: Start each line with the milliseconds since the first record began.
        """
        if not self.records:
            return ""
        origin = self.records[0].started
        lines: list[str] = []
        for depth, r in self._tree():
            when = f"{(r.started - origin) * 1000:9.3f} ms  " if times else ""
            states = f"{r.source!r} -> {r.target!r}"
            error = f" {r.error}" if r.error else ""
            lines.append(
                f"{when}{'  ' * depth}{r.field}.{r.event}{r.arguments}: {states} "
                f"({r.outcome}){error}"
            )
        return "\n".join(lines)

    def mermaid(self) -> str:
        """A Mermaid sequence diagram: one participant per machine, one message per record.

        An event sent by another machine's callback is an arrow from that
        machine; an event sent from outside is an arrow from the machine to
        itself. Events that took no transition end in a cross (``-x``), and a
        note gives the states reached.
        """
        declared = type(self.orchestrator).__machine_fields__
        # A collection's members are participants once they take part (``items[0]``).
        fields = [name for name, field in declared.items() if field.kind == "single"]
        for r in self.records:
            if r.field not in fields:
                fields.append(r.field)
        ids: dict[str, str] = {}
        for f in fields:
            base = ident = _mermaid_id(f)
            taken = set(ids.values())
            suffix = 1
            while ident in taken:  # items['a b'] and items['a_b'] share a base
                ident = f"{base}_{suffix}"
                suffix += 1
            ids[f] = ident
        lines = ["sequenceDiagram"]
        lines += [f"    participant {ids[f]} as {_mermaid_text(f)}" for f in fields]
        kept = {id(r) for r in self.records}
        for r in self.records:
            cause = r.cause if r.cause is not None and id(r.cause) in kept else None
            sender = ids[cause.field if cause is not None else r.field]
            arrow = "->>" if r.outcome == TAKEN else "-x"
            text = _mermaid_text(f"{r.event}{r.arguments}")
            lines.append(f"    {sender}{arrow}{ids[r.field]}: {text}")
            note = f"{r.source!r} to {r.target!r}" if r.outcome == TAKEN else r.outcome
            if r.error:
                note = f"{note}: {r.error}"
            lines.append(f"    Note right of {ids[r.field]}: {_mermaid_text(note)}")
        return "\n".join(lines) + "\n"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return repr(value)


_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _mermaid_id(name: str) -> str:
    return "m_" + _UNSAFE.sub("_", name)


_ENTITIES = str.maketrans({"\n": " ", "\r": " ", "#": "#35;", ";": "#59;", "%": "#37;"})


def _mermaid_text(text: str) -> str:
    # Mermaid message text ends at a line break; ';' ends a statement, '#'
    # starts an entity code and '%%' a comment: entity codes keep them readable.
    return text.translate(_ENTITIES)

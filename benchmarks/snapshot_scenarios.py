"""The snapshot workloads: restoring against unpickling, taking a snapshot against restoring.

The orchestrator is the ping-pong table of ``scenarios.py`` (two machines), in
the middle of a rally and with one attribute of data (``rally_left``), which
the snapshot saves as a snapshot field and pickle as an instance attribute.
"""

from __future__ import annotations

import json
import pickle
from typing import TYPE_CHECKING, Callable, ClassVar

from scenarios import ReceiverOrc, ServerOrc

from statemachines_orchestrator import Orchestrator

if TYPE_CHECKING:
    from measure import Clock, Sampler

__all__ = ["RESTORE", "SNAPSHOT"]


class SavedServer(ServerOrc):
    """The server, saving how many balls it still returns."""

    snapshot_fields: ClassVar[tuple[str, ...]] = ("rally_left",)


class Court(Orchestrator):
    """A server and a receiver."""

    server: SavedServer
    receiver: ReceiverOrc


def _court() -> Court:
    """A court in the middle of a game: both players moved, data set."""
    court = Court(server=SavedServer(), receiver=ReceiverOrc())
    court.server.rally_left = 1
    court.server.hit()  # server, receiver, server: each moves
    court.server.rally_left = 7
    return court


def _repeated(action: Callable[[], object]) -> Sampler:
    """One ``action()`` per iteration; every result stays alive until the clock stops."""

    def sample(n: int, clock: Clock) -> int:
        kept: list[object] = [None] * n
        start = clock()
        for i in range(n):
            kept[i] = action()
        return clock() - start

    return sample


_COURT = _court()
_PICKLED = pickle.dumps(_COURT)
_TEXT = json.dumps(_COURT.snapshot())

# Both restore the same orchestrator, in the same configuration, with the same data.
assert pickle.loads(_PICKLED).snapshot() == Court.restore(json.loads(_TEXT)).snapshot()  # noqa: S301, S101 - our own bytes; a sanity check of the workloads


def _unpickle() -> object:
    return pickle.loads(_PICKLED)  # noqa: S301 - our own bytes


def _restore() -> object:
    return Court.restore(json.loads(_TEXT))


def _snapshot() -> object:
    return json.dumps(_COURT.snapshot())


RESTORE = (_repeated(_unpickle), _repeated(_restore))
"""Baseline and candidate: ``pickle.loads`` of the court, ``Court.restore(json.loads(text))``."""

SNAPSHOT = (_repeated(_restore), _repeated(_snapshot))
"""Baseline and candidate: restoring the court, ``json.dumps(court.snapshot())``."""

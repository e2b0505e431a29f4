"""How the store's writes are doing: waits, latency and failures (O5).

The engine reports every call on its writer thread here. The store is
``degraded`` while a write has waited longer than :data:`WRITE_WAIT_BOUND_S`,
or when the last write failed or was that slow less than
:data:`RECENT_S` ago; a fast, successful write clears it. ``down`` means the
store is closed.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from wall.platform.health import ComponentHealth, Status

WRITE_WAIT_BOUND_S = 1.0
"""A write slower than this (queue wait included) makes the store degraded."""
RECENT_S = 30.0
"""How long a failed or slow write keeps the store degraded without news."""


@dataclass(frozen=True, slots=True)
class _Outcome:
    at_s: float
    latency_s: float
    error: str | None


class WriteWatch:
    """Writes in flight and the last outcome, read by ``/healthz``.

    The engine reports a write when it submits it (event loop) and when the
    worker thread is done with it (that thread), hence the lock.

    Args:
        clock: Monotonic seconds (tests pass a settable one).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tickets = itertools.count()
        self._waiting: dict[int, float] = {}
        self._last: _Outcome | None = None
        self._failures = 0
        self._lock = threading.Lock()

    def started(self) -> int:
        """A write was submitted; returns its ticket for :meth:`finished`."""
        with self._lock:
            ticket = next(self._tickets)
            self._waiting[ticket] = self._clock()
        return ticket

    def finished(self, ticket: int, error: str | None = None) -> None:
        """The write of ``ticket`` committed (``error`` None) or failed."""
        with self._lock:
            started = self._waiting.pop(ticket, None)
            now = self._clock()
            latency_s = 0.0 if started is None else now - started
            self._last = _Outcome(now, latency_s, error)
            if error is not None:
                self._failures += 1

    def health(self, is_open: bool) -> ComponentHealth:
        """The store's health entry (``store``)."""
        with self._lock:
            now = self._clock()
            waits = list(self._waiting.values())
            last, failures = self._last, self._failures
        longest = now - min(waits) if waits else 0.0
        detail: dict[str, object] = {
            "kind": "sqlite",
            "writes_waiting": len(waits),
            "longest_wait_s": round(longest, 3),
            "last_write_ms": None if last is None else round(last.latency_s * 1000, 1),
            "write_failures": failures,
        }
        if not is_open:
            return ComponentHealth("store", Status.DOWN, detail | {"reason": "closed"})
        reason = _trouble(last, now, longest)
        if reason is None:
            return ComponentHealth("store", Status.OK, detail)
        return ComponentHealth("store", Status.DEGRADED, detail | {"reason": reason})


def _trouble(last: _Outcome | None, now: float, longest_s: float) -> str | None:
    if longest_s > WRITE_WAIT_BOUND_S:
        return f"a write has waited {longest_s:.1f} s"
    if last is None or now - last.at_s > RECENT_S:
        return None
    if last.error is not None:
        return f"the last write failed: {last.error}"
    if last.latency_s > WRITE_WAIT_BOUND_S:
        return f"the last write took {last.latency_s:.1f} s"
    return None

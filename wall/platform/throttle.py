"""Throttling of failed authentications per client address (O1).

A guessing client is refused for a while after too many failures in a
window; other addresses are not affected. Memory is bounded: only the most
recently failing addresses are remembered.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_ADDRESSES = 4096
"""Addresses remembered at most; the longest-quiet one is forgotten first."""


@dataclass(slots=True)
class _Record:
    failures_monotonic_s: deque[float] = field(default_factory=deque)
    blocked_until_monotonic_s: float = 0.0


class FailureThrottle:
    """Counts failures per address and blocks an address that fails too often.

    Args:
        limit: Failures within ``window_s`` that block the address.
        window_s: Sliding window, seconds.
        block_s: How long a blocked address is refused, seconds.
        monotonic: Clock in seconds (tests inject one).
        max_addresses: Bound on remembered addresses.

    Examples:
        >>> t = [0.0]
        >>> throttle = FailureThrottle(2, 60, 30, monotonic=lambda: t[0])
        >>> throttle.fail("10.0.0.9"), throttle.fail("10.0.0.9")
        (False, True)
        >>> throttle.retry_after_s("10.0.0.9"), throttle.retry_after_s("10.0.0.8")
        (30.0, None)
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        block_s: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        if limit < 1 or window_s <= 0 or block_s <= 0 or max_addresses < 1:
            raise ValueError("throttle limit, window, block and size must be > 0")
        self._limit = limit
        self._window_s = window_s
        self._block_s = block_s
        self._monotonic = monotonic
        self._max = max_addresses
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self.blocked_total = 0
        """Addresses blocked since start (a counter for metrics)."""

    def retry_after_s(self, address: str) -> float | None:
        """Seconds until ``address`` may try again, or ``None`` if it may now."""
        record = self._records.get(address)
        if record is None:
            return None
        left = record.blocked_until_monotonic_s - self._monotonic()
        return left if left > 0 else None

    def fail(self, address: str) -> bool:
        """Count one failure of ``address``; ``True`` if it is now blocked."""
        now = self._monotonic()
        record = self._records.pop(address, None) or _Record()
        self._records[address] = record  # most recent last
        while len(self._records) > self._max:
            self._records.popitem(last=False)
        failures = record.failures_monotonic_s
        failures.append(now)
        while failures and failures[0] <= now - self._window_s:
            failures.popleft()
        if len(failures) >= self._limit:
            failures.clear()
            record.blocked_until_monotonic_s = now + self._block_s
            self.blocked_total += 1
            return True
        return False

    @property
    def tracked(self) -> int:
        """Addresses remembered now."""
        return len(self._records)

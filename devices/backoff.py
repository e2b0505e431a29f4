"""Reconnect backoff: capped exponential delays with full jitter (pure)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """Jittered exponential backoff.

    The n-th consecutive failure waits a random time in
    [base·2ⁿ⁻¹ / 2, base·2ⁿ⁻¹], capped at ``max_s``; :meth:`reset` after a
    healthy period starts again from ``initial_s``. Jitter spreads the
    reconnects of many cameras that failed together (a switch reboot).

    Examples:
        >>> b = Backoff(initial_s=1.0, max_s=30.0, rng=random.Random(1))
        >>> all(b.next_delay_s() <= 30.0 for _ in range(20))
        True
    """

    initial_s: float = 0.5
    max_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next_delay_s(self) -> float:
        """Record a failure and return how long to wait before retrying."""
        self.failures += 1
        ceiling = min(self.max_s, self.initial_s * 2.0 ** min(self.failures - 1, 30))
        jitter: float = self.rng.random()
        return ceiling / 2 + jitter * ceiling / 2

    def reset(self) -> None:
        """Forget past failures."""
        self.failures = 0

"""One reading as rules see it: value, observed time, monotonic time, quality.

The monotonic time is the reading's moment on the service's monotonic clock
(its receipt on that clock minus its age), so durations between readings run
on monotonic time and a wall-clock step does not fire every timer (O4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from wall.sensors.core.quality import EVALUATED, Quality

__all__ = ["Reading"]


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one station element.

    Attributes:
        value: The value, in the element's unit.
        observed_at: When it was measured, UTC.
        monotonic_s: The same moment on the service's monotonic clock (s).
        quality: Its quality; only good and estimated readings are evaluated.
        retained: Delivered as a retained message at subscribe time: an old
            value, not a new event (M11).
    """

    value: float
    observed_at: datetime
    monotonic_s: float
    quality: Quality = Quality.GOOD
    retained: bool = False

    def __post_init__(self) -> None:
        at = self.observed_at
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("observed_at must be timezone-aware")
        object.__setattr__(self, "observed_at", at.astimezone(UTC))

    @property
    def evaluated(self) -> bool:
        """Rules may raise or clear on it: finite, good quality, not retained."""
        return (
            self.quality in EVALUATED
            and not self.retained
            and math.isfinite(self.value)
        )

"""Observation quality: out of range, spike and late flags (M2, R10).

Values are flagged, never dropped. A reading outside ``[min_valid,
max_valid]`` is ``out_of_range``. A reading that moved faster than
``max_rate_per_min`` away from the last accepted value is a ``spike``: a
suspect sensor, not a flood (R10). A jump that persists for
``persist_samples`` consecutive readings, which agree with each other, is
accepted as real and its last reading is good again. A reading observed more
than ``late_after_s`` before it was received is ``late`` (M2) and raises no
new real-time alarm.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> t0, limits = datetime(2025, 7, 8, tzinfo=UTC), Limits(max_rate_per_min=1.0)
    >>> first = grade(10.0, t0, t0, limits, SpikeState())
    >>> jump = grade(12.5, t0 + timedelta(minutes=1), t0 + timedelta(minutes=1),
    ...              limits, first.spike)
    >>> first.quality.value, jump.quality.value, jump.suspect_started
    ('good', 'spike', True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

__all__ = [
    "DEFAULT_LATE_AFTER_S",
    "DEFAULT_SPIKE_PERSIST_SAMPLES",
    "EVALUATED",
    "Grade",
    "Limits",
    "Quality",
    "SpikeState",
    "grade",
    "is_late",
]

DEFAULT_LATE_AFTER_S = 600.0
"""Proposed default of ``late_after`` (M2): 10 minutes."""
DEFAULT_SPIKE_PERSIST_SAMPLES = 3
"""Proposed default: a jump seen in 3 agreeing readings in a row is real (R10)."""


class Quality(StrEnum):
    """Quality of one observation (domain §2.3), in order of precedence."""

    INVALID_MARKER = "invalid_marker"
    OUT_OF_RANGE = "out_of_range"
    SPIKE = "spike"
    STALE = "stale"
    LATE = "late"
    ESTIMATED = "estimated"
    GOOD = "good"


EVALUATED = frozenset({Quality.GOOD, Quality.ESTIMATED})
"""Qualities that alarm rules evaluate; others neither raise nor clear."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Validity limits of one station element.

    Attributes:
        min_valid: Lowest plausible value, in the element's unit.
        max_valid: Highest plausible value.
        max_rate_per_min: Fastest plausible change per minute (spike guard).
        persist_samples: Agreeing suspect readings that make a jump real.
    """

    min_valid: float | None = None
    max_valid: float | None = None
    max_rate_per_min: float | None = None
    persist_samples: int = DEFAULT_SPIKE_PERSIST_SAMPLES

    def __post_init__(self) -> None:
        if (
            self.min_valid is not None
            and self.max_valid is not None
            and not self.min_valid < self.max_valid
        ):
            raise ValueError("min_valid must be below max_valid")
        if self.max_rate_per_min is not None and not self.max_rate_per_min > 0:
            raise ValueError("max_rate_per_min must be > 0")
        if self.persist_samples < 1:
            raise ValueError("persist_samples must be >= 1")

    def in_range(self, value: float) -> bool:
        """``value`` lies within the valid limits."""
        low, high = self.min_valid, self.max_valid
        return (low is None or value >= low) and (high is None or value <= high)


@dataclass(frozen=True, slots=True)
class SpikeState:
    """What the spike guard remembers between readings (plain data).

    Attributes:
        good_value: Last accepted value, ``None`` before the first.
        good_at: Its observed time.
        suspect_value: Last suspect value of the current run.
        suspect_at: Its observed time.
        suspect_count: Agreeing suspect readings in a row.
    """

    good_value: float | None = None
    good_at: datetime | None = None
    suspect_value: float | None = None
    suspect_at: datetime | None = None
    suspect_count: int = 0


@dataclass(frozen=True, slots=True)
class Grade:
    """The quality of one reading and the guard's next state.

    Attributes:
        quality: The most important flag (see :class:`Quality` order).
        flags: Every flag that applies; empty means good.
        spike: State for the next reading of this station element.
        suspect_started: This reading opened a suspect run ("sensor suspect").
        suspect_ended: A suspect run ended (the jump was accepted or went away).
    """

    quality: Quality
    flags: frozenset[Quality]
    spike: SpikeState
    suspect_started: bool = False
    suspect_ended: bool = False


def is_late(observed_at: datetime, received_at: datetime, late_after_s: float) -> bool:
    """Observed more than ``late_after_s`` before it was received (M2)."""
    return (received_at - observed_at).total_seconds() > late_after_s


def _too_fast(
    value: float, at: datetime, ref: float, ref_at: datetime, rate: float
) -> bool:
    minutes = (at - ref_at).total_seconds() / 60.0
    return minutes > 0 and abs(value - ref) / minutes > rate


def _spike_step(
    value: float, at: datetime, limits: Limits, state: SpikeState
) -> tuple[bool, SpikeState]:
    """Whether ``value`` is a spike, and the guard's next state."""
    rate = limits.max_rate_per_min
    accept = SpikeState(good_value=value, good_at=at)
    if rate is None or state.good_value is None or state.good_at is None:
        return False, accept
    if at <= state.good_at:
        return False, state  # older than the last accepted one: no rate to judge
    if not _too_fast(value, at, state.good_value, state.good_at, rate):
        return False, accept
    run = state.suspect_count
    last, last_at = state.suspect_value, state.suspect_at
    if (last is not None and last_at is not None) and (
        at <= last_at or _too_fast(value, at, last, last_at, rate)
    ):
        run = 0  # the suspects disagree: a new run starts here
    if run + 1 >= limits.persist_samples:
        return False, accept
    return True, replace(
        state, suspect_value=value, suspect_at=at, suspect_count=run + 1
    )


def grade(
    value: float,
    observed_at: datetime,
    received_at: datetime,
    limits: Limits,
    spike: SpikeState,
    *,
    late_after_s: float = DEFAULT_LATE_AFTER_S,
) -> Grade:
    """Flag one reading of a station element.

    Out-of-range, non-finite and late readings leave the spike guard as it
    was: they say nothing about the sensor's current rate of change.

    Args:
        value: The reading, in the element's unit.
        observed_at: When it was measured (aware).
        received_at: When the service received it (aware).
        limits: The element's limits.
        spike: The guard's state after the previous reading.
        late_after_s: Age at receipt above which a reading is late.

    Returns:
        Its quality, all flags, and the guard's next state.
    """
    flags: set[Quality] = set()
    next_spike = spike
    if not math.isfinite(value) or not limits.in_range(value):
        flags.add(Quality.OUT_OF_RANGE)
    if is_late(observed_at, received_at, late_after_s):
        flags.add(Quality.LATE)
    if not flags:
        suspect, next_spike = _spike_step(value, observed_at, limits, spike)
        if suspect:
            flags.add(Quality.SPIKE)
    quality = min(flags, key=list(Quality).index) if flags else Quality.GOOD
    return Grade(
        quality,
        frozenset(flags),
        next_spike,
        suspect_started=next_spike.suspect_count == 1 and spike.suspect_count == 0,
        suspect_ended=spike.suspect_count > 0 and next_spike.suspect_count == 0,
    )

"""Crowd density per zone and the crowding rule (X2, X3).

Density is persons per square metre of a zone's calibrated ground area. A zone
without ``area_m2`` reports counts only: it has no density, and a density
threshold can never raise an alarm for it (X2). The crowding rule raises when
density reaches ``warn_ppm2`` or the count reaches ``warn_count`` continuously
for ``min_duration_s``; it clears when every configured measure is below its
clear threshold (hysteresis, X3). Defaults follow domain reference section 6:
warn at 4 persons/m^2, clear below 3, minimum duration 10 s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from vision.debounce import DebounceState, debounce
from vision.zones import Zone

__all__ = [
    "CrowdingEvent",
    "CrowdingRule",
    "CrowdingState",
    "ZoneCount",
    "density_ppm2",
    "step_crowding",
    "zone_counts",
]


def density_ppm2(count: int, area_m2: float | None) -> float | None:
    """Persons per square metre, or ``None`` without a calibrated area (X2).

    Examples:
        >>> density_ppm2(10, 2.5)
        4.0
        >>> density_ppm2(10, None) is None
        True
    """
    if area_m2 is None:
        return None
    if not area_m2 > 0:
        raise ValueError("area_m2 must be positive")
    return count / area_m2


@dataclass(frozen=True, slots=True)
class ZoneCount:
    """Persons counted in one zone of one frame.

    Attributes:
        zone_id: The zone.
        count: Persons whose feet are in the zone.
        density_ppm2: Persons per m^2, or ``None`` when the area is unknown.
    """

    zone_id: str
    count: int
    density_ppm2: float | None


def zone_counts(
    counts: Mapping[str, int], zones: Sequence[Zone]
) -> tuple[ZoneCount, ...]:
    """Attach densities to per-zone counts (zones missing from ``counts``: 0).

    Examples:
        >>> triangle = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0))
        >>> zones = [Zone("a", triangle, 2.0), Zone("b", triangle)]
        >>> a, b = zone_counts({"a": 9}, zones)
        >>> a.count, a.density_ppm2, b.count, b.density_ppm2
        (9, 4.5, 0, None)
    """
    readings = []
    for zone in zones:
        count = counts.get(zone.zone_id, 0)
        readings.append(
            ZoneCount(zone.zone_id, count, density_ppm2(count, zone.area_m2))
        )
    return tuple(readings)


@dataclass(frozen=True, slots=True)
class CrowdingRule:
    """Thresholds of the crowding alarm of one zone.

    Attributes:
        warn_ppm2: Raise at this density (persons/m^2); ``None`` disables it.
        clear_ppm2: Density must fall below this to clear; at most ``warn_ppm2``.
        warn_count: Raise at this many persons; ``None`` disables it.
        clear_count: Count must fall below this to clear; defaults to
            ``warn_count`` (no count hysteresis).
        min_duration_s: The raise condition must hold this long without a break.
        clear_duration_s: The clear condition must hold this long.
    """

    warn_ppm2: float | None = 4.0
    clear_ppm2: float | None = 3.0
    warn_count: int | None = None
    clear_count: int | None = None
    min_duration_s: float = 10.0
    clear_duration_s: float = 0.0

    def __post_init__(self) -> None:
        if self.warn_ppm2 is None and self.warn_count is None:
            raise ValueError("a crowding rule needs warn_ppm2 or warn_count")
        if self.warn_ppm2 is not None and self.clear_ppm2 is None:
            raise ValueError("warn_ppm2 needs clear_ppm2")
        warn, clear = self.warn_ppm2, self.clear_ppm2
        if warn is not None and clear is not None and clear > warn:
            raise ValueError("clear_ppm2 must not exceed warn_ppm2")
        warn_n, clear_n = self.warn_count, self.clear_count
        if warn_n is not None and clear_n is not None and clear_n > warn_n:
            raise ValueError("clear_count must not exceed warn_count")
        if self.min_duration_s < 0 or self.clear_duration_s < 0:
            raise ValueError("durations must not be negative")

    def is_over(self, reading: ZoneCount) -> bool:
        """True when any configured measure reaches its warn threshold."""
        dense = (
            self.warn_ppm2 is not None
            and reading.density_ppm2 is not None
            and reading.density_ppm2 >= self.warn_ppm2
        )
        crowded = self.warn_count is not None and reading.count >= self.warn_count
        return dense or crowded

    def is_clear(self, reading: ZoneCount) -> bool:
        """True when every configured measure that is known is below its clear level."""
        sparse = (
            self.clear_ppm2 is None
            or reading.density_ppm2 is None
            or reading.density_ppm2 < self.clear_ppm2
        )
        clear_count = self.warn_count if self.clear_count is None else self.clear_count
        few = clear_count is None or reading.count < clear_count
        return sparse and few


@dataclass(frozen=True, slots=True)
class CrowdingEvent:
    """A change of a zone's crowding alarm: raised once, updated, cleared once.

    Attributes:
        kind: ``raised``, ``updated`` (count or density changed while active) or
            ``cleared``.
        zone_id: The zone.
        count: Persons now.
        density_ppm2: Density now, or ``None`` without an area.
        started_monotonic_s: When the crowding began (start of the minimum
            duration), the same in every event of one alarm.
        at_monotonic_s: Time of this event.
        peak_count: Largest count since the crowding began.
        peak_density_ppm2: Largest density since then, or ``None``.
    """

    kind: Literal["raised", "updated", "cleared"]
    zone_id: str
    count: int
    density_ppm2: float | None
    started_monotonic_s: float
    at_monotonic_s: float
    peak_count: int
    peak_density_ppm2: float | None


@dataclass(frozen=True, slots=True)
class CrowdingState:
    """State of one zone's crowding rule between frames."""

    debounce: DebounceState = field(default_factory=DebounceState)
    peak_count: int = 0
    peak_density_ppm2: float | None = None
    reported: tuple[int, float | None] | None = None


def _peaks(state: CrowdingState, reading: ZoneCount) -> tuple[int, float | None]:
    if not (state.debounce.active or state.debounce.phase == "pending"):
        return reading.count, reading.density_ppm2
    density = state.peak_density_ppm2
    if reading.density_ppm2 is not None:
        density = max(density or 0.0, reading.density_ppm2)
    return max(state.peak_count, reading.count), density


def step_crowding(
    rule: CrowdingRule, state: CrowdingState, reading: ZoneCount, now_monotonic_s: float
) -> tuple[CrowdingState, CrowdingEvent | None]:
    """Evaluate one zone reading against its crowding rule.

    Args:
        rule: The zone's thresholds.
        state: The rule's previous state (``CrowdingState()`` at first).
        reading: Count and density of the zone in the frame.
        now_monotonic_s: Monotonic time of the frame; never decreasing.

    Returns:
        The new state and the event to publish, if any.

    Examples:
        >>> rule = CrowdingRule(min_duration_s=10)
        >>> s = CrowdingState()
        >>> for t, n in [(0, 40), (5, 40), (10, 44), (12, 35), (13, 20)]:
        ...     s, e = step_crowding(rule, s, ZoneCount("z", n, n / 10), t)
        ...     print(t, e and e.kind)
        0 None
        5 None
        10 raised
        12 updated
        13 cleared
    """
    peak_count, peak_density = _peaks(state, reading)
    machine, transition = debounce(
        state.debounce,
        raise_when=rule.is_over(reading),
        clear_when=rule.is_clear(reading),
        now_monotonic_s=now_monotonic_s,
        rise_s=rule.min_duration_s,
        fall_s=rule.clear_duration_s,
    )
    started = machine.started_monotonic_s
    if started is None:  # just cleared: report the start of the alarm that ended
        started = state.debounce.started_monotonic_s
    current = (reading.count, reading.density_ppm2)
    kind: Literal["raised", "updated", "cleared"] | None = transition
    if transition is None and machine.active and current != state.reported:
        kind = "updated"
    if transition == "cleared" or not (machine.active or machine.phase == "pending"):
        new_state = CrowdingState(machine)
    else:
        reported = current if kind else state.reported
        new_state = CrowdingState(machine, peak_count, peak_density, reported)
    if kind is None or started is None:
        return new_state, None
    event = CrowdingEvent(
        kind=kind,
        zone_id=reading.zone_id,
        count=reading.count,
        density_ppm2=reading.density_ppm2,
        started_monotonic_s=started,
        at_monotonic_s=now_monotonic_s,
        peak_count=peak_count,
        peak_density_ppm2=peak_density,
    )
    return new_state, event

"""Scheduled layouts: weekly windows in a named time zone (pure, HS1, O3).

A window runs on given weekdays from a local start time to a local end time
and may cross midnight (a night-duty layout from 22:00 to 06:00). Local times
become UTC through the tz database, never through a fixed offset, so the same
code is right for Asia/Shanghai and for zones with daylight saving time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"
HORIZON_DAYS = 370
"""How far :func:`next_change` looks ahead (a year of exceptions and more)."""


@dataclass(frozen=True, slots=True)
class Window:
    """One weekly window.

    Attributes:
        layout_id: the layout to show during the window.
        weekdays: ISO weekdays (1 = Monday … 7 = Sunday) on which it *starts*.
        start: local start time (naive).
        end: local end time (naive); ``end <= start`` crosses midnight and
            ``end == start`` lasts 24 h.
        name: used as the ``cause_ref`` of the activation.
    """

    layout_id: str
    weekdays: frozenset[int]
    start: time
    end: time
    name: str = ""

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= set(range(1, 8)):
            raise ValueError("weekdays must be a non-empty subset of 1..7")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are local: give them without tzinfo")

    @property
    def crosses_midnight(self) -> bool:
        """Whether the window ends on the day after it starts."""
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class Schedule:
    """Windows in one time zone; the first matching window wins an overlap.

    Attributes:
        windows: in priority order.
        tz: IANA zone name the times are in.
        exceptions: local dates on which no window starts (holidays).
    """

    windows: tuple[Window, ...]
    tz: str = DEFAULT_TZ
    exceptions: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # raises ZoneInfoNotFoundError for an unknown zone

    @property
    def zone(self) -> ZoneInfo:
        """The time zone."""
        return ZoneInfo(self.tz)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One run of a window, as UTC instants (end exclusive)."""

    window: Window
    start_utc: datetime
    end_utc: datetime

    def contains(self, instant: datetime) -> bool:
        """Whether ``instant`` is inside the run."""
        return self.start_utc <= instant < self.end_utc


def occurrence(schedule: Schedule, window: Window, day: date) -> Occurrence | None:
    """The run of ``window`` that starts on local ``day``, if it runs then.

    Examples:
        >>> night = Window("night", frozenset(range(1, 8)), time(22), time(6))
        >>> run = occurrence(Schedule((night,)), night, date(2025, 3, 3))
        >>> run.start_utc.isoformat(), run.end_utc.isoformat()
        ('2025-03-03T14:00:00+00:00', '2025-03-03T22:00:00+00:00')
    """
    if day in schedule.exceptions or day.isoweekday() not in window.weekdays:
        return None
    zone = schedule.zone
    end_day = day + timedelta(days=1) if window.crosses_midnight else day
    start = datetime.combine(day, window.start, tzinfo=zone)
    end = datetime.combine(end_day, window.end, tzinfo=zone)
    return Occurrence(window, start.astimezone(UTC), end.astimezone(UTC))


def active_occurrence(schedule: Schedule, now_utc: datetime) -> Occurrence | None:
    """The run in force at ``now_utc`` (first window in list order wins).

    Raises:
        ValueError: ``now_utc`` is naive.
    """
    today = _local_date(schedule, now_utc)
    for window in schedule.windows:
        for day in (today - timedelta(days=1), today):
            run = occurrence(schedule, window, day)
            if run is not None and run.contains(now_utc):
                return run
    return None


def active_window(schedule: Schedule, now_utc: datetime) -> Window | None:
    """The window in force at ``now_utc``, or ``None``.

    Examples:
        >>> night = Window("night", frozenset(range(1, 8)), time(22), time(6))
        >>> s = Schedule((night,))
        >>> active_window(s, datetime(2025, 3, 3, 21, 59, tzinfo=UTC)).layout_id
        'night'
        >>> active_window(s, datetime(2025, 3, 3, 22, 0, tzinfo=UTC)) is None
        True
    """
    run = active_occurrence(schedule, now_utc)
    return run.window if run else None


def next_change(schedule: Schedule, now_utc: datetime) -> datetime | None:
    """The first instant after ``now_utc`` at which the active window changes.

    Returns ``None`` when nothing changes within :data:`HORIZON_DAYS`.

    Examples:
        >>> night = Window("night", frozenset(range(1, 8)), time(22), time(6))
        >>> s = Schedule((night,))
        >>> next_change(s, datetime(2025, 3, 3, 12, tzinfo=UTC)).isoformat()
        '2025-03-03T14:00:00+00:00'
    """
    current = active_window(schedule, now_utc)
    today = _local_date(schedule, now_utc)
    boundaries = sorted(
        {
            instant
            for offset in range(-1, HORIZON_DAYS)
            for window in schedule.windows
            if (run := occurrence(schedule, window, today + timedelta(days=offset)))
            for instant in (run.start_utc, run.end_utc)
            if instant > now_utc
        }
    )
    return next((b for b in boundaries if active_window(schedule, b) != current), None)


def _local_date(schedule: Schedule, now_utc: datetime) -> date:
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must be timezone-aware")
    return now_utc.astimezone(schedule.zone).date()

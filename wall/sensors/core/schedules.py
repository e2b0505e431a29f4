"""When a rule may raise: weekdays and hours in a named time zone (R9).

The moment is converted with the tz database into the schedule's zone
(Asia/Shanghai by default), so the server's own zone never matters and no
fixed +8 h is ever added (O3).

Examples:
    >>> from datetime import UTC, datetime, time
    >>> day = Schedule(frozenset(range(1, 8)), time(8), time(20))
    >>> day.contains(datetime(2025, 7, 6, 23, 59, tzinfo=UTC))  # 07:59 local
    False
    >>> day.contains(datetime(2025, 7, 7, 0, 0, tzinfo=UTC))  # 08:00 local
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["DEFAULT_TIMEZONE", "Schedule"]

DEFAULT_TIMEZONE = "Asia/Shanghai"
"""The zone rule schedules are written in unless they name another."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """Active from ``start`` to ``end`` (local) on the listed ISO weekdays.

    ``end`` at or before ``start`` runs past midnight: the window belongs to
    the weekday it starts on. ``start`` is included, ``end`` is not.

    Attributes:
        weekdays: ISO weekday numbers (1 = Monday … 7 = Sunday).
        start: Local start time.
        end: Local end time.
        timezone: IANA zone of ``start``/``end`` and of the weekdays.
    """

    weekdays: frozenset[int]
    start: time
    end: time
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= set(range(1, 8)):
            raise ValueError("weekdays must be ISO weekday numbers 1-7")
        if self.start == self.end:
            raise ValueError("start and end are equal; omit the schedule to run always")
        ZoneInfo(self.timezone)  # raises for an unknown zone

    def contains(self, moment: datetime) -> bool:
        """The rule may raise at ``moment`` (timezone-aware).

        Raises:
            ValueError: a naive ``moment``.
        """
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("schedule times must be timezone-aware")
        local = moment.astimezone(ZoneInfo(self.timezone))
        clock = local.time().replace(tzinfo=None)
        if self.start < self.end:
            return local.isoweekday() in self.weekdays and (
                self.start <= clock < self.end
            )
        if clock >= self.start:  # the evening part: starts today
            return local.isoweekday() in self.weekdays
        started = (local - timedelta(days=1)).isoweekday()
        return clock < self.end and started in self.weekdays

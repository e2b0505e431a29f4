"""The ``walls:`` section of the settings: physical walls and their schedules."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, model_validator

from layouts.schema import WallSpec
from wall.platform.wire import WireModel

_DAY_S = 86_400
_WEEK_S = 7 * _DAY_S


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


class ScheduleWindowSettings(WireModel):
    """A weekly window during which a wall shows a layout (e.g. night duty)."""

    name: str = Field(min_length=1, description="Shown in the audit log.")
    layout_id: str
    weekdays: tuple[int, ...] = Field(
        (1, 2, 3, 4, 5, 6, 7), description="ISO weekdays the window starts on (1=Mon)."
    )
    start: time = Field(description="Local start time, e.g. 22:00.")
    end: time = Field(description="Local end time; before start means next day.")

    @model_validator(mode="after")
    def _weekdays(self) -> ScheduleWindowSettings:
        if not self.weekdays or any(d < 1 or d > 7 for d in self.weekdays):
            raise ValueError("weekdays must be ISO weekday numbers 1-7")
        return self

    def weekly_runs(self) -> tuple[tuple[int, int], ...]:
        """Each run as (start, length), seconds from Monday 00:00 local time.

        ``end <= start`` crosses midnight; ``end == start`` lasts 24 h (as
        :class:`wall.walls.core.schedule.Window` reads it).

        Examples:
            >>> w = ScheduleWindowSettings(
            ...     name="n", layout_id="x", weekdays=(7,), start=time(22), end=time(6)
            ... )
            >>> w.weekly_runs()
            ((597600, 28800),)
        """
        start = _seconds(self.start)
        length = (_seconds(self.end) - start) % _DAY_S or _DAY_S
        return tuple(
            ((d - 1) * _DAY_S + start, length) for d in sorted(set(self.weekdays))
        )

    def overlaps(self, other: ScheduleWindowSettings) -> bool:
        """Whether the two windows are ever in force at the same local time.

        Runs are half-open, so 22:00-06:00 and 06:00-22:00 do not overlap; a
        Sunday night run reaches into Monday.

        Examples:
            >>> def w(start: int, end: int) -> ScheduleWindowSettings:
            ...     return ScheduleWindowSettings(
            ...         name="n", layout_id="x", start=time(start), end=time(end)
            ...     )
            >>> w(22, 6).overlaps(w(6, 22)), w(22, 6).overlaps(w(5, 7))
            (False, True)
        """
        # on the weekly circle two runs meet iff one starts inside the other
        return any(
            (b - a) % _WEEK_S < a_len or (a - b) % _WEEK_S < b_len
            for a, a_len in self.weekly_runs()
            for b, b_len in other.weekly_runs()
        )


class WallSettings(WallSpec):
    """A physical wall, its default layout and its schedule."""

    default_layout: str | None = Field(
        None, description="Layout shown on first start and when a window ends."
    )
    schedule_tz: str = Field("Asia/Shanghai", description="IANA zone of the windows.")
    schedule: tuple[ScheduleWindowSettings, ...] = ()
    composite_fps: float = Field(12.0, gt=0, le=30, description="Panel mosaic fps.")

    @model_validator(mode="after")
    def _zone(self) -> WallSettings:
        try:
            ZoneInfo(self.schedule_tz)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {self.schedule_tz!r}") from err
        return self

"""The ``walls:`` section of the settings: physical walls and their schedules."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, model_validator

from layouts.schema import WallSpec
from wall.platform.wire import WireModel


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

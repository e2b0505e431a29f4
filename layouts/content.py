"""What a tile shows: the ``TileContent`` union on ``kind`` (pydantic file format)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import Field, field_validator

from layouts.file_model import FileModel
from layouts.tour_content import (
    Ident,
    TourContent,
    TourItem,
    tour_dwell_issues,
)

__all__ = [  # the tour content is part of the TileContent union defined here
    "TourContent",
    "TourItem",
    "tour_dwell_issues",
]

MAX_DATA_URL_CHARS: Final = 256 * 1024

_STATIC_PATH_RE = re.compile(r"^/static(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$")
# SVG is left out on purpose: it can carry script.
_DATA_URL_RE = re.compile(
    r"^data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$"
)
_TZ_RE = r"^(?:UTC|[A-Z][A-Za-z_]+(?:/[A-Za-z0-9_+-]+){1,2})$"
_CLOCK_DIRECTIVES = frozenset("YmdHMSaA%")


class Domain(StrEnum):
    """A department of the command centre."""

    GRID = "grid"
    FLOOD_DROUGHT = "flood_drought"
    EMERGENCY = "emergency"
    CIVIL_AIR_DEFENCE = "civil_air_defence"
    URBAN_MGMT = "urban_mgmt"


class StreamPref(StrEnum):
    """Which camera stream a tile asks for; ``auto`` picks by tile size (S4)."""

    AUTO = "auto"
    MAIN = "main"
    SUB = "sub"


class CameraContent(FileModel):
    """One live camera."""

    kind: Literal["camera"] = "camera"
    camera_id: Ident = Field(
        description="Camera id (a removed camera shows a placeholder, W7)."
    )
    stream: StreamPref = Field(StreamPref.AUTO, description="Stream preference.")
    overlay_detections: bool = Field(
        False, description="Draw detection boxes on the video."
    )


class TextLevel(StrEnum):
    """Colour scheme of a text tile."""

    INFO = "info"
    WARNING = "warning"
    ALERT = "alert"


class TextContent(FileModel):
    """Static or scrolling text (e.g. a banner)."""

    kind: Literal["text"] = "text"
    text: str = Field(min_length=1, max_length=2000, description="The text (zh).")
    font_px: int = Field(48, ge=12, le=480, description="Font size, panel pixels.")
    scroll: bool = Field(False, description="Scroll right to left as a marquee.")
    speed_px_s: float = Field(
        120.0, gt=0, le=2000, description="Scroll speed, pixels per second."
    )
    level: TextLevel = Field(TextLevel.INFO, description="Colour scheme.")


class ClockContent(FileModel):
    """A clock in a named time zone (never a fixed UTC offset)."""

    kind: Literal["clock"] = "clock"
    tz: str = Field("Asia/Shanghai", pattern=_TZ_RE, description="IANA time-zone name.")
    format: str = Field(
        "%Y-%m-%d %H:%M:%S",
        min_length=1,
        max_length=64,
        description="strftime subset: %Y %m %d %H %M %S %a %A %%.",
    )

    @field_validator("format")
    @classmethod
    def _known_directives(cls, value: str) -> str:
        unknown = sorted(
            {d for d in re.findall(r"%(.?)", value) if d not in _CLOCK_DIRECTIVES}
        )
        if unknown:
            raise ValueError(
                f"unsupported directive(s): {', '.join('%' + d for d in unknown)}"
            )
        return value


class ImageFit(StrEnum):
    """How an image fills its tile."""

    CONTAIN = "contain"
    COVER = "cover"


class ImageContent(FileModel):
    """A still image served by the service itself or embedded as a data URL."""

    kind: Literal["image"] = "image"
    url: str = Field(
        description="A path under /static/ or a data:image/...;base64 URL of at most"
        " 256 KiB; remote hosts are refused (no CDN, no tracking)."
    )
    fit: ImageFit = Field(ImageFit.CONTAIN, description="Contain or cover.")

    @field_validator("url")
    @classmethod
    def _local_url(cls, value: str) -> str:
        if value.startswith("data:"):
            if len(value) > MAX_DATA_URL_CHARS:
                raise ValueError(
                    f"data URL is {len(value)} characters, limit {MAX_DATA_URL_CHARS}"
                )
            if not _DATA_URL_RE.match(value):
                raise ValueError(
                    "data URL must be data:image/(png|jpeg|gif|webp);base64,..."
                )
            return value
        if not _STATIC_PATH_RE.match(value):
            raise ValueError(
                "must be a path under /static/ (no host, query or '..') or a data URL"
            )
        return value


class GeoCrs(StrEnum):
    """Coordinate reference system of a point."""

    WGS84 = "wgs84"
    CGCS2000 = "cgcs2000"
    GCJ02 = "gcj02"
    BD09 = "bd09"


class MapCenter(FileModel):
    """A map centre, longitude first."""

    lon: float = Field(ge=-180, le=180, description="Longitude, degrees east.")
    lat: float = Field(ge=-90, le=90, description="Latitude, degrees north.")
    crs: GeoCrs = Field(GeoCrs.WGS84, description="CRS of lon/lat.")


class MapLayer(StrEnum):
    """An overlay a map tile can draw."""

    CAMERAS = "cameras"
    STATIONS = "stations"
    ALARMS = "alarms"
    CASES = "cases"
    GRID_CELLS = "grid_cells"
    ADMIN_UNITS = "admin_units"
    RIVERS = "rivers"
    SHELTERS = "shelters"
    SIRENS = "sirens"


class MapContent(FileModel):
    """A map with overlays."""

    kind: Literal["map"] = "map"
    center: MapCenter = Field(description="Initial centre.")
    zoom: float = Field(12.0, ge=1, le=20, description="Web-map zoom level.")
    layers: tuple[MapLayer, ...] = Field((), description="Overlays, drawn in order.")
    follow_alarm: bool = Field(False, description="Pan to each new alarm.")


class SensorContent(FileModel):
    """Charts of one station's observations."""

    kind: Literal["sensor"] = "sensor"
    station_id: Ident = Field(description="Station id.")
    elements: tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")], ...] = (
        Field(
            min_length=1,
            max_length=8,
            description="Canonical element names, e.g. water_level, rain_accum.",
        )
    )
    window_s: int = Field(
        86400, ge=60, le=30 * 86400, description="Chart window, seconds."
    )


class AlarmSeverity(StrEnum):
    """Alarm severity, lowest first."""

    INDETERMINATE = "indeterminate"
    WARNING = "warning"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


RowLimit = Annotated[int, Field(ge=1, le=200, description="Rows shown.")]
"""How many rows a list tile shows."""


class DepartmentFilter(FileModel):
    """What every list filter has: the department."""

    domain: Domain | None = Field(
        None, description="Only this department (all if unset)."
    )


class AlarmFilter(DepartmentFilter):
    """Which alarms an alarm list shows."""

    min_severity: AlarmSeverity = Field(
        AlarmSeverity.WARNING, description="Lowest severity shown."
    )
    include_acknowledged: bool = Field(
        True, description="Also show acknowledged alarms."
    )


class AlarmListContent(FileModel):
    """The live alarm list."""

    kind: Literal["alarm_list"] = "alarm_list"
    filter: AlarmFilter = Field(default_factory=AlarmFilter, description="Filter.")
    limit: RowLimit = 20


class CaseLight(StrEnum):
    """SLA light of a case, lowest first."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class CaseFilter(DepartmentFilter):
    """Which cases a case list shows."""

    admin_unit_id: Ident | None = Field(
        None, description="Only cases in this admin unit."
    )
    min_light: CaseLight = Field(CaseLight.GREEN, description="Lowest SLA light shown.")
    urgent_only: bool = Field(False, description="Only urgent cases.")


class CaseListContent(FileModel):
    """The open-case list."""

    kind: Literal["case_list"] = "case_list"
    filter: CaseFilter = Field(default_factory=CaseFilter, description="Filter.")
    limit: RowLimit = 20


class GridMetric(StrEnum):
    """A grid-management indicator (domain §8)."""

    CASES_FILED = "cases_filed"
    CASES_OPEN = "cases_open"
    OVERDUE_COUNT = "overdue_count"
    ON_TIME_DISPATCH_RATE = "on_time_dispatch_rate"
    DISPOSAL_RATE = "disposal_rate"
    CLOSURE_RATE = "closure_rate"
    REWORK_RATE = "rework_rate"
    RED_CARDS = "red_cards"
    SLA_LIGHTS = "sla_lights"
    OVERALL_SCORE = "overall_score"


class GridStatsContent(FileModel):
    """One indicator for an administrative unit."""

    kind: Literal["grid_stats"] = "grid_stats"
    admin_unit_id: Ident = Field(description="Admin unit id.")
    metric: GridMetric = Field(description="Indicator.")


class EmptyContent(FileModel):
    """Nothing (a black tile)."""

    kind: Literal["empty"] = "empty"


TileContent = Annotated[
    CameraContent
    | TourContent
    | TextContent
    | ClockContent
    | ImageContent
    | MapContent
    | SensorContent
    | AlarmListContent
    | CaseListContent
    | GridStatsContent
    | EmptyContent,
    Field(discriminator="kind"),
]

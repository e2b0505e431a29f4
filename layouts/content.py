"""What a tile shows: the ``TileContent`` union on ``kind`` (pydantic file format)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from layouts.errors import IssueCode, LayoutIssue, Severity

ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
Ident = Annotated[str, Field(pattern=ID_PATTERN)]

MIN_DWELL_S: Final = 3.0  # Genetec's wall-page minimum, the project's hard floor (T1)
USUAL_DWELL_S: Final = (5.0, 30.0)  # Chinese local practice (domain §3 "Tours")
MAX_DATA_URL_CHARS: Final = 256 * 1024

_STATIC_PATH_RE = re.compile(r"^/static(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$")
# SVG is left out on purpose: it can carry script.
_DATA_URL_RE = re.compile(
    r"^data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$"
)
_TZ_RE = r"^(?:UTC|[A-Z][A-Za-z_]+(?:/[A-Za-z0-9_+-]+){1,2})$"
_CLOCK_DIRECTIVES = frozenset("YmdHMSaA%")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class CameraContent(_Strict):
    """One live camera."""

    kind: Literal["camera"] = "camera"
    camera_id: Ident = Field(
        description="Camera id (a removed camera shows a placeholder, W7)."
    )
    stream: StreamPref = Field(StreamPref.AUTO, description="Stream preference.")
    overlay_detections: bool = Field(
        False, description="Draw detection boxes on the video."
    )


class TourOrder(StrEnum):
    """Order of a tour's items."""

    SEQUENTIAL = "sequential"
    SHUFFLE = "shuffle"


class TourItem(_Strict):
    """One camera of a tour."""

    camera_id: Ident = Field(description="Camera id.")
    dwell_s: float | None = Field(
        None,
        gt=0,
        le=3600,
        description="Dwell for this item, seconds (default: the tour's).",
    )


class TourContent(_Strict):
    """A tour (轮巡): the tile cycles through cameras (T1-T6)."""

    kind: Literal["tour"] = "tour"
    items: tuple[TourItem, ...] = Field(
        min_length=1, max_length=256, description="Cameras in order."
    )
    dwell_s: float = Field(
        10.0, gt=0, le=3600, description="Default dwell per item, seconds (>= 3)."
    )
    order: TourOrder = Field(
        TourOrder.SEQUENTIAL, description="Sequential or shuffled."
    )
    skip_offline: bool = Field(True, description="Skip cameras that are offline (T2).")
    sync: bool = Field(
        False,
        description="Switch in step with other synced tiles running the same"
        " items (T6); otherwise the tile keeps its own phase.",
    )

    def dwell_of(self, item: TourItem) -> float:
        """Return the dwell of ``item`` in seconds (its own, else the tour's)."""
        return self.dwell_s if item.dwell_s is None else item.dwell_s


class TextLevel(StrEnum):
    """Colour scheme of a text tile."""

    INFO = "info"
    WARNING = "warning"
    ALERT = "alert"


class TextContent(_Strict):
    """Static or scrolling text (e.g. a banner)."""

    kind: Literal["text"] = "text"
    text: str = Field(min_length=1, max_length=2000, description="The text (zh).")
    font_px: int = Field(48, ge=12, le=480, description="Font size, panel pixels.")
    scroll: bool = Field(False, description="Scroll right to left as a marquee.")
    speed_px_s: float = Field(
        120.0, gt=0, le=2000, description="Scroll speed, pixels per second."
    )
    level: TextLevel = Field(TextLevel.INFO, description="Colour scheme.")


class ClockContent(_Strict):
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


class ImageContent(_Strict):
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


class MapCenter(_Strict):
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


class MapContent(_Strict):
    """A map with overlays."""

    kind: Literal["map"] = "map"
    center: MapCenter = Field(description="Initial centre.")
    zoom: float = Field(12.0, ge=1, le=20, description="Web-map zoom level.")
    layers: tuple[MapLayer, ...] = Field((), description="Overlays, drawn in order.")
    follow_alarm: bool = Field(False, description="Pan to each new alarm.")


class SensorContent(_Strict):
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


class AlarmFilter(_Strict):
    """Which alarms an alarm list shows."""

    domain: Domain | None = Field(
        None, description="Only this department (all if unset)."
    )
    min_severity: AlarmSeverity = Field(
        AlarmSeverity.WARNING, description="Lowest severity shown."
    )
    include_acknowledged: bool = Field(
        True, description="Also show acknowledged alarms."
    )


class AlarmListContent(_Strict):
    """The live alarm list."""

    kind: Literal["alarm_list"] = "alarm_list"
    filter: AlarmFilter = Field(default_factory=AlarmFilter, description="Filter.")
    limit: int = Field(20, ge=1, le=200, description="Rows shown.")


class CaseLight(StrEnum):
    """SLA light of a case, lowest first."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class CaseFilter(_Strict):
    """Which cases a case list shows."""

    domain: Domain | None = Field(
        None, description="Only this department (all if unset)."
    )
    admin_unit_id: Ident | None = Field(
        None, description="Only cases in this admin unit."
    )
    min_light: CaseLight = Field(CaseLight.GREEN, description="Lowest SLA light shown.")
    urgent_only: bool = Field(False, description="Only urgent cases.")


class CaseListContent(_Strict):
    """The open-case list."""

    kind: Literal["case_list"] = "case_list"
    filter: CaseFilter = Field(default_factory=CaseFilter, description="Filter.")
    limit: int = Field(20, ge=1, le=200, description="Rows shown.")


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


class GridStatsContent(_Strict):
    """One indicator for an administrative unit."""

    kind: Literal["grid_stats"] = "grid_stats"
    admin_unit_id: Ident = Field(description="Admin unit id.")
    metric: GridMetric = Field(description="Indicator.")


class EmptyContent(_Strict):
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


def tour_dwell_issues(
    tour: TourContent, path: str, tile_id: str | None = None
) -> list[LayoutIssue]:
    """Check a tour's dwell times (T1): < 3 s is an error, outside 5-30 s a warning.

    Args:
        tour: the tour.
        path: key path of the tour content, used to name items.
        tile_id: the tile running the tour.

    Returns:
        One issue per offending dwell (the tour default and each item).

    Examples:
        >>> t = TourContent(items=(TourItem(camera_id="demo-1"),), dwell_s=2)
        >>> [i.code.value for i in tour_dwell_issues(t, "content", "t1")]
        ['dwell_too_short']
        >>> t = TourContent(items=(TourItem(camera_id="demo-1", dwell_s=45),))
        >>> [i.severity.value for i in tour_dwell_issues(t, "content")]
        ['warning']
    """
    checks = (
        [(f"{path}.dwell_s", tour.dwell_s)]
        if any(i.dwell_s is None for i in tour.items)
        else []
    )
    checks += [
        (f"{path}.items[{n}].dwell_s", item.dwell_s)
        for n, item in enumerate(tour.items)
        if item.dwell_s is not None
    ]
    issues: list[LayoutIssue] = []
    low, high = USUAL_DWELL_S
    for where, dwell_s in checks:
        if dwell_s < MIN_DWELL_S:
            issues.append(
                LayoutIssue(
                    Severity.ERROR,
                    IssueCode.DWELL_TOO_SHORT,
                    f"tour dwell {dwell_s:g} s is under the {MIN_DWELL_S:g} s minimum",
                    where,
                    tile_id,
                )
            )
        elif not low <= dwell_s <= high:
            issues.append(
                LayoutIssue(
                    Severity.WARNING,
                    IssueCode.DWELL_UNUSUAL,
                    f"tour dwell {dwell_s:g} s is outside the usual {low:g}-{high:g} s",
                    where,
                    tile_id,
                )
            )
    return issues

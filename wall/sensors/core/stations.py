"""Stations as values: kind, datum, thresholds, limits and attributes (domain §2.3).

A rule's ``value_ref`` names an attribute by its path,
``thresholds.warning_level_m`` or ``thresholds.field_capacity_pct_by_depth.20``;
:meth:`Station.attributes` lists the numeric ones that are set, so a missing
threshold is absent, never 0 (R5).

Examples:
    >>> s = Station("h1", StationKind.WATER_LEVEL, "cn1985",
    ...             Thresholds(warning_level_m=10.0))
    >>> dict(s.attributes())
    {'thresholds.warning_level_m': 10.0, 'expected_report_interval_s': 300.0}
    >>> s.limits_for("water_level").max_rate_per_min, s.limits_for("voltage")
    (1.0, None)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from wall.sensors.core.quality import DEFAULT_SPIKE_PERSIST_SAMPLES, Limits

__all__ = [
    "ATTRIBUTE_PATHS",
    "DEFAULT_EXPECTED_REPORT_INTERVAL_S",
    "DEFAULT_MAX_RATE_M_PER_MIN",
    "Station",
    "StationKind",
    "Thresholds",
    "attribute_path",
]

DEFAULT_MAX_RATE_M_PER_MIN = 1.0
"""Proposed default spike guard of water levels (R10): 1 m/min."""
DEFAULT_EXPECTED_REPORT_INTERVAL_S = 300.0
"""Proposed default report interval: one report each 5 minutes."""

ATTRIBUTE_PATHS = (
    "thresholds.warning_level_m",
    "thresholds.guarantee_level_m",
    "thresholds.flood_limit_level_m",
    "thresholds.historic_max_m",
    "thresholds.field_capacity_pct_by_depth.<depth cm>",
    "expected_report_interval_s",
)
"""Station attributes a ``value_ref`` may name (see :meth:`Station.attributes`)."""
_DEPTH_PREFIX = "thresholds.field_capacity_pct_by_depth."


def attribute_path(path: str) -> str:
    """``path``, if it names a station attribute.

    Raises:
        ValueError: an unknown path; the message lists the known ones.

    Examples:
        >>> attribute_path("thresholds.field_capacity_pct_by_depth.20")
        'thresholds.field_capacity_pct_by_depth.20'
    """
    depth = path.removeprefix(_DEPTH_PREFIX)
    if path in ATTRIBUTE_PATHS or (
        path != depth and depth.isdigit() and 1 <= int(depth) <= 1000
    ):
        return path
    known = ", ".join(ATTRIBUTE_PATHS)
    raise ValueError(f"unknown station attribute; use one of {known}")


class StationKind(StrEnum):
    """What a station measures or does."""

    WATER_LEVEL = "water_level"
    RAIN = "rain"
    SOIL_MOISTURE = "soil_moisture"
    RESERVOIR = "reservoir"
    SIREN = "siren"

    def measures(self, element: str) -> bool:
        """``element`` is the station's own measurement (its limits apply)."""
        match self:
            case StationKind.WATER_LEVEL | StationKind.RESERVOIR:
                return element == "water_level"
            case StationKind.RAIN:
                return element == "rain_5min"
            case StationKind.SOIL_MOISTURE:
                return element.startswith("soil_moisture_")
            case StationKind.SIREN:
                return False


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Levels (m, in the station's datum) and field capacities (%, by depth in cm).

    Attributes:
        warning_level_m: 警戒水位.
        guarantee_level_m: 保证水位, above the warning level.
        flood_limit_level_m: 汛限水位 of a reservoir.
        historic_max_m: The highest level on record.
        field_capacity_pct_by_depth: Depth (cm) → field capacity (% water).
    """

    warning_level_m: float | None = None
    guarantee_level_m: float | None = None
    flood_limit_level_m: float | None = None
    historic_max_m: float | None = None
    field_capacity_pct_by_depth: Mapping[int, float] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        warning, guarantee = self.warning_level_m, self.guarantee_level_m
        if warning is not None and guarantee is not None and guarantee <= warning:
            raise ValueError("guarantee_level_m must be above warning_level_m")
        if any(not 0 < fc <= 100 for fc in self.field_capacity_pct_by_depth.values()):
            raise ValueError("field capacities must be in (0, 100] %")
        object.__setattr__(
            self,
            "field_capacity_pct_by_depth",
            MappingProxyType(dict(self.field_capacity_pct_by_depth)),
        )


@dataclass(frozen=True, slots=True)
class Station:
    """One monitoring station (测站).

    Attributes:
        id: Station id.
        kind: What it measures.
        datum: Height datum of its levels (``cn1985``, ``local:…``), if any.
        thresholds: Its levels and field capacities.
        expected_report_interval_s: How often it should report.
        linked_camera_ids: Cameras that watch it.
        min_valid: Lowest plausible reading of its own element.
        max_valid: Highest plausible reading.
        max_rate_per_min: Spike guard; water levels default to 1 m/min.
        spike_persist_samples: Agreeing readings that make a jump real (R10).
    """

    id: str
    kind: StationKind
    datum: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    expected_report_interval_s: float = DEFAULT_EXPECTED_REPORT_INTERVAL_S
    linked_camera_ids: tuple[str, ...] = ()
    min_valid: float | None = None
    max_valid: float | None = None
    max_rate_per_min: float | None = None
    spike_persist_samples: int = DEFAULT_SPIKE_PERSIST_SAMPLES

    def __post_init__(self) -> None:
        t = self.thresholds
        levels = (t.warning_level_m, t.guarantee_level_m, t.flood_limit_level_m)
        level_kinds = (StationKind.WATER_LEVEL, StationKind.RESERVOIR)
        if self.kind not in level_kinds and (
            any(v is not None for v in levels) or t.historic_max_m is not None
        ):
            raise ValueError(f"water levels apply to level stations, not {self.kind}")
        if t.field_capacity_pct_by_depth and self.kind is not StationKind.SOIL_MOISTURE:
            raise ValueError("field capacities apply to soil_moisture stations")
        if not self.expected_report_interval_s > 0:
            raise ValueError("expected_report_interval_s must be > 0")
        Limits(self.min_valid, self.max_valid, self.max_rate_per_min)  # checks them

    def attributes(self) -> Mapping[str, float]:
        """Numeric attributes that are set, by ``value_ref`` path."""
        t = self.thresholds
        levels = {
            "warning_level_m": t.warning_level_m,
            "guarantee_level_m": t.guarantee_level_m,
            "flood_limit_level_m": t.flood_limit_level_m,
            "historic_max_m": t.historic_max_m,
        }
        found = {f"thresholds.{k}": v for k, v in levels.items() if v is not None}
        for depth, fc in sorted(t.field_capacity_pct_by_depth.items()):
            found[f"thresholds.field_capacity_pct_by_depth.{depth}"] = fc
        found["expected_report_interval_s"] = self.expected_report_interval_s
        return MappingProxyType(found)

    def limits_for(self, element: str) -> Limits | None:
        """The limits of ``element``; ``None`` for elements it does not measure."""
        if not self.kind.measures(element):
            return None
        rate = self.max_rate_per_min
        if rate is None and element == "water_level":
            rate = DEFAULT_MAX_RATE_M_PER_MIN
        return Limits(self.min_valid, self.max_valid, rate, self.spike_persist_samples)

    def field_capacity_pct(self, depth_cm: int) -> float | None:
        """Field capacity at ``depth_cm``, if configured."""
        return self.thresholds.field_capacity_pct_by_depth.get(depth_cm)

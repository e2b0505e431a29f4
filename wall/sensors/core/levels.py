"""Water-level stage: normal, warning, guaranteed, over historic maximum (domain §6).

Reaching a level counts (the guaranteed level "reached" means the emergency
flood period); the historic maximum must be exceeded. The margin is in metres
over the level of the stage (negative below the warning level: the distance
still to go). Levels and readings share the station's datum.

Examples:
    >>> t = Thresholds(warning_level_m=10.0, guarantee_level_m=11.5)
    >>> r = water_stage(11.9, t)
    >>> r.stage.value, round(r.margin_m or 0, 2)
    ('guaranteed', 0.4)
    >>> water_stage(9.4, t).stage.value, round(water_stage(9.4, t).margin_m or 0, 2)
    ('normal', -0.6)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wall.sensors.core.stations import Thresholds

__all__ = ["StageReading", "WaterStage", "water_stage"]


class WaterStage(StrEnum):
    """Stage of a water level, lowest first."""

    NORMAL = "normal"
    WARNING = "warning"
    GUARANTEED = "guaranteed"
    OVER_HISTORIC_MAX = "over_historic_max"


@dataclass(frozen=True, slots=True)
class StageReading:
    """The stage of one level.

    Attributes:
        stage: The highest stage reached.
        margin_m: Metres over the stage's level; for ``normal``, the level
            minus the warning level; ``None`` without any level configured.
        over_flood_limit: Above a reservoir's flood-limit level; ``None``
            without one.
    """

    stage: WaterStage
    margin_m: float | None
    over_flood_limit: bool | None


def water_stage(level_m: float, thresholds: Thresholds) -> StageReading:
    """Grade a water level against a station's thresholds.

    Args:
        level_m: The level, in the station's datum.
        thresholds: The station's levels; any may be missing.

    Returns:
        Stage, margin and the flood-limit comparison.
    """
    t = thresholds
    steps = (
        (WaterStage.WARNING, t.warning_level_m),
        (WaterStage.GUARANTEED, t.guarantee_level_m),
    )
    stage, margin = WaterStage.NORMAL, None
    if t.warning_level_m is not None:
        margin = level_m - t.warning_level_m
    for step, level in steps:
        if level is not None and level_m >= level:
            stage, margin = step, level_m - level
    if t.historic_max_m is not None and level_m > t.historic_max_m:
        stage, margin = WaterStage.OVER_HISTORIC_MAX, level_m - t.historic_max_m
    limit = t.flood_limit_level_m
    return StageReading(stage, margin, None if limit is None else level_m > limit)

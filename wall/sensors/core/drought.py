"""Drought grade from relative soil moisture (R8, domain §6, GB/T 32136-2015).

R = soil water content ÷ field capacity. Grades: R > 60 % none, 50 < R ≤ 60
light (轻旱), 40 < R ≤ 50 moderate (中旱), 30 < R ≤ 40 severe (重旱),
R ≤ 30 % extreme (特旱). Without a field capacity no grade is computed and the
result carries a warning instead (never a guessed capacity).

Examples:
    >>> r = soil_drought(18.0, 40.0)
    >>> r.relative_pct, r.grade.value if r.grade else None
    (45.0, 'moderate')
    >>> soil_drought(18.0, None).grade is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DroughtGrade", "DroughtReading", "drought_grade", "soil_drought"]


class DroughtGrade(StrEnum):
    """Agricultural drought grade, mildest first."""

    NONE = "none"
    LIGHT = "light"
    MODERATE = "moderate"
    SEVERE = "severe"
    EXTREME = "extreme"


# upper bounds (R ≤ bound) from the most severe grade up; above 60 %: none
_BOUNDS = (
    (30.0, DroughtGrade.EXTREME),
    (40.0, DroughtGrade.SEVERE),
    (50.0, DroughtGrade.MODERATE),
    (60.0, DroughtGrade.LIGHT),
)


@dataclass(frozen=True, slots=True)
class DroughtReading:
    """The drought reading of one soil-moisture value.

    Attributes:
        relative_pct: Relative soil moisture R in %, ``None`` without a capacity.
        grade: The grade, ``None`` without a capacity.
        warning: Why no grade was computed, if none was.
    """

    relative_pct: float | None
    grade: DroughtGrade | None
    warning: str | None = None


def drought_grade(relative_pct: float) -> DroughtGrade:
    """The grade of a relative soil moisture R (%).

    Examples:
        >>> [drought_grade(r).value for r in (60.0, 60.1, 30.0)]
        ['light', 'none', 'extreme']
    """
    for bound, grade in _BOUNDS:
        if relative_pct <= bound:
            return grade
    return DroughtGrade.NONE


def soil_drought(
    water_content_pct: float, field_capacity_pct: float | None
) -> DroughtReading:
    """Relative moisture and drought grade of a water content (R8).

    Args:
        water_content_pct: Soil water content, % (SL 651 elements 10-17).
        field_capacity_pct: The station's field capacity at that depth, %.

    Returns:
        R and its grade, or a reading with a warning and no grade.

    Raises:
        ValueError: a capacity that is not positive.
    """
    if field_capacity_pct is None:
        return DroughtReading(None, None, "no field capacity configured")
    if not field_capacity_pct > 0:
        raise ValueError("field capacity must be > 0 %")
    relative = water_content_pct * 100.0 / field_capacity_pct
    return DroughtReading(relative, drought_grade(relative))

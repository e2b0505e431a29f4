"""Tour (轮巡) tile content and its dwell rules (T1): the one home of the constants.

The service's tour cursor (``wall.walls.core.tours``) imports these; this
leaf package cannot import ``wall``, so the rules live here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import Field

from layouts.errors import IssueCode, LayoutIssue, Severity
from layouts.file_model import FileModel

ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
Ident = Annotated[str, Field(pattern=ID_PATTERN)]

MIN_DWELL_S: Final = 3.0  # Genetec's wall-page minimum, the project's hard floor (T1)
USUAL_DWELL_S: Final = (5.0, 30.0)  # Chinese local practice (domain §3 "Tours")
DEFAULT_DWELL_S: Final = 10.0  # a tour's dwell when it names none


class TourOrder(StrEnum):
    """Order of a tour's items."""

    SEQUENTIAL = "sequential"
    SHUFFLE = "shuffle"


class TourItem(FileModel):
    """One camera of a tour."""

    camera_id: Ident = Field(description="Camera id.")
    dwell_s: float | None = Field(
        None,
        gt=0,
        le=3600,
        description="Dwell for this item, seconds (default: the tour's).",
    )


class TourContent(FileModel):
    """A tour (轮巡): the tile cycles through cameras (T1-T6)."""

    kind: Literal["tour"] = "tour"
    items: tuple[TourItem, ...] = Field(
        min_length=1, max_length=256, description="Cameras in order."
    )
    dwell_s: float = Field(
        DEFAULT_DWELL_S,
        gt=0,
        le=3600,
        description="Default dwell per item, seconds (>= 3).",
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


def dwell_issue(
    dwell_s: float, where: str = "dwell_s", tile_id: str | None = None
) -> LayoutIssue | None:
    """The issue of one dwell (T1): under 3 s an error, outside 5-30 s a warning.

    Examples:
        >>> dwell_issue(10.0) is None
        True
        >>> dwell_issue(45.0).message
        'tour dwell 45 s is outside the usual 5-30 s'
        >>> dwell_issue(2.0).severity.value
        'error'
    """
    low, high = USUAL_DWELL_S
    if dwell_s < MIN_DWELL_S:
        return LayoutIssue(
            Severity.ERROR,
            IssueCode.DWELL_TOO_SHORT,
            f"tour dwell {dwell_s:g} s is under the {MIN_DWELL_S:g} s minimum",
            where,
            tile_id,
        )
    if not low <= dwell_s <= high:
        return LayoutIssue(
            Severity.WARNING,
            IssueCode.DWELL_UNUSUAL,
            f"tour dwell {dwell_s:g} s is outside the usual {low:g}-{high:g} s",
            where,
            tile_id,
        )
    return None


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
    found = (dwell_issue(dwell_s, where, tile_id) for where, dwell_s in checks)
    return [issue for issue in found if issue is not None]

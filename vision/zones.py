"""Zones: polygons in image pixels and who stands in them.

A detected object is in a zone when its *foot point*, the bottom-centre of its
box, lies inside the zone's polygon or on its boundary. Feet rather than box
centres: a person's centre drifts into a zone drawn on the ground while the
person still stands outside it. Boundary points count as inside so a box
clipped at the bottom of the frame still falls in a zone drawn to the frame's
edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Zone",
    "count_in_zones",
    "foot_points",
    "points_in_polygon",
    "polygon_area_px",
    "zone_membership",
]

# Relative tolerance for "on the boundary" (cross product / squared edge length).
_ON_EDGE_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Zone:
    """A region of one camera's picture.

    Attributes:
        zone_id: Identifier, unique per camera.
        polygon_px: Vertices (x, y) in source-image pixels, in order, not closed
            (the last vertex joins the first); at least three.
        area_m2: Real ground area in square metres, when calibrated; needed for
            density (X2).
    """

    zone_id: str
    polygon_px: tuple[tuple[float, float], ...]
    area_m2: float | None = None

    def __post_init__(self) -> None:
        if len(self.polygon_px) < 3:
            raise ValueError(f"zone {self.zone_id!r}: a polygon needs 3+ vertices")
        if self.area_m2 is not None and not self.area_m2 > 0:
            raise ValueError(f"zone {self.zone_id!r}: area_m2 must be positive")


def foot_points(xyxy: NDArray[np.floating]) -> NDArray[np.float64]:
    """Bottom-centre (x, y) of each box: where a standing person's feet are.

    Examples:
        >>> foot_points(np.array([[10, 20, 30, 80]])).tolist()
        [[20.0, 80.0]]
    """
    boxes = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.stack(((boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]), axis=1)


def points_in_polygon(
    points_xy: NDArray[np.floating], polygon_px: Sequence[tuple[float, float]]
) -> NDArray[np.bool_]:
    """Which points lie inside a polygon or on its boundary (even-odd rule).

    Vectorised over points and edges at once: for every point, a ray to the
    right is tested against every edge.

    Args:
        points_xy: (N, 2) points in pixels.
        polygon_px: Vertices (x, y), not closed; may be concave.

    Returns:
        (N,) booleans.

    Examples:
        >>> square = [(0, 0), (10, 0), (10, 10), (0, 10)]
        >>> pts = np.array([[5, 5], [15, 5], [10, 10], [0, 5], [-1, 5]])
        >>> points_in_polygon(pts, square).tolist()
        [True, False, True, True, False]
    """
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    start = np.asarray(polygon_px, dtype=np.float64)
    end = np.roll(start, -1, axis=0)
    px, py = pts[:, 0:1], pts[:, 1:2]
    x1, y1, x2, y2 = start[:, 0], start[:, 1], end[:, 0], end[:, 1]
    straddles = (y1 > py) != (y2 > py)
    dy = np.where(y2 == y1, 1.0, y2 - y1)  # such edges never straddle
    x_cross = x1 + (py - y1) * (x2 - x1) / dy
    inside = (straddles & (px < x_cross)).sum(axis=1) % 2 == 1
    cross = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)
    length2 = np.maximum((x2 - x1) ** 2 + (y2 - y1) ** 2, 1e-12)
    within = (
        (px >= np.minimum(x1, x2))
        & (px <= np.maximum(x1, x2))
        & (py >= np.minimum(y1, y2))
        & (py <= np.maximum(y1, y2))
    )
    on_edge = (np.abs(cross) <= _ON_EDGE_EPS * length2) & within
    result: NDArray[np.bool_] = inside | on_edge.any(axis=1)
    return result


def polygon_area_px(polygon_px: Sequence[tuple[float, float]]) -> float:
    """Area of a simple polygon in square pixels (shoelace formula).

    Examples:
        >>> polygon_area_px([(0, 0), (4, 0), (4, 3)])
        6.0
    """
    pts = np.asarray(polygon_px, dtype=np.float64)
    x, y = pts[:, 0], pts[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def zone_membership(
    xyxy: NDArray[np.floating], zones: Sequence[Zone]
) -> NDArray[np.bool_]:
    """Which boxes stand in which zones, by their foot points.

    Args:
        xyxy: (N, 4) boxes in source pixels.
        zones: Zones of the same camera.

    Returns:
        (N, Z) booleans, column ``j`` for ``zones[j]``.

    Examples:
        >>> z = Zone("gate", ((0, 0), (100, 0), (100, 100), (0, 100)))
        >>> zone_membership(np.array([[10, 10, 20, 50], [10, 80, 20, 150]]), [z])
        array([[ True],
               [False]])
    """
    feet = foot_points(xyxy)
    columns = [points_in_polygon(feet, zone.polygon_px) for zone in zones]
    if not columns:
        return np.zeros((feet.shape[0], 0), dtype=bool)
    return np.stack(columns, axis=1)


def count_in_zones(xyxy: NDArray[np.floating], zones: Sequence[Zone]) -> dict[str, int]:
    """Number of boxes standing in each zone (a box may count in several).

    Examples:
        >>> z = Zone("gate", ((0, 0), (100, 0), (100, 100), (0, 100)))
        >>> count_in_zones(np.array([[10, 10, 20, 50], [0, 0, 4, 4]]), [z])
        {'gate': 2}
    """
    counts = zone_membership(xyxy, zones).sum(axis=0)
    return {zone.zone_id: int(n) for zone, n in zip(zones, counts, strict=True)}

"""Zone maths: point in polygon, foot points, membership and counts."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise

import numpy as np
import pytest

from vision.zones import (
    Zone,
    count_in_zones,
    foot_points,
    points_in_polygon,
    polygon_area_px,
    zone_membership,
)

Point = tuple[float, float]
SQUARE = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))
# An L: the square minus its top-right quarter (concave).
L_SHAPE = ((0.0, 0.0), (5.0, 0.0), (5.0, 5.0), (10.0, 5.0), (10.0, 10.0), (0.0, 10.0))
TRIANGLE = ((0.0, 0.0), (10.0, 0.0), (0.0, 10.0))


@pytest.mark.parametrize(
    ("polygon", "point", "inside"),
    [
        (SQUARE, (5, 5), True),
        (SQUARE, (15, 5), False),
        (SQUARE, (-0.001, 5), False),
        (SQUARE, (0, 5), True),  # on the left edge
        (SQUARE, (10, 10), True),  # on a vertex
        (SQUARE, (5, 10), True),  # on the bottom edge (image y grows down)
        (SQUARE, (5, 10.001), False),
        (L_SHAPE, (2, 2), True),
        (L_SHAPE, (7, 2), False),  # in the notch
        (L_SHAPE, (7, 7), True),
        (L_SHAPE, (5, 2.5), True),  # on the notch's edge
        (TRIANGLE, (2, 2), True),
        (TRIANGLE, (5, 5), True),  # on the hypotenuse
        (TRIANGLE, (6, 6), False),
    ],
)
def test_point_in_polygon_table(
    polygon: tuple[Point, ...], point: Point, inside: bool
) -> None:
    assert points_in_polygon(np.array([point]), polygon).tolist() == [inside]


def test_point_in_polygon_is_vectorised_over_points() -> None:
    rng = np.random.default_rng(5)
    points = rng.uniform(-5, 15, size=(1000, 2))
    got = points_in_polygon(points, L_SHAPE)
    in_square = np.all((points >= 0) & (points <= 10), axis=1)
    in_notch = (points[:, 0] > 5) & (points[:, 1] < 5)
    assert got.tolist() == (in_square & ~in_notch).tolist()


def test_foot_points_are_bottom_centres() -> None:
    boxes = np.array([[10, 20, 30, 80], [0, 0, 1, 1]])
    assert foot_points(boxes).tolist() == [[20.0, 80.0], [0.5, 1.0]]
    assert foot_points(np.zeros((0, 4))).shape == (0, 2)


def test_membership_uses_feet_not_centres() -> None:
    ground = Zone("ground", ((0, 100), (200, 100), (200, 200), (0, 200)))
    # head and centre above the zone, feet in it
    tall = [50, 0, 70, 150]
    # centre in the zone, feet below it
    low = [50, 120, 70, 260]
    membership = zone_membership(np.array([tall, low]), [ground])
    assert membership.tolist() == [[True], [False]]


def test_counts_per_zone_with_overlapping_zones() -> None:
    left = Zone("left", ((0, 0), (60, 0), (60, 100), (0, 100)))
    right = Zone("right", ((40, 0), (100, 0), (100, 100), (40, 100)))
    boxes = np.array(
        [
            [0, 0, 20, 50],  # feet (10, 50): left
            [40, 0, 60, 50],  # feet (50, 50): both
            [80, 0, 100, 50],  # feet (90, 50): right
            [80, 0, 100, 150],  # feet (90, 150): nowhere
        ]
    )
    assert count_in_zones(boxes, [left, right]) == {"left": 2, "right": 2}
    assert count_in_zones(np.zeros((0, 4)), [left]) == {"left": 0}
    assert zone_membership(boxes, []).shape == (4, 0)


@pytest.mark.parametrize(
    ("polygon", "area"),
    [
        (SQUARE, 100.0),
        (L_SHAPE, 75.0),
        (TRIANGLE, 50.0),
        (tuple(reversed(SQUARE)), 100.0),
    ],
)
def test_polygon_area_table(polygon: tuple[Point, ...], area: float) -> None:
    assert polygon_area_px(polygon) == area


@pytest.mark.parametrize(
    ("polygon", "area_m2", "expectation"),
    [
        (SQUARE, 12.5, DoesNotRaise()),
        (SQUARE, None, DoesNotRaise()),
        (SQUARE[:2], None, pytest.raises(ValueError, match="3\\+ vertices")),
        (SQUARE, 0.0, pytest.raises(ValueError, match="positive")),
        (SQUARE, -3.0, pytest.raises(ValueError, match="positive")),
    ],
)
def test_zone_validation(
    polygon: tuple[Point, ...],
    area_m2: float | None,
    expectation: AbstractContextManager[object],
) -> None:
    with expectation:
        Zone("z", polygon, area_m2)

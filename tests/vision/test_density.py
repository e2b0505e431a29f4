"""Density (X2) and the crowding rule's hysteresis and minimum duration (X3)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise
from typing import Any

import numpy as np
import pytest

from vision.density import (
    CrowdingEvent,
    CrowdingRule,
    CrowdingState,
    ZoneCount,
    density_ppm2,
    step_crowding,
    zone_counts,
)
from vision.zones import Zone, count_in_zones

SQUARE = ((0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0))


def _run(
    rule: CrowdingRule, timeline: list[tuple[float, int]], area_m2: float | None
) -> list[CrowdingEvent]:
    state = CrowdingState()
    events = []
    for now, count in timeline:
        reading = ZoneCount("plaza", count, density_ppm2(count, area_m2))
        state, event = step_crowding(rule, state, reading, now)
        if event is not None:
            events.append(event)
    return events


def _steady(
    count: int, start: float, stop: float, step: float = 1.0
) -> list[tuple[float, int]]:
    return [(float(t), count) for t in np.arange(start, stop + 1e-9, step)]


@pytest.mark.parametrize(
    ("count", "area_m2", "density"),
    [(10, 2.5, 4.0), (0, 10.0, 0.0), (7, 1.0, 7.0), (10, None, None), (0, None, None)],
)
def test_X2_density_is_count_over_area(
    count: int, area_m2: float | None, density: float | None
) -> None:
    assert density_ppm2(count, area_m2) == density


def test_X2_density_needs_a_positive_area() -> None:
    with pytest.raises(ValueError, match="positive"):
        density_ppm2(3, 0.0)


def test_X2_zone_counts_report_density_only_where_the_area_is_known() -> None:
    zones = [Zone("calibrated", SQUARE, 2.0), Zone("uncalibrated", SQUARE)]
    boxes = np.array([[10, 10, 20, 50]] * 9, np.float32)

    readings = zone_counts(count_in_zones(boxes, zones), zones)

    assert readings == (
        ZoneCount("calibrated", 9, 4.5),
        ZoneCount("uncalibrated", 9, None),
    )


def test_X2_without_area_a_density_rule_never_raises() -> None:
    events = _run(CrowdingRule(), _steady(1000, 0, 60), area_m2=None)
    assert events == []


def test_X2_without_area_a_count_rule_still_raises_with_no_density() -> None:
    rule = CrowdingRule(warn_count=30, clear_count=20)
    timeline = _steady(30, 0, 10) + _steady(25, 11, 12) + _steady(19, 13, 14)

    events = _run(rule, timeline, area_m2=None)

    assert [(e.kind, e.at_monotonic_s, e.count, e.density_ppm2) for e in events] == [
        ("raised", 10.0, 30, None),
        ("updated", 11.0, 25, None),
        ("cleared", 13.0, 19, None),
    ]


# Timelines at 1 reading/s in a 10 m^2 zone: 40 persons = 4.0 p/m^2.
X3_CASES: dict[
    str, tuple[dict[str, Any], list[tuple[float, int]], list[tuple[str, float]]]
] = {
    "raised_once_after_the_minimum_duration": (
        {},
        _steady(40, 0, 15),
        [("raised", 10.0)],
    ),
    "shorter_than_the_minimum_never_raises": (
        {},
        _steady(40, 0, 9) + _steady(10, 10, 20),
        [],
    ),
    "a_dip_below_warn_restarts_the_duration": (
        {},
        [*_steady(40, 0, 5), (6.0, 35), *_steady(40, 7, 20)],
        [("raised", 17.0)],
    ),
    "the_band_between_clear_and_warn_keeps_it_active": (
        {},
        [*_steady(40, 0, 10), (11.0, 35), (12.0, 31), (13.0, 30), (14.0, 29)],
        [
            ("raised", 10.0),
            ("updated", 11.0),
            ("updated", 12.0),
            ("updated", 13.0),
            ("cleared", 14.0),
        ],
    ),
    "cleared_once_and_quiet_afterwards": (
        {},
        _steady(45, 0, 10) + _steady(5, 11, 30),
        [("raised", 10.0), ("cleared", 11.0)],
    ),
    "no_update_while_nothing_changes": (
        {},
        _steady(40, 0, 30),
        [("raised", 10.0)],
    ),
    "raising_again_needs_a_new_full_duration": (
        {},
        [*_steady(40, 0, 10), (11.0, 0), *_steady(40, 12, 25)],
        [("raised", 10.0), ("cleared", 11.0), ("raised", 22.0)],
    ),
    "clear_duration_holds_the_alarm": (
        {"clear_duration_s": 3.0},
        _steady(40, 0, 10) + _steady(20, 11, 13) + [(14.0, 40)] + _steady(20, 15, 20),
        # the count changes at 11, 14 and 15 while active; 3 s below 3 p/m^2 by 18
        [
            ("raised", 10.0),
            ("updated", 11.0),
            ("updated", 14.0),
            ("updated", 15.0),
            ("cleared", 18.0),
        ],
    ),
    "count_threshold_or_density_threshold": (
        {"warn_ppm2": 6.0, "clear_ppm2": 5.0, "warn_count": 40, "clear_count": 30},
        [*_steady(40, 0, 10), (11.0, 35), (12.0, 29)],
        [("raised", 10.0), ("updated", 11.0), ("cleared", 12.0)],
    ),
    "zero_minimum_duration_raises_at_once": (
        {"min_duration_s": 0.0},
        [(0.0, 40), (1.0, 10)],
        [("raised", 0.0), ("cleared", 1.0)],
    ),
    "custom_thresholds_at_5_fps": (
        {"warn_ppm2": 5.0, "clear_ppm2": 2.0, "min_duration_s": 2.0},
        _steady(50, 0, 2, 0.2) + _steady(21, 2.2, 3, 0.2) + _steady(19, 3.2, 4, 0.2),
        [("raised", 2.0), ("updated", 2.2), ("cleared", 3.2)],
    ),
}


@pytest.mark.parametrize(
    ("rule_args", "timeline", "expected"), X3_CASES.values(), ids=X3_CASES.keys()
)
def test_X3_crowding_hysteresis_and_duration(
    rule_args: dict[str, Any],
    timeline: list[tuple[float, int]],
    expected: list[tuple[str, float]],
) -> None:
    events = _run(CrowdingRule(**rule_args), timeline, area_m2=10.0)
    assert [(e.kind, round(e.at_monotonic_s, 3)) for e in events] == expected


def test_X3_events_carry_the_start_and_the_peak() -> None:
    timeline = [*_steady(40, 0, 9), (10.0, 52), (11.0, 45), (12.0, 10)]

    raised, updated, cleared = _run(CrowdingRule(), timeline, area_m2=10.0)

    assert {e.started_monotonic_s for e in (raised, updated, cleared)} == {0.0}
    assert (raised.count, raised.density_ppm2, raised.peak_count) == (52, 5.2, 52)
    assert (updated.count, updated.peak_density_ppm2) == (45, 5.2)
    assert (cleared.count, cleared.peak_count, cleared.at_monotonic_s) == (10, 52, 12.0)


def test_X3_time_must_not_go_backwards() -> None:
    state, _ = step_crowding(
        CrowdingRule(), CrowdingState(), ZoneCount("z", 1, 0.1), 5.0
    )
    with pytest.raises(ValueError, match="backwards"):
        step_crowding(CrowdingRule(), state, ZoneCount("z", 1, 0.1), 4.0)


@pytest.mark.parametrize(
    ("args", "expectation"),
    [
        ({}, DoesNotRaise()),
        ({"warn_ppm2": None, "clear_ppm2": None, "warn_count": 30}, DoesNotRaise()),
        (
            {"warn_ppm2": None, "clear_ppm2": None},
            pytest.raises(ValueError, match="needs warn"),
        ),
        ({"clear_ppm2": None}, pytest.raises(ValueError, match="needs clear_ppm2")),
        (
            {"clear_ppm2": 4.5},
            pytest.raises(ValueError, match="clear_ppm2 must not exceed"),
        ),
        (
            {"warn_count": 10, "clear_count": 11},
            pytest.raises(ValueError, match="clear_count"),
        ),
        ({"min_duration_s": -1.0}, pytest.raises(ValueError, match="negative")),
    ],
)
def test_X3_rule_validation(
    args: dict[str, Any], expectation: AbstractContextManager[object]
) -> None:
    with expectation:
        CrowdingRule(**args)


def test_X3_replayed_crowd_gives_exactly_one_alarm() -> None:
    """Boxes of a crowd that gathers and disperses, at 5 fps, through zones to rules."""
    zone = Zone("plaza", SQUARE, area_m2=10.0)
    outside = [200.0, 200.0, 210.0, 260.0]

    def frame(people_inside: int) -> np.ndarray[tuple[int, ...], np.dtype[np.float32]]:
        inside = [[x % 90, 10.0, x % 90 + 8, 60.0] for x in range(people_inside)]
        return np.array(inside + [outside] * 5, np.float32)

    crowd = (
        [0] * 25
        + list(range(0, 50, 2))
        + [50] * 100
        + list(range(50, 0, -2))
        + [0] * 25
    )
    state = CrowdingState()
    events = []
    for index, people in enumerate(crowd):
        now = 100.0 + index / 5
        (reading,) = zone_counts(count_in_zones(frame(people), [zone]), [zone])
        state, event = step_crowding(CrowdingRule(), state, reading, now)
        if event is not None and event.kind != "updated":
            events.append(
                (
                    event.kind,
                    round(event.started_monotonic_s, 1),
                    round(event.at_monotonic_s, 1),
                )
            )

    # 40 persons reached at frame 45 (t=109.0): raised 10 s later; the count falls
    # below 30 at frame 161 (t=132.2)
    assert events == [("raised", 109.0, 119.0), ("cleared", 109.0, 132.2)]

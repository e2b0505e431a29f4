"""Detection's pure core: update throttling (active alarms) and analysis pacing."""

from __future__ import annotations

import itertools
from typing import Literal

import pytest

from wall.detection.core import AnalysisThrottle, DetectionChange, UpdateThrottle

Kind = Literal["raised", "updated", "cleared"]


def _ch(kind: Kind, zone: str = "kerb", count: int = 5) -> DetectionChange:
    return DetectionChange("crowding", kind, zone, "major", 0.0, 0.0, {"count": count})


@pytest.mark.parametrize(
    ("steps", "emitted"),
    [
        # raise at once; an update within the interval is held, then sent
        (
            [(0.0, ["raised", "updated"]), (0.5, []), (1.0, [])],
            [["raised"], [], ["updated"]],
        ),
        # a later update replaces a held one
        (
            [(0.0, ["raised"]), (0.2, ["updated"]), (0.4, ["updated"]), (1.1, [])],
            [["raised"], [], [], ["updated"]],
        ),
        # a clear drops the held update and leaves at once
        (
            [(0.0, ["raised"]), (0.2, ["updated"]), (0.3, ["cleared"]), (2.0, [])],
            [["raised"], [], ["cleared"], []],
        ),
    ],
)
def test_updates_leave_at_most_once_per_interval(
    steps: list[tuple[float, list[Kind]]], emitted: list[list[str]]
) -> None:
    throttle = UpdateThrottle(1.0)
    out = [
        [c.kind for c in throttle.admit("gate", [_ch(k) for k in kinds], now)]
        for now, kinds in steps
    ]
    assert out == emitted


def test_active_alarms_follow_raises_and_clears_per_zone() -> None:
    throttle = UpdateThrottle(0.0)
    throttle.admit("gate", [_ch("raised", "kerb"), _ch("raised", "quay")], 0.0)
    throttle.admit("gate", [_ch("cleared", "quay")], 1.0)
    assert throttle.active_alarms("gate", "kerb") == ["crowding"]
    assert throttle.active_alarms("gate", "quay") == []
    assert throttle.active_alarms("calm", "kerb") == []


@pytest.mark.parametrize("fps", [2.0, 5.0, 10.0, 30.0])
def test_analysis_leaves_at_most_about_four_a_second(fps: float) -> None:
    throttle, interval = AnalysisThrottle(0.25), 1.0 / fps
    sent = [
        i * interval
        for i in range(int(10 * fps))
        if throttle.due("gate", i, i * interval)
    ]
    duration = 10.0
    assert len(sent) <= duration / 0.25 + 1
    # never two closer than half the interval; slower cameras lose nothing
    assert all(b - a >= 0.125 - 1e-9 for a, b in itertools.pairwise(sent))
    if fps <= 4:
        assert len(sent) == int(10 * fps)
    else:
        assert len(sent) >= 0.75 * duration / 0.25


def test_an_unchanged_camera_is_not_republished_and_cameras_are_paced_apart() -> None:
    throttle = AnalysisThrottle(0.25)
    assert throttle.due("gate", 1, 0.0)
    assert not throttle.due("gate", 1, 5.0)  # nothing new
    assert throttle.due("calm", 1, 0.01)  # another camera has its own slot
    assert throttle.due("gate", 2, 5.0)

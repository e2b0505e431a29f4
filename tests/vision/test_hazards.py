"""Hazard rules: intrusion with and without an arming condition, loitering."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from vision.hazards import (
    HazardEvent,
    HazardState,
    IntrusionRule,
    LoiteringRule,
    intruders,
    step_intrusion,
    step_loitering,
)
from vision.tracker import TrackerState, update_tracks
from vision.types import Detection
from vision.zones import Zone

RIVERBANK = Zone(
    "riverbank", ((0.0, 100.0), (200.0, 100.0), (200.0, 200.0), (0.0, 200.0))
)
FLOOD = "flood_warning:station_12"


def _obj(label: str, feet_y: float, x: float = 50.0) -> Detection:
    class_id = {"person": 0, "car": 2, "truck": 7, "dog": 16}[label]
    return Detection(label, class_id, 0.8, (x, feet_y - 40.0, x + 20.0, feet_y))


IN = 150.0  # feet inside the riverbank zone
OUT = 50.0  # feet above it


def _run_intrusion(
    rule: IntrusionRule, frames: Sequence[tuple[float, list[Detection], set[str]]]
) -> list[tuple[str, float, int, tuple[str, ...]]]:
    state = HazardState()
    events: list[HazardEvent] = []
    for now, dets, conditions in frames:
        state, event = step_intrusion(rule, state, dets, conditions, now)
        if event is not None:
            events.append(event)
    return [(e.kind, e.at_monotonic_s, e.count, e.labels) for e in events]


def test_intruders_by_class_and_feet() -> None:
    rule = IntrusionRule(RIVERBANK, frozenset({"person", "car", "truck"}))
    dets = [
        _obj("person", IN),
        _obj("dog", IN),
        _obj("car", OUT),
        _obj("truck", IN, x=150),
    ]
    assert [d.label for d in intruders(rule, dets)] == ["person", "truck"]
    assert intruders(rule, []) == ()


@pytest.mark.parametrize(
    ("condition", "active", "expected"),
    [
        pytest.param(
            None,
            [set(), set(), set()],
            [("raised", 0.0, 1, ("person",)), ("cleared", 7.0, 0, ())],
            id="no-condition-always-armed",
        ),
        pytest.param(
            FLOOD,
            [{FLOOD}, {FLOOD}, {FLOOD}],
            [("raised", 0.0, 1, ("person",)), ("cleared", 7.0, 0, ())],
            id="condition-holds",
        ),
        pytest.param(FLOOD, [set(), set(), set()], [], id="condition-absent-no-alarm"),
        pytest.param(
            FLOOD,
            [set(), {FLOOD}, {FLOOD}],
            [("raised", 1.0, 1, ("person",)), ("cleared", 7.0, 0, ())],
            id="armed-while-someone-is-inside",
        ),
    ],
)
def test_intrusion_with_and_without_condition(
    condition: str | None,
    active: list[set[str]],
    expected: list[tuple[str, float, int, tuple[str, ...]]],
) -> None:
    rule = IntrusionRule(RIVERBANK, condition=condition, clear_after_s=5.0)
    person = [_obj("person", IN)]
    frames = [
        (0.0, person, active[0]),
        (1.0, person, active[1]),
        (2.0, [], active[2]),
        (4.0, [], active[2]),
        (7.0, [], active[2]),
    ]
    assert _run_intrusion(rule, frames) == expected


def test_intrusion_clears_at_once_when_the_condition_ends() -> None:
    rule = IntrusionRule(RIVERBANK, condition=FLOOD, clear_after_s=30.0)
    person = [_obj("person", IN)]
    frames = [(0.0, person, {FLOOD}), (1.0, person, {FLOOD}), (2.0, person, set())]
    assert _run_intrusion(rule, frames) == [
        ("raised", 0.0, 1, ("person",)),
        ("cleared", 2.0, 0, ()),
    ]


def test_intrusion_minimum_duration_and_updates() -> None:
    rule = IntrusionRule(
        RIVERBANK, frozenset({"person", "car"}), min_duration_s=1.0, clear_after_s=0.0
    )
    frames: list[tuple[float, list[Detection], set[str]]] = [
        (0.0, [_obj("person", IN)], set()),
        (0.5, [], set()),  # a blip: pending resets
        (1.0, [_obj("person", IN)], set()),
        (2.0, [_obj("person", IN)], set()),
        (2.5, [_obj("person", IN), _obj("car", IN, x=120)], set()),
        (3.0, [_obj("person", IN), _obj("car", IN, x=121)], set()),
        (3.5, [_obj("car", OUT)], set()),
    ]
    assert _run_intrusion(rule, frames) == [
        ("raised", 2.0, 1, ("person",)),
        ("updated", 2.5, 2, ("car", "person")),
        ("cleared", 3.5, 0, ()),
    ]


def test_loitering_raises_after_the_dwell_and_tracks_ids() -> None:
    rule = LoiteringRule("riverbank", dwell_s=10.0)
    tracker = TrackerState()
    state = HazardState()
    events = []
    for tick in range(0, 31):
        now = float(tick)
        dets = [_obj("person", IN, x=20)]
        if tick >= 5:
            dets.append(_obj("person", IN, x=120))
        if tick >= 25:
            dets = []  # both leave the picture
        tracker = update_tracks(tracker, dets, now, [RIVERBANK])
        state, event = step_loitering(rule, state, tracker.tracks, now)
        if event is not None:
            events.append((event.kind, event.at_monotonic_s, event.track_ids))
    assert events == [
        ("raised", 11.0, (1,)),  # dwell > 10 s, not >= 10 s
        ("updated", 16.0, (1, 2)),
        ("cleared", 26.0, ()),  # once their tracks expire (max_age_s 1 s)
    ]


def test_loitering_ignores_other_classes() -> None:
    rule = LoiteringRule("riverbank", classes=frozenset({"person"}), dwell_s=1.0)
    tracker = TrackerState()
    state = HazardState()
    for tick in range(5):
        tracker = update_tracks(tracker, [_obj("dog", IN)], float(tick), [RIVERBANK])
        state, event = step_loitering(rule, state, tracker.tracks, float(tick))
        assert event is None

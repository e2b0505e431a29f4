"""IoU tracker: stable ids, new ids, expiry, dwell per zone."""

from __future__ import annotations

import pytest

from vision.tracker import TrackerConfig, TrackerState, update_tracks
from vision.types import Detection
from vision.zones import Zone

GATE = Zone("gate", ((0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)))


def _person(
    x: float, y: float = 0.0, label: str = "person", class_id: int = 0
) -> Detection:
    return Detection(label, class_id, 0.9, (x, y, x + 20.0, y + 50.0))


def _ids(state: TrackerState) -> list[int]:
    return [t.track_id for t in state.tracks]


def test_walking_people_keep_their_ids() -> None:
    state = TrackerState()
    for step in range(10):
        # two people walking towards each other, 2 px per frame, never overlapping
        state = update_tracks(
            state, [_person(0 + 2 * step), _person(200 - 2 * step)], step * 0.2
        )
    assert _ids(state) == [1, 2]
    assert [t.hits for t in state.tracks] == [10, 10]
    assert state.tracks[0].xyxy == (18.0, 0.0, 38.0, 50.0)


def test_order_of_detections_does_not_matter() -> None:
    state = update_tracks(TrackerState(), [_person(0), _person(200)], 0.0)
    state = update_tracks(state, [_person(201), _person(1)], 0.2)
    by_x = {t.track_id: t.xyxy[0] for t in state.tracks}
    assert by_x == {1: 1.0, 2: 201.0}


@pytest.mark.parametrize(
    ("second", "ids"),
    [
        pytest.param(_person(5), [1], id="small-move-same-id"),
        pytest.param(_person(60), [1, 2], id="jump-new-id"),
        pytest.param(
            _person(5, label="car", class_id=2), [1, 2], id="other-class-new-id"
        ),
    ],
)
def test_matching_table(second: Detection, ids: list[int]) -> None:
    state = update_tracks(TrackerState(), [_person(0)], 0.0)
    state = update_tracks(state, [second], 0.2)
    assert _ids(state) == ids


def test_tracks_coast_through_a_miss_then_expire_and_ids_are_not_reused() -> None:
    config = TrackerConfig(max_age_s=1.0)
    state = update_tracks(TrackerState(), [_person(0)], 0.0, config=config)
    state = update_tracks(state, [], 0.6, config=config)
    assert _ids(state) == [1]  # coasting
    state = update_tracks(state, [_person(1)], 0.8, config=config)
    assert _ids(state) == [1]  # picked up again
    state = update_tracks(state, [], 2.0, config=config)
    assert _ids(state) == []
    state = update_tracks(state, [_person(1)], 2.2, config=config)
    assert _ids(state) == [2]


def test_dwell_counts_from_entry_and_resets_on_leaving() -> None:
    state = TrackerState()
    # feet at y=50 (inside) for t in 0..4, then walk down out of the zone
    for now in (0.0, 1.0, 2.0, 3.0, 4.0):
        state = update_tracks(state, [_person(10, 0)], now, [GATE])
    (track,) = state.tracks
    assert track.dwell_s("gate", 4.0) == 4.0
    assert track.dwell_s("elsewhere", 4.0) == 0.0
    # walk down in small steps (IoU stays above 0.3): feet at 70, 95, then 110
    state = update_tracks(state, [_person(10, 20)], 5.0, [GATE])
    state = update_tracks(state, [_person(10, 45)], 5.5, [GATE])
    assert state.tracks[0].dwell_s("gate", 5.5) == 5.5
    state = update_tracks(state, [_person(10, 60)], 6.0, [GATE])
    (track,) = state.tracks
    assert track.track_id == 1
    assert track.dwell_s("gate", 6.0) == 0.0
    state = update_tracks(state, [_person(10, 45)], 7.0, [GATE])  # back in
    assert state.tracks[0].dwell_s("gate", 9.0) == 2.0


def test_coasting_track_keeps_its_zone() -> None:
    state = update_tracks(TrackerState(), [_person(10)], 0.0, [GATE])
    state = update_tracks(state, [], 0.5, [GATE])
    assert state.tracks[0].dwell_s("gate", 0.5) == 0.5


def test_time_going_backwards_is_rejected() -> None:
    state = update_tracks(TrackerState(), [_person(0)], 5.0)
    with pytest.raises(ValueError, match="backwards"):
        update_tracks(state, [], 4.0)

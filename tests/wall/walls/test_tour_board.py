"""The server's tour state per touring tile (T2, T5, T6): tables on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from layouts.tour_content import TourContent, TourItem, TourOrder
from wall.walls.core.commands import Instant
from wall.walls.core.tour_board import TileTour, TourBoard, tour_items
from wall.walls.core.tours import TourStatus

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # a multiple of every cycle below
MONO0 = 500.0  # the monotonic clock's reading at EPOCH


def at(s: float) -> Instant:
    return Instant(EPOCH + timedelta(seconds=s), MONO0 + s)


def tour(*cameras: str, dwell_s: float = 10.0, skip: bool = True) -> TourContent:
    return TourContent(
        items=tuple(TourItem(camera_id=c) for c in cameras),
        dwell_s=dwell_s,
        skip_offline=skip,
    )


ABC = tour("a", "b", "c")


@pytest.mark.parametrize(
    ("now_s", "down", "expected"),
    [
        (0.0, set(), ("a", "b", 10.0)),
        (9.9, set(), ("a", "b", 10.0)),
        (10.0, set(), ("b", "c", 20.0)),
        (25.0, set(), ("c", "a", 30.0)),
        (30.0, set(), ("a", "b", 40.0)),
        (0.0, {"a"}, ("b", "c", 10.0)),  # T2: skipped, switching at once
        (0.0, {"a", "b"}, ("c", None, None)),  # one left: it stays
    ],
)
def test_t6_state_is_anchored_at_the_utc_epoch(
    now_s: float, down: set[str], expected: tuple[str, str | None, float | None]
) -> None:
    states, _ = TourBoard().step({"t": ABC}, at(now_s), lambda c: c not in down)
    camera, following, switch_s = expected
    switch_at = None if switch_s is None else EPOCH + timedelta(seconds=switch_s)
    assert states["t"] == TileTour(
        "t", TourStatus.PLAYING, camera, following, switch_at
    )


def test_t2_all_offline_says_so_and_waits() -> None:
    states, wait_s = TourBoard().step({"t": ABC}, at(3.0), lambda c: False)
    assert states["t"] == TileTour("t", TourStatus.ALL_OFFLINE)
    assert wait_s is not None and wait_s > 0  # no busy loop
    shown, _ = TourBoard().step({"t": tour("a", skip=False)}, at(3.0), lambda c: False)
    assert shown["t"].camera_id == "a"  # skip_offline off: shown anyway


def test_t6_two_tiles_with_the_same_items_switch_together() -> None:
    board = TourBoard()
    board.step({"t1": ABC}, at(3.0), lambda c: True)
    states, wait_s = board.step({"t1": ABC, "t2": ABC}, at(14.0), lambda c: True)
    assert states["t1"].camera_id == states["t2"].camera_id == "b"
    assert states["t1"].switch_at == states["t2"].switch_at
    assert wait_s == pytest.approx(20.0 - 14.0 - 1.5)  # wakes to buffer (T3)


def test_the_state_is_stable_between_switches_and_forgets_gone_tiles() -> None:
    board = TourBoard()
    first, _ = board.step({"t": ABC}, at(1.0), lambda c: True)
    again, _ = board.step({"t": ABC}, at(8.5), lambda c: True)
    assert first == again
    gone, wait_s = board.step({}, at(9.0), lambda c: True)
    assert gone == {} and wait_s is None


def test_t5_editing_a_running_tour_moves_to_a_valid_item() -> None:
    board = TourBoard()
    board.step({"t": ABC}, at(12.0), lambda c: True)  # on "b"
    states, _ = board.step({"t": tour("a", "c")}, at(13.0), lambda c: True)
    assert states["t"].camera_id == "c"


def test_a_dwell_under_the_minimum_is_held_for_the_minimum() -> None:
    short = TourContent.model_construct(
        kind="tour",
        items=(TourItem(camera_id="a"),),
        dwell_s=1.0,
        order=TourOrder.SEQUENTIAL,
        skip_offline=True,
        sync=False,
    )
    assert [i.dwell_s for i in tour_items(short)] == [3.0]

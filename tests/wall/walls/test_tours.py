"""Tour cursor (T1-T6)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise

import pytest

from layouts.tour_content import dwell_issue
from wall.walls.core.tours import (
    ALL_OFFLINE_RECHECK_S,
    DEFAULT_PREFETCH_S,
    DwellTooShort,
    TourCursor,
    TourItem,
    TourStatus,
)

ITEMS = tuple(TourItem(f"cam-{n}", 10.0) for n in "abcd")


def everyone(item: TourItem[str]) -> bool:
    return True


def shown(cursor: TourCursor[str], now_s: float, *down: str) -> str | None:
    view = cursor.at(now_s, lambda i: i.content not in {f"cam-{d}" for d in down})
    return view.item.content if view.item else None


@pytest.mark.parametrize(
    ("dwell_s", "expectation", "warning"),
    [
        (2.9, pytest.raises(DwellTooShort), None),
        (0.0, pytest.raises(DwellTooShort), None),
        (float("nan"), pytest.raises(DwellTooShort), None),
        (3.0, DoesNotRaise(), "tour dwell 3 s is outside the usual 5-30 s"),
        (5.0, DoesNotRaise(), None),
        (30.0, DoesNotRaise(), None),
        (31.0, DoesNotRaise(), "tour dwell 31 s is outside the usual 5-30 s"),
    ],
)
def test_t1_dwell_minimum_and_warning(
    dwell_s: float, expectation: AbstractContextManager[object], warning: str | None
) -> None:
    with expectation:
        TourItem("cam", dwell_s)
        issue = dwell_issue(dwell_s)
        assert (issue.message if issue else None) == warning


@pytest.mark.parametrize(
    ("now_s", "expected"),
    [
        (0.0, "cam-a"),
        (9.99, "cam-a"),
        (10.0, "cam-b"),
        (35.0, "cam-d"),
        (40.0, "cam-a"),
    ],
)
def test_tour_plays_items_in_order(now_s: float, expected: str) -> None:
    assert shown(TourCursor.start(ITEMS, 0.0), now_s) == expected


@pytest.mark.parametrize(
    ("down", "timeline"),
    [
        ((), ["cam-a", "cam-b", "cam-c", "cam-d", "cam-a"]),
        (("b",), ["cam-a", "cam-c", "cam-d", "cam-a", "cam-c"]),
        (("a", "c"), ["cam-b", "cam-d", "cam-b", "cam-d", "cam-b"]),
        (("a", "b", "c"), ["cam-d"] * 5),
    ],
)
def test_t2_offline_items_are_skipped(
    down: tuple[str, ...], timeline: list[str]
) -> None:
    cursor = TourCursor.start(ITEMS, 0.0)
    seen = []
    for now_s in (0.0, 10.0, 20.0, 30.0, 40.0):
        view = cursor.at(now_s, lambda i: i.content not in {f"cam-{d}" for d in down})
        cursor = view.cursor
        seen.append(view.item.content if view.item else None)
    assert seen == timeline


def test_t2_all_offline_says_so_without_busy_looping() -> None:
    cursor = TourCursor.start(ITEMS, 0.0).at(12.0, everyone).cursor  # on cam-b
    view = cursor.at(15.0, lambda i: False)
    assert view.status is TourStatus.ALL_OFFLINE
    assert view.item is None and view.wait_s == ALL_OFFLINE_RECHECK_S > 0
    assert view.cursor.index == 1  # last item, for on_empty=hold_last
    again = view.cursor.at(17.0, lambda i: False)
    assert (
        again.status is TourStatus.ALL_OFFLINE and again.wait_s == ALL_OFFLINE_RECHECK_S
    )
    back = again.cursor.at(21.0, lambda i: i.content == "cam-c")
    assert back.status is TourStatus.PLAYING and back.item is not None
    assert back.item.content == "cam-c" and back.switch_at_s == 31.0


def test_t2_item_going_offline_mid_slot_is_left_at_once() -> None:
    cursor = TourCursor.start(ITEMS, 0.0)
    view = cursor.at(4.0, lambda i: i.content != "cam-a")
    assert view.item is not None and view.item.content == "cam-b"
    assert view.switch_at_s == 14.0


def test_t2_skip_offline_off_shows_every_item() -> None:
    cursor = TourCursor.start(ITEMS, 0.0, skip_offline=False)
    assert shown(cursor, 10.0, "b") == "cam-b"


def test_t3_next_item_is_buffered_before_its_slot() -> None:
    cursor = TourCursor.start(ITEMS, 0.0)
    early = cursor.at(2.0, lambda i: i.content != "cam-b")
    assert DEFAULT_PREFETCH_S == 1.5
    assert (early.index, early.next_index) == (0, 2)  # b is offline: buffer c
    assert early.switch_at_s == 10.0 and early.prefetch_at_s == 8.5
    assert early.wait_s == pytest.approx(6.5)  # wake up to prefetch
    late = cursor.at(9.0, everyone)
    assert late.wait_s == pytest.approx(1.0)  # then to switch
    assert late.switch_at_s is not None and late.prefetch_at_s is not None
    assert 1.0 <= late.switch_at_s - late.prefetch_at_s <= 2.0


def test_t3_single_online_item_needs_no_prefetch() -> None:
    view = TourCursor.start(ITEMS, 0.0).at(3.0, lambda i: i.content == "cam-a")
    assert view.next_index == view.index == 0 and view.prefetch_at_s is None
    assert view.wait_s == pytest.approx(7.0)


def test_t4_resume_after_preemption_at_the_next_item() -> None:
    cursor = TourCursor.start(ITEMS, 0.0).at(25.0, everyone).cursor  # on cam-c
    paused = cursor.pause()
    view = paused.at(100.0, everyone)
    assert view.status is TourStatus.PAUSED and view.wait_s is None
    resumed = paused.resume(200.0, everyone).at(200.0, everyone)
    assert resumed.item is not None and resumed.item.content == "cam-d"
    assert resumed.switch_at_s == 210.0
    skipping = paused.resume(200.0, lambda i: i.content != "cam-d").at(200.0, everyone)
    assert skipping.item is not None and skipping.item.content == "cam-a"


def test_t4_resume_when_nothing_is_paused_changes_nothing() -> None:
    cursor = TourCursor.start(ITEMS, 0.0)
    assert cursor.resume(50.0, everyone) is cursor


@pytest.mark.parametrize(
    ("remove", "expected", "switch_at_s"),
    [
        ("cam-c", "cam-d", 29.0),  # the current item: its successor starts now
        ("cam-a", "cam-c", 30.0),  # an earlier one: the current slot carries on
        ("cam-d", "cam-c", 30.0),
    ],
)
def test_t5_removing_an_item_while_it_runs(
    remove: str, expected: str, switch_at_s: float
) -> None:
    cursor = TourCursor.start(ITEMS, 0.0).at(25.0, everyone).cursor  # on cam-c
    edited = cursor.with_items(tuple(i for i in ITEMS if i.content != remove), 19.0)
    view = edited.at(25.0, everyone)
    assert view.item is not None and view.item.content == expected
    assert view.switch_at_s == switch_at_s


def test_t5_removing_the_last_current_item_wraps_and_empty_tour_is_empty() -> None:
    cursor = TourCursor.start(ITEMS, 0.0).at(35.0, everyone).cursor  # on cam-d
    edited = cursor.with_items(ITEMS[:3], 36.0)
    assert shown(edited, 36.0) == "cam-a"
    empty = edited.with_items((), 37.0).at(38.0, everyone)
    assert empty.status is TourStatus.EMPTY and empty.wait_s is None


@pytest.mark.parametrize(
    ("phase_s", "offset_items"),
    [(0.0, 0), (10.0, 1), (20.0, 2), (40.0, 0), (5.0, 0)],
)
def test_t6_phase_offset_or_synchronised(phase_s: float, offset_items: int) -> None:
    first = TourCursor.start(ITEMS, 100.0)
    second = TourCursor.start(ITEMS, 100.0, phase_s=phase_s)
    for now_s in (100.0, 104.0, 111.0, 127.0, 163.0):
        a = first.at(now_s, everyone).index
        b = second.at(now_s, everyone).index
        assert a is not None and b is not None
        if phase_s == 5.0:
            assert b in {a, (a + 1) % 4}
        else:
            assert b == (a + offset_items) % 4


def test_t6_cursor_is_path_independent() -> None:
    down = {"cam-b"}

    def online(item: TourItem[str]) -> bool:
        return item.content not in down

    ticking = TourCursor.start(ITEMS, 0.0)
    for step in range(1, 10_001):
        ticking = ticking.at(step * 0.1, online).cursor
    once = TourCursor.start(ITEMS, 0.0).at(1000.0, online)
    stepped = ticking.at(1000.0, online)
    assert (stepped.index, stepped.next_index) == (once.index, once.next_index)
    assert stepped.switch_at_s == pytest.approx(once.switch_at_s)

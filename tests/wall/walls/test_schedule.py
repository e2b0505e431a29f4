"""Scheduled layouts in a named time zone (issue 3, O3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from wall.walls.core.schedule import (
    DEFAULT_TZ,
    Schedule,
    Window,
    active_occurrence,
    active_window,
    next_change,
    occurrence,
)

EVERY_DAY = frozenset(range(1, 8))
WORKDAYS = frozenset(range(1, 6))
NIGHT_DUTY = Window("night-duty", EVERY_DAY, time(22, 0), time(6, 0), name="night")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """An Asia/Shanghai wall-clock time, as the duty officers read it."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("now_local", "expected"),
    [
        ("2025-03-03 21:59:59", None),
        ("2025-03-03 22:00:00", "night-duty"),
        ("2025-03-03 23:59:59", "night-duty"),
        ("2025-03-04 00:00:00", "night-duty"),  # across midnight
        ("2025-03-04 05:59:59", "night-duty"),
        ("2025-03-04 06:00:00", None),  # end is exclusive
        ("2025-03-04 12:00:00", None),
    ],
)
def test_night_duty_across_midnight_in_shanghai(
    now_local: str, expected: str | None
) -> None:
    window = active_window(Schedule((NIGHT_DUTY,)), local(now_local))
    assert (window.layout_id if window else None) == expected


def test_o3_shanghai_is_tz_data_not_a_fixed_offset() -> None:
    assert DEFAULT_TZ == "Asia/Shanghai"
    run = occurrence(Schedule((NIGHT_DUTY,)), NIGHT_DUTY, date(2025, 3, 3))
    assert run is not None
    assert run.start_utc == datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
    tokyo = occurrence(
        Schedule((NIGHT_DUTY,), tz="Asia/Tokyo"), NIGHT_DUTY, date(2025, 3, 3)
    )
    assert tokyo is not None and tokyo.start_utc == datetime(
        2025, 3, 3, 13, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("day", "start_utc", "end_utc"),
    [
        # Europe/Berlin springs forward at 02:00 on 30 March 2025: 01:00-04:00 lasts 2 h.
        (date(2025, 3, 30), datetime(2025, 3, 30, 0, 0), datetime(2025, 3, 30, 2, 0)),
        # ... and falls back on 26 October: the same window lasts 4 h.
        (
            date(2025, 10, 26),
            datetime(2025, 10, 25, 23, 0),
            datetime(2025, 10, 26, 3, 0),
        ),
        (date(2025, 7, 1), datetime(2025, 6, 30, 23, 0), datetime(2025, 7, 1, 2, 0)),
    ],
)
def test_o3_daylight_saving_is_handled_by_zoneinfo(
    day: date, start_utc: datetime, end_utc: datetime
) -> None:
    window = Window("early", EVERY_DAY, time(1, 0), time(4, 0))
    run = occurrence(Schedule((window,), tz="Europe/Berlin"), window, day)
    assert run is not None
    assert (run.start_utc, run.end_utc) == (
        start_utc.replace(tzinfo=UTC),
        end_utc.replace(tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("now_local", "expected"),
    [
        ("2025-03-07 23:00:00", "night"),  # Friday night
        ("2025-03-08 05:00:00", "night"),  # ... runs into Saturday morning
        ("2025-03-08 23:00:00", None),  # Saturday night: no duty window
        ("2025-03-09 23:00:00", None),  # Sunday night
        ("2025-03-10 01:00:00", None),  # Monday early: Sunday did not start one
    ],
)
def test_weekdays_are_those_the_window_starts_on(
    now_local: str, expected: str | None
) -> None:
    window = Window("night", WORKDAYS, time(22), time(6))
    found = active_window(Schedule((window,)), local(now_local))
    assert (found.layout_id if found else None) == expected


def test_first_window_wins_an_overlap_and_exceptions_skip_a_day() -> None:
    day = Window("day", WORKDAYS, time(8), time(18))
    drill = Window("drill", frozenset({3}), time(9), time(10))
    schedule = Schedule((drill, day), exceptions=frozenset({date(2025, 3, 12)}))
    assert active_window(schedule, local("2025-03-05 09:30:00")) == drill
    assert active_window(Schedule((day, drill)), local("2025-03-05 09:30:00")) == day
    assert active_window(schedule, local("2025-03-12 09:30:00")) is None  # holiday


def test_equal_start_and_end_is_a_whole_day() -> None:
    weekend = Window("weekend", frozenset({6, 7}), time(0), time(0))
    schedule = Schedule((weekend,))
    assert active_window(schedule, local("2025-03-08 00:00:00")) == weekend
    assert active_window(schedule, local("2025-03-09 23:59:59")) == weekend
    assert active_window(schedule, local("2025-03-10 00:00:00")) is None
    assert next_change(schedule, local("2025-03-08 12:00:00")) == local(
        "2025-03-10 00:00:00"
    )


@pytest.mark.parametrize(
    ("now_local", "expected_local"),
    [
        ("2025-03-03 12:00:00", "2025-03-03 22:00:00"),
        ("2025-03-03 22:00:00", "2025-03-04 06:00:00"),
        ("2025-03-04 03:00:00", "2025-03-04 06:00:00"),
        ("2025-03-04 06:00:00", "2025-03-04 22:00:00"),
    ],
)
def test_next_change_night_duty(now_local: str, expected_local: str) -> None:
    assert next_change(Schedule((NIGHT_DUTY,)), local(now_local)) == local(
        expected_local
    )


def test_next_change_reports_window_changes_and_skips_seamless_repeats() -> None:
    evening = Window("duty", EVERY_DAY, time(18), time(22), name="evening")
    night = Window("duty", EVERY_DAY, time(22), time(6), name="night")
    schedule = Schedule((evening, night))
    # Another window takes over at 22:00 (same layout: the caller may skip it).
    assert next_change(schedule, local("2025-03-03 19:00:00")) == local(
        "2025-03-03 22:00:00"
    )
    always = Schedule((Window("all", EVERY_DAY, time(0), time(0)),))
    assert next_change(always, local("2025-03-03 19:00:00")) is None
    assert next_change(Schedule(()), local("2025-03-03 19:00:00")) is None


def test_active_occurrence_gives_the_end_for_the_caller_timer() -> None:
    run = active_occurrence(Schedule((NIGHT_DUTY,)), local("2025-03-03 23:00:00"))
    assert run is not None and run.end_utc == local("2025-03-04 06:00:00")


@pytest.mark.parametrize(
    "build",
    [
        lambda: Window("x", frozenset(), time(1), time(2)),
        lambda: Window("x", frozenset({0}), time(1), time(2)),
        lambda: Window("x", frozenset({8}), time(1), time(2)),
        lambda: Window("x", EVERY_DAY, time(1, tzinfo=UTC), time(2)),
    ],
)
def test_invalid_windows_are_refused(build: Callable[[], Window]) -> None:
    with pytest.raises(ValueError, match=r"weekdays|tzinfo"):
        build()


def test_unknown_zone_and_naive_now_are_refused() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        Schedule((NIGHT_DUTY,), tz="Asia/Nowhere")
    with pytest.raises(ValueError, match="aware"):
        active_window(Schedule((NIGHT_DUTY,)), datetime(2025, 3, 3, 12))

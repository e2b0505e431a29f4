"""Binding a rule to a station (R2, R11) and schedules in Asia/Shanghai (R9)."""

from __future__ import annotations

import time as time_module
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest

from tests.wall.sensors.core.rule_runs import (
    GAUGE,
    GUARANTEE,
    WARNING,
    Run,
    gt,
    le,
    rule,
)
from wall.alarms.core import Severity
from wall.sensors.core import (
    Action,
    Condition,
    Op,
    RuleRefused,
    Schedule,
    Station,
    StationKind,
    Thresholds,
    Trigger,
    bind,
    overlaps,
)

# --- R2: a clear condition overlapping its create condition is refused -----------


@pytest.mark.parametrize(
    ("create", "clear", "overlap"),
    [
        pytest.param(gt(10.0), Condition(Op.LT, 12.0), True, id="R2-table"),
        pytest.param(gt(10.0), le(9.95), False, id="R1-band"),
        pytest.param(gt(10.0), le(10.0), False, id="touching"),
        pytest.param(Condition(Op.GE, 10.0), le(10.0), True, id="shared-point"),
        pytest.param(
            Condition(Op.OUTSIDE, 2.0, high=8.0),
            Condition(Op.BETWEEN, 3.0, high=7.0),
            False,
            id="band-inside",
        ),
        pytest.param(
            Condition(Op.OUTSIDE, 2.0, high=8.0),
            Condition(Op.BETWEEN, 1.0, high=7.0),
            True,
            id="band-across",
        ),
        pytest.param(Condition(Op.EQ, 1.0), Condition(Op.NE, 1.0), False, id="eq-ne"),
    ],
)
def test_r2_overlap_table(create: Condition, clear: Condition, overlap: bool) -> None:
    assert overlaps(create, clear, {}) is overlap
    assert overlaps(clear, create, {}) is overlap


def test_r2_an_overlapping_rule_is_refused_naming_both_conditions() -> None:
    r = rule(
        [Trigger(gt(10.0), severity=Severity.MAJOR)], Trigger(Condition(Op.LT, 12.0))
    )
    with pytest.raises(RuleRefused) as info:
        bind(r, GAUGE)
    [problem] = info.value.problems
    assert problem.key == "clear"
    assert "(lt 12.0) overlaps the major create condition (gt 10.0)" in problem.message


def test_r2_references_are_checked_at_the_station_s_thresholds() -> None:
    # create above the warning level, clear below the guarantee level: they
    # overlap between 10.0 and 11.5 at this gauge
    r = rule(
        [Trigger(gt(ref=WARNING), severity=Severity.MAJOR)],
        Trigger(Condition(Op.LT, ref=GUARANTEE)),
    )
    with pytest.raises(RuleRefused, match="overlaps"):
        bind(r, GAUGE)


# --- R11: thresholds and station in one datum ------------------------------------


@pytest.mark.parametrize(
    ("rule_datum", "station_datum", "refused"),
    [
        ("cn1985", "cn1985", False),
        (None, "cn1985", False),
        ("local:ba", "cn1985", True),
        ("cn1985", None, True),
    ],
)
def test_r11_a_threshold_datum_other_than_the_station_s_refuses_the_rule(
    rule_datum: str | None, station_datum: str | None, refused: bool
) -> None:
    station = Station(
        GAUGE.id, StationKind.WATER_LEVEL, station_datum, GAUGE.thresholds
    )
    r = rule(datum=rule_datum)
    if not refused:
        assert bind(r, station).station_id == GAUGE.id
        return
    with pytest.raises(RuleRefused) as info:
        bind(r, station)
    assert [p.key for p in info.value.problems] == ["datum"]
    assert repr(rule_datum) in str(info.value)


def test_a_rule_is_refused_on_a_station_outside_its_scope() -> None:
    other = Station("bz-h-002", StationKind.WATER_LEVEL, "cn1985", Thresholds())
    with pytest.raises(RuleRefused, match="not in its scope"):
        bind(rule(), other)


# --- R9: schedules in Asia/Shanghai whatever the server's zone --------------------


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Shanghai"])
def server_zone(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    zone = str(request.param)
    monkeypatch.setenv("TZ", zone)
    time_module.tzset()
    yield zone
    monkeypatch.undo()
    time_module.tzset()


DAYTIME = Schedule(frozenset(range(1, 8)), time(8), time(20))


@pytest.mark.parametrize(
    ("utc", "fires"),
    [
        pytest.param(datetime(2025, 7, 7, 23, 59, tzinfo=UTC), False, id="07:59-local"),
        pytest.param(datetime(2025, 7, 8, 0, 0, tzinfo=UTC), True, id="08:00-local"),
        pytest.param(datetime(2025, 7, 8, 11, 59, tzinfo=UTC), True, id="19:59-local"),
        pytest.param(datetime(2025, 7, 8, 12, 0, tzinfo=UTC), False, id="20:00-local"),
    ],
)
def test_r9_a_daytime_rule_does_not_fire_at_0759_shanghai_on_any_server(
    server_zone: str, utc: datetime, fires: bool
) -> None:
    r = Run(bind(rule(schedule=DAYTIME), GAUGE))
    offset_s = (utc - datetime(2025, 7, 8, 2, tzinfo=UTC)).total_seconds()
    decision = r.feed(10.5, offset_s)
    assert decision.observed_at == utc
    assert (decision.action is Action.RAISE) is fires


def test_r9_weekdays_are_shanghai_weekdays() -> None:
    monday_only = Schedule(frozenset({1}), time(8), time(20))
    # Monday 2025-07-07 08:30 in Shanghai is 00:30 UTC, still Monday in UTC;
    # Monday 07:59 in Shanghai is Sunday 23:59 UTC
    assert monday_only.contains(datetime(2025, 7, 7, 0, 30, tzinfo=UTC))
    assert not monday_only.contains(datetime(2025, 7, 6, 23, 59, tzinfo=UTC))
    assert not monday_only.contains(datetime(2025, 7, 8, 0, 30, tzinfo=UTC))


def test_r9_an_overnight_window_belongs_to_the_day_it_starts() -> None:
    friday_night = Schedule(frozenset({5}), time(22), time(6))
    friday_23 = datetime(2025, 7, 11, 15, tzinfo=UTC)  # Fri 23:00 local
    assert friday_night.contains(friday_23)
    assert friday_night.contains(friday_23 + timedelta(hours=6, minutes=59))
    assert not friday_night.contains(friday_23 + timedelta(hours=7))
    assert not friday_night.contains(friday_23 - timedelta(days=1))


def test_r9_outside_the_schedule_an_active_alarm_still_clears() -> None:
    r = Run(bind(rule(schedule=DAYTIME), GAUGE))
    assert r.feed(10.5, 0).action is Action.RAISE  # 10:00 local
    assert r.feed(9.0, 11 * 3600).action is Action.CLEAR  # 21:00 local


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weekdays": frozenset({0})}, "weekdays"),
        ({"start": time(8), "end": time(8)}, "equal"),
    ],
)
def test_schedule_refuses_what_cannot_be_meant(
    kwargs: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {
        "weekdays": frozenset({1}),
        "start": time(8),
        "end": time(20),
    }
    values.update(kwargs)
    with pytest.raises(ValueError, match=message):
        Schedule(**values)  # type: ignore[arg-type]

"""Gradings: water-level stage, rainstorm signals (R7), drought (R8), quality (M2, R10)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise
from datetime import UTC, datetime, timedelta

import pytest

from wall.sensors.core import (
    DroughtGrade,
    Limits,
    Quality,
    RainstormSignal,
    SpikeState,
    Station,
    StationKind,
    Thresholds,
    WaterStage,
    grade,
    rain_window,
    rainstorm,
    soil_drought,
    water_stage,
)
from wall.sensors.core.drought import drought_grade

T0 = datetime(2025, 7, 8, 12, 0, tzinfo=UTC)
LEVELS = Thresholds(
    warning_level_m=10.0,
    guarantee_level_m=11.5,
    flood_limit_level_m=9.0,
    historic_max_m=12.3,
)

# --- water-level stage ------------------------------------------------------------


@pytest.mark.parametrize(
    ("level_m", "stage", "margin_m", "over_limit"),
    [
        (9.4, WaterStage.NORMAL, -0.6, True),
        (8.9, WaterStage.NORMAL, -1.1, False),
        (10.0, WaterStage.WARNING, 0.0, True),
        (11.49, WaterStage.WARNING, 1.49, True),
        (11.5, WaterStage.GUARANTEED, 0.0, True),
        (12.3, WaterStage.GUARANTEED, 0.8, True),
        (12.31, WaterStage.OVER_HISTORIC_MAX, 0.01, True),
    ],
)
def test_water_stage_table(
    level_m: float, stage: WaterStage, margin_m: float, over_limit: bool
) -> None:
    reading = water_stage(level_m, LEVELS)
    assert reading.stage is stage
    assert reading.margin_m == pytest.approx(margin_m)
    assert reading.over_flood_limit is over_limit


def test_water_stage_without_levels_is_normal_with_no_margin() -> None:
    reading = water_stage(50.0, Thresholds())
    assert (reading.stage, reading.margin_m, reading.over_flood_limit) == (
        WaterStage.NORMAL,
        None,
        None,
    )


# --- R7: rolling rainfall windows ----------------------------------------------------


def slots(
    mm_each: float, count: int, *, skip: frozenset[int] = frozenset()
) -> dict[datetime, float]:
    """``count`` 5-minute slots before T0, newest first, leaving out ``skip``."""
    return {
        T0 - timedelta(minutes=5 * (n + 1)): mm_each
        for n in range(count)
        if n not in skip
    }


@pytest.mark.parametrize(
    ("rain", "signal"),
    [
        pytest.param(slots(50 / 36, 36), RainstormSignal.ORANGE, id="50mm-in-3h"),
        pytest.param(slots(100 / 36, 36), RainstormSignal.RED, id="100mm-in-3h"),
        pytest.param(slots(49 / 36, 36), None, id="49mm-in-3h"),
        pytest.param(slots(50 / 72, 72), RainstormSignal.YELLOW, id="50mm-in-6h"),
        pytest.param(slots(50 / 144, 144), RainstormSignal.BLUE, id="50mm-in-12h"),
        pytest.param(slots(50 / 288, 288), None, id="50mm-in-24h"),
    ],
)
def test_r7_rainstorm_signal_table(
    rain: dict[datetime, float], signal: RainstormSignal | None
) -> None:
    assessment = rainstorm(rain, T0)
    assert assessment.signal is signal
    assert assessment.window(24).complete is (len(rain) == 288)


def test_r7_missing_slots_are_never_filled_in_and_the_window_is_incomplete() -> None:
    # 3 h of 1.5 mm slots (54 mm) with two slots lost: 51 mm measured
    rain = slots(1.5, 36, skip=frozenset({4, 20}))
    assessment = rainstorm(rain, T0)
    three = assessment.window(3)
    assert three.total_mm == pytest.approx(51.0)  # not 54: no interpolation
    assert (three.slots_present, three.slots_expected, three.missing_slots) == (
        34,
        36,
        2,
    )
    assert not three.complete and not assessment.complete
    assert assessment.signal is RainstormSignal.ORANGE  # a lower bound still stands
    lost = rainstorm(slots(1.5, 36, skip=frozenset(range(3, 36))), T0)
    assert lost.signal is None and not lost.complete


def test_r7_windows_cover_the_slots_before_their_end() -> None:
    rain = {T0: 9.0, T0 - timedelta(minutes=5): 1.0, T0 - timedelta(hours=1): 2.0}
    hour = rain_window(rain, T0, 1)
    # [T0 - 1 h, T0): the slot starting at T0 belongs to the next window
    assert (hour.total_mm, hour.slots_present) == (3.0, 2)
    assert rain_window(rain, T0 + timedelta(minutes=5), 1).total_mm == 10.0


@pytest.mark.parametrize(
    ("rain", "end", "expectation"),
    [
        (
            {T0 + timedelta(minutes=1): 1.0},
            T0,
            pytest.raises(ValueError, match="5-minute"),
        ),
        ({T0: -1.0}, T0, pytest.raises(ValueError, match=">= 0")),
        ({T0: float("nan")}, T0, pytest.raises(ValueError, match="finite")),
        ({}, T0.replace(tzinfo=None), pytest.raises(ValueError, match="timezone")),
        ({T0: 0.0}, T0, DoesNotRaise()),
    ],
)
def test_r7_slots_are_checked(
    rain: dict[datetime, float],
    end: datetime,
    expectation: AbstractContextManager[object],
) -> None:
    with expectation:
        rainstorm(rain, end)


# --- R8: drought grade from relative soil moisture ---------------------------------


def test_r8_18_percent_at_a_field_capacity_of_40_is_a_moderate_drought() -> None:
    reading = soil_drought(18.0, 40.0)
    assert (reading.relative_pct, reading.grade, reading.warning) == (
        45.0,
        DroughtGrade.MODERATE,
        None,
    )


def test_r8_without_a_field_capacity_the_grade_is_null_with_a_warning() -> None:
    probe = Station("bz-s-01", StationKind.SOIL_MOISTURE)
    reading = soil_drought(18.0, probe.field_capacity_pct(20))
    assert (reading.relative_pct, reading.grade) == (None, None)
    assert reading.warning == "no field capacity configured"


@pytest.mark.parametrize(
    ("relative_pct", "expected"),
    [
        (60.01, DroughtGrade.NONE),
        (60.0, DroughtGrade.LIGHT),
        (50.01, DroughtGrade.LIGHT),
        (50.0, DroughtGrade.MODERATE),
        (40.0, DroughtGrade.SEVERE),
        (30.01, DroughtGrade.SEVERE),
        (30.0, DroughtGrade.EXTREME),
        (0.0, DroughtGrade.EXTREME),
    ],
)
def test_r8_grade_boundaries(relative_pct: float, expected: DroughtGrade) -> None:
    assert drought_grade(relative_pct) is expected


# --- quality: out of range, spike (R10), late (M2) ---------------------------------


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def levels(values: list[float], limits: Limits) -> list[Quality]:
    """Grade one reading a minute, received at once; the qualities in order."""
    state, found = SpikeState(), []
    for n, v in enumerate(values):
        g = grade(v, at(n), at(n), limits, state)
        state = g.spike
        found.append(g.quality)
    return found


GUARD = Station("bz-h-001", StationKind.WATER_LEVEL).limits_for("water_level")
G, S = Quality.GOOD, Quality.SPIKE


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([10.0, 10.9, 11.8], [G, G, G], id="under-1m-per-min"),
        pytest.param([10.0, 12.5, 10.1], [G, S, G], id="glitch-returns"),
        pytest.param([10.0, 12.5, 12.6, 12.6], [G, S, S, G], id="jump-persists-3"),
        pytest.param(
            [10.0, 15.0, 19.9, 15.1, 15.1, 15.1], [G, S, S, S, S, G], id="noisy-run"
        ),
    ],
)
def test_r10_a_jump_faster_than_1m_per_min_is_a_spike_until_it_persists(
    values: list[float], expected: list[Quality]
) -> None:
    assert GUARD is not None and GUARD.max_rate_per_min == 1.0
    assert levels(values, GUARD) == expected


def test_r10_the_suspect_run_is_reported_once_when_it_starts_and_ends() -> None:
    assert GUARD is not None
    first = grade(10.0, at(0), at(0), GUARD, SpikeState())
    jump = grade(12.5, at(1), at(1), GUARD, first.spike)
    again = grade(12.5, at(2), at(2), GUARD, jump.spike)
    real = grade(12.5, at(3), at(3), GUARD, again.spike)
    assert [g.suspect_started for g in (first, jump, again, real)] == [
        False,
        True,
        False,
        False,
    ]
    assert [g.suspect_ended for g in (first, jump, again, real)] == [
        False,
        False,
        False,
        True,
    ]


def test_out_of_range_readings_are_flagged_and_leave_the_spike_guard_alone() -> None:
    limits = Limits(min_valid=300.0, max_valid=400.0, max_rate_per_min=1.0)
    base = grade(350.0, at(0), at(0), limits, SpikeState())
    wild = grade(9999.0, at(1), at(1), limits, base.spike)
    assert wild.quality is Quality.OUT_OF_RANGE and wild.spike == base.spike
    assert grade(float("nan"), at(1), at(1), limits, base.spike).quality is (
        Quality.OUT_OF_RANGE
    )


def test_m2_a_reading_received_more_than_10_min_late_is_flagged_late() -> None:
    limits = Limits()
    on_time = grade(5.0, at(0), at(10), limits, SpikeState())
    late = grade(5.0, at(0), at(10.01), limits, SpikeState())
    assert on_time.quality is Quality.GOOD and late.quality is Quality.LATE
    both = grade(-1.0, at(0), at(11), Limits(min_valid=0.0), SpikeState())
    assert both.flags == {Quality.LATE, Quality.OUT_OF_RANGE}
    assert both.quality is Quality.OUT_OF_RANGE


def test_limits_apply_to_the_station_s_own_element_only() -> None:
    gauge = Station("h", StationKind.WATER_LEVEL, max_rate_per_min=0.5)
    rain = Station("p", StationKind.RAIN, min_valid=0.0)
    assert gauge.limits_for("voltage") is None
    assert gauge.limits_for("water_level") == Limits(None, None, 0.5)
    assert rain.limits_for("rain_5min") == Limits(0.0, None, None)

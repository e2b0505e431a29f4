"""Station activity tables: inactivity and its offline alarm (M13), our outages (M12).

Also the monotonic measure of silence, so a ±1 h wall-clock step takes no
station offline (O4).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from wall.alarms.core import Originator, Severity, clear_alarm, raise_alarm
from wall.sensors.core import (
    DEFAULT_INACTIVITY_FACTOR,
    OFFLINE_ALARM_TYPE,
    OFFLINE_SEVERITY,
    ActivityAction,
    ActivityBoard,
    IngestionGap,
    Station,
    StationKind,
)

T0 = datetime(2025, 7, 8, 2, 0, tzinfo=UTC)
GAUGE = Station("bz-h-001", StationKind.WATER_LEVEL, expected_report_interval_s=300.0)
RAIN = Station("bz-p-001", StationKind.RAIN, expected_report_interval_s=60.0)
H, P = GAUGE.id, RAIN.id  # limits: 2.5 x 300 = 750 s, 2.5 x 60 = 150 s

FLEET = (GAUGE, RAIN)


def run(
    events: Sequence[tuple[object, ...]],
    stations: Sequence[Station] = (GAUGE,),
    *,
    offline: Sequence[str] = (),
) -> tuple[ActivityBoard, list[str]]:
    """Play events from start-up at monotonic 0; list what each decided.

    Events: ``("tick", t)``, ``("data", t, station)``, ``("down", t)``,
    ``("up", t)``; an optional last number steps that event's wall clock (s).
    """
    board = ActivityBoard.start(stations, 0.0, offline=offline)
    seen: list[str] = []
    for kind, t, *rest in events:
        assert isinstance(t, int | float)
        step = rest[-1] if rest and isinstance(rest[-1], int | float) else 0
        now = T0 + timedelta(seconds=t + step)
        if kind == "tick":
            board, found = board.tick(t, now)
            seen += [f"{d.action.value}:{d.station_id}" for d in found]
        elif kind == "data":
            board, decision = board.observed(str(rest[0]), t, now)
            if decision.action is not ActivityAction.NOTHING:
                seen.append(f"{decision.action.value}:{decision.station_id}")
        elif kind == "down":
            board = board.ingestion_down(t, now)
        else:
            assert kind == "up"
            board, _ = board.ingestion_up(t, now)
    return board, seen


RAISE_H, CLEAR_H = f"raise_offline:{H}", f"clear_offline:{H}"
RAISE_P, CLEAR_P = f"raise_offline:{P}", f"clear_offline:{P}"


# --- M13: k x the expected interval, and any later data clears ------------------


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        pytest.param(
            [("data", 0, H), ("tick", 749.999)], [], id="just-under-k-intervals"
        ),
        pytest.param([("data", 0, H), ("tick", 750)], [RAISE_H], id="at-k-intervals"),
        pytest.param(
            [("data", 100, H), ("tick", 849), ("tick", 850)],
            [RAISE_H],
            id="measured-from-last-data",
        ),
        pytest.param(
            [("data", 0, H), ("data", 700, H), ("tick", 1000), ("tick", 1450)],
            [RAISE_H],
            id="each-data-restarts-the-silence",
        ),
        pytest.param(
            [("data", 0, H), ("tick", 750), ("tick", 900), ("tick", 5000)],
            [RAISE_H],
            id="raised-once-while-silent",
        ),
        pytest.param(
            [("data", 0, H), ("tick", 750), ("data", 751, H), ("data", 800, H)],
            [RAISE_H, CLEAR_H],
            id="any-later-data-clears",
        ),
        pytest.param(
            [("data", 0, H), ("tick", 750), ("data", 760, H), ("tick", 1510)],
            [RAISE_H, CLEAR_H, RAISE_H],
            id="silent-again-raises-again",
        ),
        pytest.param(
            [("tick", 749), ("tick", 750)],
            [RAISE_H],
            id="never-heard-measured-from-start-up",
        ),
    ],
)
def test_m13_a_station_silent_for_k_intervals_goes_offline(
    events: list[tuple[object, ...]], expected: list[str]
) -> None:
    assert run(events)[1] == expected


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        pytest.param(
            [("data", 0, H), ("data", 0, P), ("tick", 149), ("tick", 150)],
            [RAISE_P],
            id="each-its-own-interval",
        ),
        pytest.param(
            [("tick", 149), ("tick", 150), ("tick", 749), ("tick", 750)],
            [RAISE_P, RAISE_H],
            id="never-heard-each-from-start-up",
        ),
    ],
)
def test_m13_each_station_is_judged_by_its_own_interval(
    events: list[tuple[object, ...]], expected: list[str]
) -> None:
    assert run(events, FLEET)[1] == expected


def test_m13_the_default_factor_is_two_and_a_half() -> None:
    assert DEFAULT_INACTIVITY_FACTOR == 2.5
    board = ActivityBoard.start([GAUGE], 0.0)
    assert board.factor == 2.5
    assert board.next_due_monotonic_s() == pytest.approx(750.0)


def test_m13_a_custom_factor_and_a_bad_one() -> None:
    board = ActivityBoard.start([GAUGE], 0.0, factor=3.0)
    assert board.tick(899.0, T0)[1] == ()
    assert [d.station_id for d in board.tick(900.0, T0)[1]] == [H]
    with pytest.raises(ValueError, match="factor"):
        ActivityBoard.start([GAUGE], 0.0, factor=0.5)


def test_m13_the_decision_carries_what_the_offline_alarm_needs() -> None:
    board = ActivityBoard.start([GAUGE], 0.0)
    board, _ = board.observed(H, 10.0, T0)
    board, (decision,) = board.tick(760.0, T0 + timedelta(seconds=750))
    assert decision.originator == Originator("station", H)
    assert decision.at == T0 + timedelta(seconds=750)
    assert dict(decision.details()) == {
        "last_activity_at": "2025-07-08T02:00:00.000Z",
        "silent_s": 750.0,
        "limit_s": 750.0,
    }
    a = board.activity(H)
    assert (a.active, a.last_activity_at, a.last_activity_monotonic_s) == (
        False,
        T0,
        10.0,
    )


def test_m13_decisions_drive_one_offline_alarm_through_the_alarm_model() -> None:
    board = ActivityBoard.start([GAUGE], 0.0)
    board, (down,) = board.tick(750.0, T0)
    alarm = raise_alarm(
        None,
        OFFLINE_ALARM_TYPE,
        down.originator,
        OFFLINE_SEVERITY,
        down.details(),
        down.at,
        0,
        new_id="a1",
    ).alarm
    assert (alarm.severity, alarm.details["last_activity_at"]) == (Severity.MAJOR, None)
    board, back = board.observed(H, 800.0, T0 + timedelta(seconds=800))
    assert back.action is ActivityAction.CLEAR_OFFLINE
    assert not clear_alarm(alarm, back.at).alarm.active


def test_m13_an_alarm_still_active_from_before_a_restart_is_cleared_by_data() -> None:
    events: list[tuple[object, ...]] = [("tick", 5000), ("data", 5001, H)]
    board, seen = run(events, offline=[H])
    assert seen == [CLEAR_H]
    assert board.activity(H).active


def test_m13_next_due_is_the_earliest_active_station() -> None:
    board, _ = run([("data", 100, H), ("data", 100, P)], FLEET)
    assert board.next_due_monotonic_s() == pytest.approx(250.0)
    board, _ = board.tick(250.0, T0)
    assert board.next_due_monotonic_s() == pytest.approx(850.0)
    board, _ = board.tick(850.0, T0)
    assert board.next_due_monotonic_s() is None


def test_m13_an_unknown_station_is_refused() -> None:
    board = ActivityBoard.start([GAUGE], 0.0)
    with pytest.raises(KeyError):
        board.observed("nope", 1.0, T0)


def test_m13_a_reloaded_registry_keeps_known_stations_and_adds_new_ones() -> None:
    board, _ = run([("data", 0, H), ("tick", 150)], FLEET)
    slower = Station(H, StationKind.WATER_LEVEL, expected_report_interval_s=600.0)
    newcomer = Station("bz-s-001", StationKind.SOIL_MOISTURE)
    board = board.reconfigured([slower, newcomer], 200.0)
    assert set(board.stations) == {H, "bz-s-001"}
    # the newcomer is measured from the reload: 200 + 2.5 x 300
    assert board.tick(949.0, T0)[1] == ()
    board, found = board.tick(950.0, T0)
    assert [d.station_id for d in found] == ["bz-s-001"]
    # the gauge keeps its last data (0) and takes its new interval: 2.5 x 600
    assert board.tick(1499.0, T0)[1] == ()
    assert [d.station_id for d in board.tick(1500.0, T0)[1]] == [H]


# --- M12: our own outage takes nobody offline ------------------------------------


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        pytest.param(
            [("data", 0, H), ("data", 0, P), ("down", 100), ("tick", 5000)],
            [],
            id="nobody-inactive-while-degraded",
        ),
        pytest.param(
            [("data", 0, H), ("down", 100), ("up", 5000), ("tick", 5149)],
            [],
            id="not-at-once-after-reconnect",
        ),
        pytest.param(
            [
                ("data", 0, H),
                ("down", 100),
                ("up", 5000),
                ("tick", 5150),
                ("tick", 5749),
            ],
            [RAISE_P],
            id="measured-from-the-reconnect",
        ),
        pytest.param(
            [("data", 0, H), ("down", 100), ("up", 5000), ("tick", 5750)],
            [RAISE_H, RAISE_P],
            id="silent-k-intervals-after-reconnect",
        ),
        pytest.param(
            [("data", 0, H), ("down", 100), ("up", 200), ("tick", 749), ("tick", 949)],
            [RAISE_P],
            id="short-outage-still-from-the-reconnect",
        ),
        pytest.param(
            [("down", 0), ("up", 10), ("data", 500, H), ("tick", 1249), ("tick", 1250)],
            [RAISE_P, RAISE_H],
            id="data-after-reconnect-measured-from-data",
        ),
        pytest.param(
            [("tick", 150), ("down", 200), ("up", 5000), ("tick", 6000)],
            [RAISE_P, RAISE_H],
            id="offline-before-the-outage-stays-raised-once",
        ),
        pytest.param(
            [
                ("tick", 150),
                ("down", 200),
                ("data", 300, P),
                ("up", 400),
                ("tick", 549),
            ],
            [RAISE_P, CLEAR_P],
            id="data-during-the-outage-clears",
        ),
        pytest.param(
            [("down", 100), ("down", 4000), ("up", 5000), ("tick", 5149)],
            [],
            id="repeated-drop-is-one-outage",
        ),
    ],
)
def test_m12_our_broker_outage_does_not_take_stations_offline(
    events: list[tuple[object, ...]], expected: list[str]
) -> None:
    assert run(events, FLEET)[1] == expected


def test_m12_the_gap_is_recorded_on_the_monotonic_clock() -> None:
    board = ActivityBoard.start([GAUGE], 0.0)
    board = board.ingestion_down(100.0, T0)
    assert board.degraded
    assert board.next_due_monotonic_s() is None
    board = board.ingestion_down(130.0, T0 + timedelta(seconds=30))  # same outage
    # the wall clock stepped back 1 h during the outage: the length is still 200 s
    back = T0 - timedelta(hours=1)
    board, gap = board.ingestion_up(300.0, back)
    assert gap == IngestionGap(started_at=T0, ended_at=back, duration_s=200.0)
    assert not board.degraded
    assert board.ingestion_up(400.0, T0) == (board, None)


# --- O4: silence runs on the monotonic clock -------------------------------------


@pytest.mark.parametrize(
    "events",
    [
        # both reported 10 s ago by the monotonic clock; the wall clock says 1 h 10 s
        pytest.param(
            [("data", 0, H), ("data", 0, P), ("tick", 10, 3600), ("tick", 140, 3600)],
            id="plus-1h",
        ),
        # the data was stamped while the clock ran 1 h behind; then NTP fixed it
        pytest.param(
            [("data", 0, H, -3600), ("data", 0, P, -3600), ("tick", 10), ("tick", 140)],
            id="minus-1h",
        ),
    ],
)
def test_o4_a_wall_clock_step_takes_no_station_offline(
    events: list[tuple[object, ...]],
) -> None:
    board, seen = run(events, FLEET)
    assert seen == []
    assert all(a.active for a in board.stations.values())
    assert board.next_due_monotonic_s() == pytest.approx(150.0)


def test_o4_silence_counts_although_the_wall_clock_stands_still() -> None:
    board = ActivityBoard.start([GAUGE], 0.0)
    board, _ = board.observed(H, 0.0, T0)
    assert board.tick(749.0, T0)[1] == ()
    assert [d.silent_s for d in board.tick(750.0, T0)[1]] == [750.0]

"""Alarm lifecycle tables: idempotent raise, reactivation (A6), latches (A5), acks (A7)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from layouts.schema import AlarmSeverity, Domain
from wall.alarms.core import (
    Alarm,
    AlarmKey,
    AlarmQuery,
    AlarmStateError,
    AlarmStatus,
    EventKind,
    Originator,
    Outcome,
    Severity,
    acknowledge,
    by_severity_then_newest,
    clear_alarm,
    raise_alarm,
    update_alarm,
)

T0 = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)
CAM = Originator("camera", "nankan-bridge")
THRESHOLD_S = 60.0


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def raised(
    severity: Severity = Severity.MAJOR,
    *,
    existing: Alarm | None = None,
    s: float = 0.0,
    new_id: str = "a1",
    details: dict[str, Any] | None = None,
) -> Alarm:
    return raise_alarm(
        existing, "crowding", CAM, severity, details, at(s), THRESHOLD_S, new_id=new_id
    ).alarm


def cleared(severity: Severity = Severity.MAJOR, *, acked: bool = False) -> Alarm:
    alarm = raised(severity)
    if acked:
        alarm = acknowledge(alarm, "duty-1", at(1)).alarm
    return clear_alarm(alarm, at(2)).alarm


# --- one active alarm per (type, originator) -------------------------------------


def test_first_raise_creates_an_unacknowledged_alarm_with_history() -> None:
    change = raise_alarm(
        None,
        "crowding",
        CAM,
        Severity.MAJOR,
        {"persons": 31},
        at(0),
        THRESHOLD_S,
        new_id="a1",
        domain=Domain.EMERGENCY,
    )
    alarm = change.alarm
    assert change.outcome is Outcome.CREATED
    assert (alarm.id, alarm.status, alarm.count) == ("a1", AlarmStatus.ACTIVE_UNACK, 0)
    assert (alarm.started_at, alarm.updated_at, alarm.cleared_at) == (
        at(0),
        at(0),
        None,
    )
    assert alarm.domain is Domain.EMERGENCY
    assert dict(alarm.details) == {"persons": 31}
    assert [e.kind for e in change.events] == [EventKind.CREATED]
    with pytest.raises(FrozenInstanceError):
        alarm.count = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        alarm.details["persons"] = 0  # type: ignore[index]


def test_reraise_while_active_folds_into_the_same_alarm_and_counts() -> None:
    first = raised()
    change = raise_alarm(
        first,
        "crowding",
        CAM,
        Severity.MAJOR,
        {"persons": 35},
        at(5),
        THRESHOLD_S,
        new_id="a2",
    )
    assert change.outcome is Outcome.UPDATED
    assert (change.alarm.id, change.alarm.count) == ("a1", 1)
    assert change.alarm.updated_at == at(5) and change.alarm.started_at == at(0)
    assert dict(change.alarm.details) == {"persons": 35}
    assert change.events == ()  # a plain re-raise does not grow the history


def test_escalation_updates_the_same_alarm_and_records_severity_changed() -> None:
    first = raised(Severity.MAJOR)
    change = raise_alarm(
        first, "crowding", CAM, Severity.CRITICAL, {}, at(5), 60, new_id="a2"
    )
    assert change.alarm.id == "a1" and change.alarm.severity is Severity.CRITICAL
    [event] = change.events
    assert (event.kind, event.from_value, event.to_value) == (
        EventKind.SEVERITY_CHANGED,
        "major",
        "critical",
    )


@pytest.mark.parametrize(
    ("after_clear_s", "outcome", "alarm_id", "count"),
    [
        pytest.param(0.0, Outcome.REACTIVATED, "a1", 1, id="at-once"),
        pytest.param(59.9, Outcome.REACTIVATED, "a1", 1, id="inside"),
        pytest.param(60.0, Outcome.REACTIVATED, "a1", 1, id="at-threshold"),
        pytest.param(60.1, Outcome.CREATED, "a2", 0, id="after"),
    ],
)
def test_a6_reraise_within_reactivation_threshold_increments_count_no_new_alarm(
    after_clear_s: float, outcome: Outcome, alarm_id: str, count: int
) -> None:
    gone = clear_alarm(raised(), at(10)).alarm
    change = raise_alarm(
        gone,
        "crowding",
        CAM,
        Severity.MAJOR,
        {},
        at(10 + after_clear_s),
        THRESHOLD_S,
        new_id="a2",
    )
    assert change.outcome is outcome
    assert (change.alarm.id, change.alarm.count) == (alarm_id, count)
    assert change.alarm.status is AlarmStatus.ACTIVE_UNACK
    assert change.alarm.cleared_at is None


def test_a6_reactivation_keeps_the_ack_and_drops_the_latch() -> None:
    acked = cleared(acked=True)
    back = raise_alarm(
        acked, "crowding", CAM, Severity.MAJOR, {}, at(3), 60, new_id="x"
    )
    assert back.alarm.status is AlarmStatus.ACTIVE_ACK
    assert [e.kind for e in back.events] == [EventKind.REACTIVATED]
    latched = cleared(Severity.CRITICAL)
    assert latched.latched
    back = raise_alarm(
        latched, "crowding", CAM, Severity.CRITICAL, {}, at(3), 60, new_id="x"
    )
    assert back.alarm.active and not back.alarm.latched


@pytest.mark.parametrize(
    ("kwargs", "expectation"),
    [
        pytest.param({}, DoesNotRaise(), id="valid"),
        pytest.param(
            {"type": "Crowding"}, pytest.raises(ValueError, match="type"), id="type"
        ),
        pytest.param(
            {"now": datetime(2025, 7, 1)},  # naive on purpose
            pytest.raises(ValueError, match="timezone-aware"),
            id="naive-now",
        ),
        pytest.param(
            {"reactivation_threshold_s": -1},
            pytest.raises(ValueError, match=">= 0"),
            id="negative-threshold",
        ),
        pytest.param(
            {"originator": Originator("camera", "other")},
            pytest.raises(ValueError, match="is for"),
            id="other-key",
        ),
    ],
)
def test_raise_rejects_bad_input(
    kwargs: dict[str, Any], expectation: AbstractContextManager[Any]
) -> None:
    args: dict[str, Any] = {
        "existing": raised(),
        "type": "crowding",
        "originator": CAM,
        "severity": Severity.MAJOR,
        "details": None,
        "now": at(1),
        "reactivation_threshold_s": 60,
        "new_id": "a2",
    } | kwargs
    with expectation:
        raise_alarm(**args)


@pytest.mark.parametrize(
    ("text", "expectation"),
    [
        pytest.param("camera:cam-1/zone:a", DoesNotRaise(), id="id-with-colon"),
        pytest.param("camera", pytest.raises(ValueError, match="kind:id"), id="bare"),
        pytest.param("Camera:x", pytest.raises(ValueError, match="kind"), id="upper"),
        pytest.param("camera:", pytest.raises(ValueError, match="id"), id="no-id"),
    ],
)
def test_originator_round_trips_kind_colon_id(
    text: str, expectation: AbstractContextManager[Any]
) -> None:
    with expectation:
        assert str(Originator.parse(text)) == text


def test_the_key_text_is_type_at_kind_colon_id_and_text_originators_are_read() -> None:
    key = raised().key
    assert key == AlarmKey("crowding", CAM)
    assert str(key) == "crowding@camera:nankan-bridge"
    assert Originator.of("camera:nankan-bridge") == CAM
    assert Originator.of(CAM) is CAM


# --- update and clear ---------------------------------------------------------------


def test_update_changes_details_and_severity_without_counting() -> None:
    change = update_alarm(
        raised(), at(3), severity=Severity.MINOR, details={"persons": 20}
    )
    assert change.alarm.count == 0 and change.alarm.severity is Severity.MINOR
    assert [e.kind for e in change.events] == [EventKind.SEVERITY_CHANGED]
    with pytest.raises(AlarmStateError, match="cleared") as err:
        update_alarm(cleared(), at(5))
    assert err.value.code == "not_active"


@pytest.mark.parametrize(
    ("severity", "acked_first", "status", "latched"),
    [
        pytest.param(
            Severity.CRITICAL, False, AlarmStatus.CLEARED_UNACK, True, id="critical"
        ),
        pytest.param(
            Severity.CRITICAL, True, AlarmStatus.CLEARED_ACK, False, id="critical-acked"
        ),
        pytest.param(
            Severity.MAJOR, False, AlarmStatus.CLEARED_UNACK, False, id="major"
        ),
        pytest.param(
            Severity.WARNING, True, AlarmStatus.CLEARED_ACK, False, id="warning-acked"
        ),
    ],
)
def test_a5_critical_alarm_cleared_unacknowledged_stays_latched(
    severity: Severity, acked_first: bool, status: AlarmStatus, latched: bool
) -> None:
    alarm = cleared(severity, acked=acked_first)
    assert (alarm.status, alarm.latched, alarm.cleared_at) == (status, latched, at(2))
    assert alarm.needs_attention is latched


def test_a5_latch_holds_until_someone_acknowledges() -> None:
    latched = cleared(Severity.CRITICAL)
    assert latched.needs_attention and not latched.active
    change = acknowledge(latched, "duty-1", at(30))
    assert change.alarm.status is AlarmStatus.CLEARED_ACK
    assert not change.alarm.latched and not change.alarm.needs_attention
    assert (change.alarm.acked_by, change.alarm.acked_at) == ("duty-1", at(30))


def test_clearing_twice_is_refused() -> None:
    with pytest.raises(AlarmStateError, match="already cleared") as err:
        clear_alarm(cleared(), at(9))
    assert err.value.code == "not_active"


# --- acknowledgement -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("alarm", "forced", "status", "kind", "expectation"),
    [
        pytest.param(
            raised(),
            False,
            AlarmStatus.ACTIVE_ACK,
            EventKind.ACKNOWLEDGED,
            DoesNotRaise(),
            id="active-stays-active",
        ),
        pytest.param(
            cleared(),
            False,
            AlarmStatus.CLEARED_ACK,
            EventKind.ACKNOWLEDGED,
            DoesNotRaise(),
            id="cleared-closes",
        ),
        pytest.param(
            raised(),
            True,
            AlarmStatus.CLEARED_ACK,
            EventKind.FORCED_ACK,
            DoesNotRaise(),
            id="forced-clears-too",
        ),
        pytest.param(
            acknowledge(raised(), "duty-1", at(1)).alarm,
            True,
            AlarmStatus.CLEARED_ACK,
            EventKind.FORCED_ACK,
            DoesNotRaise(),
            id="forced-on-acked-active",
        ),
        pytest.param(
            cleared(),
            True,
            AlarmStatus.CLEARED_ACK,
            EventKind.ACKNOWLEDGED,
            DoesNotRaise(),
            id="forced-on-cleared-is-plain",
        ),
        pytest.param(
            acknowledge(raised(), "duty-1", at(1)).alarm,
            False,
            None,
            None,
            pytest.raises(AlarmStateError, match="already acknowledged by duty-1"),
            id="twice",
        ),
        pytest.param(
            cleared(acked=True),
            True,
            None,
            None,
            pytest.raises(AlarmStateError, match="already acknowledged"),
            id="closed",
        ),
    ],
)
def test_a7_acknowledge_table(
    alarm: Alarm,
    forced: bool,
    status: AlarmStatus | None,
    kind: EventKind | None,
    expectation: AbstractContextManager[Any],
) -> None:
    with expectation:
        change = acknowledge(alarm, "admin-1", at(20), forced, note="checked on CCTV")
        assert change.alarm.status is status
        [event] = change.events
        assert (event.kind, event.actor, event.note) == (
            kind,
            "admin-1",
            "checked on CCTV",
        )
        assert event.from_value == alarm.status.value
        assert change.alarm.updated_at == at(20)
        assert change.alarm.acked_at is not None


def test_a7_forced_ack_sets_the_clear_time_and_keeps_the_first_acker() -> None:
    acked = acknowledge(raised(), "duty-1", at(1)).alarm
    forced = acknowledge(acked, "admin-1", at(5), forced=True).alarm
    assert forced.cleared_at == at(5)
    assert (forced.acked_by, forced.acked_at) == ("duty-1", at(1))


# --- ordering and vocabulary ---------------------------------------------------------


def test_lists_sort_most_severe_first_then_newest() -> None:
    def one(alarm_id: str, severity: Severity, s: float) -> Alarm:
        return raise_alarm(
            None,
            "crowding",
            Originator("camera", alarm_id),
            severity,
            {},
            at(s),
            0,
            new_id=alarm_id,
        ).alarm

    alarms = [
        one("warn-new", Severity.WARNING, 50),
        one("major-old", Severity.MAJOR, 1),
        one("crit-old", Severity.CRITICAL, 0),
        one("major-new", Severity.MAJOR, 9),
        one("crit-new", Severity.CRITICAL, 5),
    ]
    assert [a.id for a in by_severity_then_newest(alarms)] == [
        "crit-new",
        "crit-old",
        "major-new",
        "major-old",
        "warn-new",
    ]


@pytest.mark.parametrize(
    ("query", "statuses", "expectation"),
    [
        pytest.param(AlarmQuery.ALL, None, DoesNotRaise(), id="all"),
        pytest.param(
            AlarmQuery.UNACKED,
            {AlarmStatus.ACTIVE_UNACK, AlarmStatus.CLEARED_UNACK},
            DoesNotRaise(),
            id="unacked",
        ),
        pytest.param(
            AlarmQuery.CLEARED_ACK,
            {AlarmStatus.CLEARED_ACK},
            DoesNotRaise(),
            id="one-status",
        ),
        pytest.param(
            AlarmQuery.ACTIVE,
            None,
            pytest.raises(ValueError, match="latched"),
            id="active-is-no-status-set",
        ),
    ],
)
def test_listing_queries_select_statuses(
    query: AlarmQuery,
    statuses: set[AlarmStatus] | None,
    expectation: AbstractContextManager[Any],
) -> None:
    with expectation:
        assert query.statuses == statuses


def test_severities_match_the_layout_filter_vocabulary() -> None:
    assert {s.value for s in Severity} == {s.value for s in AlarmSeverity}
    assert [s.rank for s in Severity] == [4, 3, 2, 1, 0]
    # layouts list lowest first; the alarm model lists most severe first
    assert [s.value for s in Severity] == [s.value for s in reversed(AlarmSeverity)]

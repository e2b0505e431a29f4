"""The alarm wire form: one model for REST bodies and ``alarm.*`` events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from layouts.schema import Domain
from wall.alarms.core import (
    Alarm,
    Originator,
    Outcome,
    Severity,
    acknowledge,
    clear_alarm,
    raise_alarm,
)
from wall.alarms.topics import (
    ALARM_ACKNOWLEDGED,
    ALARM_CLEARED,
    ALARM_RAISED,
    ALARM_UPDATED,
    TOPICS_OF,
)
from wall.alarms.wire import AlarmDetail, AlarmOut
from wall.platform.event_bus import EventBus, catalogue
from wall.platform.wire import parse_wire_time, wire_time

T0 = datetime(2025, 7, 1, 2, 0, 0, 123456, tzinfo=UTC)
CAM = Originator("camera", "gate/zone:kerb")

# the fields the wall page and the console read (wall.js, console.js)
ALARM_FIELDS = {
    "id",
    "type",
    "originator",
    "severity",
    "status",
    "active",
    "acknowledged",
    "latched",
    "domain",
    "started_at",
    "updated_at",
    "cleared_at",
    "acked_at",
    "acked_by",
    "count",
    "details",
}


def _alarm() -> Alarm:
    raised = raise_alarm(
        None,
        "crowding",
        CAM,
        Severity.MAJOR,
        {"count": 7, "labels": ["person"]},
        T0,
        60,
        new_id="a1",
        domain=Domain.EMERGENCY,
    ).alarm
    return acknowledge(raised, "duty-1", T0 + timedelta(seconds=5)).alarm


def test_alarm_json_keeps_its_fields_and_puts_times_in_the_wire_format() -> None:
    data = AlarmOut.of(_alarm()).model_dump(mode="json")
    assert set(data) == ALARM_FIELDS
    assert data["originator"] == {"kind": "camera", "id": "gate/zone:kerb"}
    assert (data["severity"], data["status"], data["domain"]) == (
        "major",
        "active_ack",
        "emergency",
    )
    assert data["started_at"] == wire_time(T0) == "2025-07-01T02:00:00.123Z"
    assert parse_wire_time(data["acked_at"]) - parse_wire_time(
        data["started_at"]
    ) == timedelta(seconds=5)
    assert data["cleared_at"] is None
    assert data["details"] == {"count": 7, "labels": ["person"]}


def test_history_entries_name_their_from_field_from() -> None:
    alarm = _alarm()
    gone = clear_alarm(alarm, T0 + timedelta(seconds=9))
    data = AlarmDetail.with_history(gone.alarm, gone.events).model_dump(mode="json")
    assert set(data) == ALARM_FIELDS | {"history"}
    [entry] = data["history"]
    assert entry == {
        "at": "2025-07-01T02:00:09.123Z",
        "actor": "system",
        "kind": "cleared",
        "from": "active_ack",
        "to": "cleared_ack",
        "note": None,
    }


def test_every_outcome_publishes_catalogued_alarm_topics() -> None:
    assert set(TOPICS_OF) == set(Outcome)
    names = {t.name for t in catalogue()}
    for t in (ALARM_RAISED, ALARM_UPDATED, ALARM_CLEARED, ALARM_ACKNOWLEDGED):
        assert t.name in names and t.name.startswith("alarm.")
        assert t.payload is AlarmOut
    assert TOPICS_OF[Outcome.FORCED_ACK] == (ALARM_CLEARED, ALARM_ACKNOWLEDGED)


def test_bus_events_carry_the_same_json_as_the_api() -> None:
    bus = EventBus()
    sub = bus.subscribe(frozenset({"alarm.*"}))
    payload = AlarmOut.of(_alarm())
    bus.emit(ALARM_UPDATED, payload)
    event = sub._queue.popleft()
    assert event.topic == "alarm.updated"
    assert event.data == payload.model_dump(mode="json")

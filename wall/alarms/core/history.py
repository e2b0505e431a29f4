"""What a transition did: history entries and the change a transition returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from wall.alarms.core.alarm import Alarm, Severity


class EventKind(StrEnum):
    """What a history entry records (domain §2.3 ``AlarmEvent``)."""

    CREATED = "created"
    SEVERITY_CHANGED = "severity_changed"
    REACTIVATED = "reactivated"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    FORCED_ACK = "forced_ack"


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One history entry: who did what to an alarm, when (UTC), from → to.

    ``from_value``/``to_value`` are statuses or severities; ``note`` is the
    cause or an operator note.
    """

    alarm_id: str
    at: datetime
    actor: str
    kind: EventKind
    from_value: str | None = None
    to_value: str | None = None
    note: str | None = None


class Outcome(StrEnum):
    """What a transition did."""

    CREATED = "created"
    UPDATED = "updated"
    REACTIVATED = "reactivated"
    CLEARED = "cleared"
    ACKNOWLEDGED = "acknowledged"
    FORCED_ACK = "forced_ack"


@dataclass(frozen=True, slots=True)
class AlarmChange:
    """The result of one transition: the new alarm and its history entries."""

    alarm: Alarm
    outcome: Outcome
    events: tuple[AlarmEvent, ...] = ()


def entry(
    alarm: Alarm, now: datetime, actor: str, kind: EventKind, *values: str | None
) -> AlarmEvent:
    """A history entry of ``alarm``; ``values`` are from, to and note."""
    return AlarmEvent(alarm.id, now, actor, kind, *values)


def severity_events(
    alarm: Alarm, severity: Severity, now: datetime, actor: str
) -> tuple[AlarmEvent, ...]:
    """The ``severity_changed`` entry if ``severity`` differs, else none."""
    if severity == alarm.severity:
        return ()
    kind = EventKind.SEVERITY_CHANGED
    return (entry(alarm, now, actor, kind, alarm.severity.value, severity.value),)

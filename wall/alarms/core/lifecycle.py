"""Alarm transitions: raise, update, clear, acknowledge (A5-A7).

One alarm is active per (type, originator) (ThingsBoard's idempotent create); a
re-raise folds into it and counts, and a re-raise within
``reactivation_threshold_s`` of its clear reactivates it (A6, Genetec). A
critical alarm cleared while unacknowledged stays *latched* until someone acks
it (A5, Kaleido-X). A *forced* ack, which also clears, is a privilege the
service checks (A7).

Each transition takes ``now`` (aware UTC) and returns the new frozen alarm and
its history entries. History records state and severity changes only, so a
chatty source cannot grow it. The reactivation threshold compares wall-clock
times because it must hold across restarts; an NTP step can at worst turn one
re-raise into a new alarm or a reactivation.

Examples:
    >>> t0, cam = datetime(2025, 7, 1, tzinfo=UTC), Originator("camera", "c1")
    >>> first = raise_alarm(None, "crowding", cam, Severity.MAJOR, {}, t0, 60,
    ...                     new_id="a1")
    >>> again = raise_alarm(first.alarm, "crowding", cam, Severity.MAJOR, {},
    ...                     t0, 60, new_id="a2")
    >>> (again.outcome.value, again.alarm.id, again.alarm.count)
    ('updated', 'a1', 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType

from layouts.schema import Domain
from wall.alarms.core.alarm import SYSTEM_ACTOR, Alarm, AlarmStatus, Severity
from wall.alarms.core.history import (
    AlarmChange,
    EventKind,
    Outcome,
    entry,
    severity_events,
)
from wall.alarms.core.originator import AlarmKey, Originator
from wall.platform.wire import JsonValue


class AlarmStateError(ValueError):
    """A transition the alarm's state does not allow (a conflict at the edge).

    ``code`` is machine-readable (``already_acknowledged``, ``not_active``).
    """

    def __init__(self, code: str, alarm_id: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.alarm_id = alarm_id


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("alarm times must be timezone-aware")
    return now.astimezone(UTC)


def _frozen(details: Mapping[str, JsonValue] | None) -> Mapping[str, JsonValue]:
    return MappingProxyType(dict(details or {}))


def _folds_into(
    existing: Alarm, key: AlarmKey, now: datetime, threshold_s: float
) -> bool:
    """A raise of ``key`` folds into ``existing``: active, or cleared within (A6)."""
    if existing.key != key:
        raise ValueError(f"alarm {existing.id} is for {existing.key}, not {key}")
    cleared_at = existing.cleared_at
    return existing.active or (
        cleared_at is not None and (now - cleared_at).total_seconds() <= threshold_s
    )


def _reraised(
    existing: Alarm,
    severity: Severity,
    details: Mapping[str, JsonValue] | None,
    now: datetime,
    domain: Domain | None,
    actor: str,
) -> AlarmChange:
    """Fold a raise into ``existing``: count it, reactivate it if it cleared."""
    status = AlarmStatus.of(active=True, acknowledged=existing.acknowledged)
    alarm = replace(
        existing,
        severity=severity,
        status=status,
        updated_at=now,
        cleared_at=None,
        count=existing.count + 1,
        details=_frozen(details),
        latched=False,
        domain=domain or existing.domain,
    )
    events = severity_events(existing, severity, now, actor)
    if existing.active:
        return AlarmChange(alarm, Outcome.UPDATED, events)
    kind = EventKind.REACTIVATED
    back = entry(existing, now, actor, kind, existing.status.value, status.value)
    return AlarmChange(alarm, Outcome.REACTIVATED, (back, *events))


def _created(
    key: AlarmKey,
    severity: Severity,
    details: Mapping[str, JsonValue] | None,
    now: datetime,
    new_id: str,
    domain: Domain | None,
    actor: str,
) -> AlarmChange:
    """A new alarm of ``key``, active and unacknowledged."""
    alarm = Alarm(
        id=new_id,
        type=key.type,
        originator=key.originator,
        severity=severity,
        status=AlarmStatus.ACTIVE_UNACK,
        started_at=now,
        updated_at=now,
        details=_frozen(details),
        domain=domain,
    )
    created = entry(alarm, now, actor, EventKind.CREATED, None, alarm.status.value)
    return AlarmChange(alarm, Outcome.CREATED, (created,))


def raise_alarm(
    existing: Alarm | None,
    type: str,
    originator: Originator,
    severity: Severity,
    details: Mapping[str, JsonValue] | None,
    now: datetime,
    reactivation_threshold_s: float,
    *,
    new_id: str,
    domain: Domain | None = None,
    actor: str = SYSTEM_ACTOR,
) -> AlarmChange:
    """Raise an alarm, idempotently per (type, originator).

    If ``existing`` (the latest alarm of the key) is active, the raise folds
    into it: ``count`` + 1, details and severity follow the newest raise. If
    it cleared at most ``reactivation_threshold_s`` ago, it is reactivated
    (same id, ``count`` + 1, ack kept, latch dropped: A6). Otherwise a new
    alarm ``new_id`` starts, unacknowledged.

    Args:
        existing: Latest alarm of this key, or ``None``.
        type: Alarm type, lowercase (``crowding``, ``intrusion``…).
        originator: What raised it.
        severity: Severity of this raise; a change is recorded.
        details: Facts for people; replaces the previous details.
        now: Current time, timezone-aware.
        reactivation_threshold_s: Seconds after a clear that reactivate (≥ 0).
        new_id: Id for a new alarm (used only when one is created).
        domain: Department, kept from earlier raises if not given.
        actor: Who raised it, for the history.

    Returns:
        The change: ``created``, ``updated`` or ``reactivated``.

    Raises:
        ValueError: Naive ``now``, a negative threshold, a malformed type, or
            an ``existing`` alarm of another key.
    """
    now = _utc(now)
    if reactivation_threshold_s < 0:
        raise ValueError("reactivation_threshold_s must be >= 0")
    key = AlarmKey(type, originator)
    if existing is not None and _folds_into(
        existing, key, now, reactivation_threshold_s
    ):
        return _reraised(existing, severity, details, now, domain, actor)
    return _created(key, severity, details, now, new_id, domain, actor)


def update_alarm(
    alarm: Alarm,
    now: datetime,
    *,
    severity: Severity | None = None,
    details: Mapping[str, JsonValue] | None = None,
    actor: str = SYSTEM_ACTOR,
) -> AlarmChange:
    """Change an active alarm's severity or details without counting a re-raise.

    ``None`` keeps the current value; a severity change is recorded.

    Raises:
        AlarmStateError: ``not_active`` if the alarm has cleared.
    """
    now = _utc(now)
    if not alarm.active:
        raise AlarmStateError(
            "not_active", alarm.id, f"alarm {alarm.id} has cleared; raise it again"
        )
    new_severity = alarm.severity if severity is None else severity
    changed = replace(
        alarm,
        severity=new_severity,
        updated_at=now,
        details=alarm.details if details is None else _frozen(details),
    )
    events = severity_events(alarm, new_severity, now, actor)
    return AlarmChange(changed, Outcome.UPDATED, events)


def clear_alarm(
    alarm: Alarm, now: datetime, *, actor: str = SYSTEM_ACTOR, note: str | None = None
) -> AlarmChange:
    """The condition ended; a critical alarm nobody acknowledged latches (A5).

    Raises:
        AlarmStateError: ``not_active`` if it has already cleared.

    Examples:
        >>> t0 = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)
        >>> a = raise_alarm(None, "flood", Originator("station", "h1"),
        ...                 Severity.CRITICAL, {}, t0, 0, new_id="a1").alarm
        >>> cleared = clear_alarm(a, t0).alarm
        >>> (cleared.status.value, cleared.latched)
        ('cleared_unack', True)
    """
    now = _utc(now)
    if not alarm.active:
        raise AlarmStateError(
            "not_active", alarm.id, f"alarm {alarm.id} has already cleared"
        )
    status = AlarmStatus.of(active=False, acknowledged=alarm.acknowledged)
    cleared = replace(
        alarm,
        status=status,
        updated_at=now,
        cleared_at=now,
        latched=alarm.severity is Severity.CRITICAL and not alarm.acknowledged,
    )
    kind = EventKind.CLEARED
    event = entry(alarm, now, actor, kind, alarm.status.value, status.value, note)
    return AlarmChange(cleared, Outcome.CLEARED, (event,))


def _ack_target(alarm: Alarm, forced: bool) -> tuple[AlarmStatus, EventKind, Outcome]:
    """Status, history kind and outcome of an ack; refuses a pointless one."""
    if forced and alarm.active:
        return AlarmStatus.CLEARED_ACK, EventKind.FORCED_ACK, Outcome.FORCED_ACK
    if alarm.acknowledged:
        raise AlarmStateError(
            "already_acknowledged",
            alarm.id,
            f"alarm {alarm.id} was already acknowledged by {alarm.acked_by}",
        )
    status = AlarmStatus.of(active=alarm.active, acknowledged=True)
    return status, EventKind.ACKNOWLEDGED, Outcome.ACKNOWLEDGED


def acknowledge(
    alarm: Alarm,
    actor: str,
    now: datetime,
    forced: bool = False,
    *,
    note: str | None = None,
) -> AlarmChange:
    """Acknowledge an alarm; a forced ack of an active alarm also clears it.

    Acknowledging an active alarm keeps it active (``active_ack``);
    acknowledging a cleared one closes it and removes its latch. ``forced``
    is a privilege (A7): the caller must check it before calling. On an
    alarm that has already cleared, a forced ack is a plain ack.

    Raises:
        AlarmStateError: ``already_acknowledged`` if there is nothing to do.
    """
    now = _utc(now)
    status, kind, outcome = _ack_target(alarm, forced)
    changed = replace(
        alarm,
        status=status,
        updated_at=now,
        cleared_at=alarm.cleared_at if status.active == alarm.active else now,
        acked_at=alarm.acked_at or now,
        acked_by=alarm.acked_by or actor,
        latched=False,
    )
    event = entry(alarm, now, actor, kind, alarm.status.value, status.value, note)
    return AlarmChange(changed, outcome, (event,))

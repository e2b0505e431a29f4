"""Alarm lifecycle: raise, update, clear, acknowledge, reactivation, latches (A5-A7).

One alarm is active per (type, originator) (ThingsBoard's idempotent create); a
re-raise folds into it and counts, and a re-raise within
``reactivation_threshold_s`` of its clear reactivates it (A6, Genetec). A
critical alarm cleared while unacknowledged stays *latched* until someone acks
it (A5, Kaleido-X). Auto-ack never applies while active; a *forced* ack, which
also clears, is a privilege the service checks (A7).

Pure (HS1): the caller passes ``now`` (aware UTC) and the id of a would-be new
alarm; each transition returns the new frozen :class:`Alarm` and its history
entries. History records state and severity changes only, so a chatty source
cannot grow it. The reactivation threshold compares wall-clock times because it
must hold across restarts; an NTP step can at worst turn one re-raise into a
new alarm or a reactivation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from layouts.schema import Domain
from wall.platform.wire import JsonValue

SYSTEM_ACTOR = "system"
"""Actor of transitions the service makes on its own (rules, auto-ack)."""

_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


class Severity(StrEnum):
    """Alarm severity, most severe first (ThingsBoard order)."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INDETERMINATE = "indeterminate"

    @property
    def rank(self) -> int:
        """Higher is more severe: critical 4 … indeterminate 0."""
        return 4 - list(Severity).index(self)


class AlarmStatus(StrEnum):
    """Whether the condition is active, and whether someone acknowledged it."""

    ACTIVE_UNACK = "active_unack"
    ACTIVE_ACK = "active_ack"
    CLEARED_UNACK = "cleared_unack"
    CLEARED_ACK = "cleared_ack"

    @property
    def active(self) -> bool:
        """The condition still holds."""
        return self.value.startswith("active_")

    @property
    def acknowledged(self) -> bool:
        """Someone (or auto-ack) acknowledged it."""
        return self.value.endswith("_ack")

    @staticmethod
    def of(*, active: bool, acknowledged: bool) -> AlarmStatus:
        """The status for the two flags (cleared + acknowledged: ``cleared_ack``)."""
        return AlarmStatus(
            f"{'active' if active else 'cleared'}_{'ack' if acknowledged else 'unack'}"
        )


@dataclass(frozen=True, slots=True)
class Originator:
    """What raised the alarm: a kind and an id, written ``kind:id``.

    Examples:
        >>> str(Originator("camera", "nankan-bridge/zone:riverbank"))
        'camera:nankan-bridge/zone:riverbank'
        >>> Originator.parse("station:bz-h-001")
        Originator(kind='station', id='bz-h-001')
    """

    kind: str
    id: str

    def __post_init__(self) -> None:
        if not _KIND_RE.match(self.kind):
            raise ValueError(
                f"originator kind {self.kind!r} must be 1-32 lowercase letters,"
                " digits or '_' and start with a letter"
            )
        if not self.id or len(self.id) > 200 or not self.id.isprintable():
            raise ValueError("originator id must be 1-200 printable characters")

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Originator:
        """Read ``kind:id`` (the id may itself contain ``:``)."""
        kind, sep, ident = text.partition(":")
        if not sep:
            raise ValueError(f"originator {text!r} is not 'kind:id'")
        return cls(kind, ident)


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm (domain §2.3).

    Attributes:
        id: Unique id.
        type: What kind of condition, e.g. ``crowding``, ``intrusion``.
        originator: What raised it.
        severity: Current severity.
        status: Active or cleared, acknowledged or not.
        started_at: First raise, UTC.
        updated_at: Last change of any kind, UTC.
        cleared_at: Last clear, UTC; ``None`` while active.
        acked_at: Acknowledgement time, UTC.
        acked_by: Who acknowledged it (principal name or ``system``).
        count: Re-raises folded into this alarm, reactivations included (A6).
        details: Facts for people (value, threshold, zone…), JSON values.
        latched: A critical alarm cleared before anyone acknowledged it (A5).
        domain: Department it concerns, if known (alarm tiles filter by it).
    """

    id: str
    type: str
    originator: Originator
    severity: Severity
    status: AlarmStatus
    started_at: datetime
    updated_at: datetime
    cleared_at: datetime | None = None
    acked_at: datetime | None = None
    acked_by: str | None = None
    count: int = 0
    details: Mapping[str, JsonValue] = field(default_factory=dict)
    latched: bool = False
    domain: Domain | None = None

    @property
    def active(self) -> bool:
        """The condition still holds."""
        return self.status.active

    @property
    def acknowledged(self) -> bool:
        """Someone acknowledged it."""
        return self.status.acknowledged

    @property
    def key(self) -> tuple[str, str]:
        """``(type, "kind:id")``: at most one active alarm per key."""
        return (self.type, str(self.originator))

    @property
    def needs_attention(self) -> bool:
        """Active, or latched until acknowledged: what alarm lists show."""
        return self.active or self.latched


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


class AlarmStateError(ValueError):
    """A transition the alarm's state does not allow (409 at the edge).

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


def _entry(
    alarm: Alarm, now: datetime, actor: str, kind: EventKind, *values: str | None
) -> AlarmEvent:
    return AlarmEvent(alarm.id, now, actor, kind, *values)


def _severity_events(
    alarm: Alarm, severity: Severity, now: datetime, actor: str
) -> tuple[AlarmEvent, ...]:
    if severity == alarm.severity:
        return ()
    kind = EventKind.SEVERITY_CHANGED
    return (_entry(alarm, now, actor, kind, alarm.severity.value, severity.value),)


def _within(alarm: Alarm, now: datetime, threshold_s: float) -> bool:
    cleared_at = alarm.cleared_at
    return cleared_at is not None and (now - cleared_at).total_seconds() <= threshold_s


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

    ``existing`` is the latest alarm of the same key, active or not. If it is
    active, the raise folds into it: ``count`` + 1, details and severity
    follow the newest raise (severity changes are recorded). If it cleared
    at most ``reactivation_threshold_s`` ago, it is reactivated (same id,
    ``count`` + 1, acknowledgement kept, latch dropped: A6). Otherwise a new
    alarm with ``new_id`` starts, unacknowledged.

    Args:
        existing: Latest alarm of this key, or ``None``.
        type: Alarm type, lowercase (``crowding``, ``intrusion``…).
        originator: What raised it.
        severity: Severity of this raise.
        details: Facts for people; replaces the previous details.
        now: Current time, timezone-aware.
        reactivation_threshold_s: Seconds after a clear during which a
            re-raise reactivates the cleared alarm (≥ 0).
        new_id: Id for a new alarm (used only when one is created).
        domain: Department, kept from earlier raises if not given.
        actor: Who raised it, for the history.

    Returns:
        The change; ``outcome`` is ``created``, ``updated`` or ``reactivated``.

    Raises:
        ValueError: Naive ``now``, a negative threshold, a malformed type, or
            an ``existing`` alarm of another key.

    Examples:
        >>> t0 = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)
        >>> cam = Originator("camera", "cam-1")
        >>> first = raise_alarm(
        ...     None, "crowding", cam, Severity.MAJOR, {}, t0, 60, new_id="a1"
        ... )
        >>> again = raise_alarm(
        ...     first.alarm, "crowding", cam, Severity.MAJOR, {}, t0, 60, new_id="a2"
        ... )
        >>> (again.outcome.value, again.alarm.id, again.alarm.count)
        ('updated', 'a1', 1)
    """
    now = _utc(now)
    if reactivation_threshold_s < 0:
        raise ValueError("reactivation_threshold_s must be >= 0")
    if not _TYPE_RE.match(type):
        raise ValueError(
            f"alarm type {type!r} must be 1-64 lowercase letters, digits, '_.-'"
        )
    key = (type, str(originator))
    if existing is not None and existing.key != key:
        raise ValueError(f"alarm {existing.id} is for {existing.key}, not {key}")
    if existing is not None and (
        existing.active or _within(existing, now, reactivation_threshold_s)
    ):
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
        events = _severity_events(existing, severity, now, actor)
        if existing.active:
            return AlarmChange(alarm, Outcome.UPDATED, events)
        kind = EventKind.REACTIVATED
        back = _entry(existing, now, actor, kind, existing.status.value, status.value)
        return AlarmChange(alarm, Outcome.REACTIVATED, (back, *events))
    alarm = Alarm(
        id=new_id,
        type=type,
        originator=originator,
        severity=severity,
        status=AlarmStatus.ACTIVE_UNACK,
        started_at=now,
        updated_at=now,
        details=_frozen(details),
        domain=domain,
    )
    created = _entry(alarm, now, actor, EventKind.CREATED, None, alarm.status.value)
    return AlarmChange(alarm, Outcome.CREATED, (created,))


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
    events = _severity_events(alarm, new_severity, now, actor)
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
    event = _entry(alarm, now, actor, kind, alarm.status.value, status.value, note)
    return AlarmChange(cleared, Outcome.CLEARED, (event,))


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
    if forced and alarm.active:
        status, kind = AlarmStatus.CLEARED_ACK, EventKind.FORCED_ACK
        outcome = Outcome.FORCED_ACK
    elif alarm.acknowledged:
        raise AlarmStateError(
            "already_acknowledged",
            alarm.id,
            f"alarm {alarm.id} was already acknowledged by {alarm.acked_by}",
        )
    else:
        status = AlarmStatus.of(active=alarm.active, acknowledged=True)
        kind, outcome = EventKind.ACKNOWLEDGED, Outcome.ACKNOWLEDGED
    changed = replace(
        alarm,
        status=status,
        updated_at=now,
        cleared_at=alarm.cleared_at if status.active == alarm.active else now,
        acked_at=alarm.acked_at or now,
        acked_by=alarm.acked_by or actor,
        latched=False,
    )
    event = _entry(alarm, now, actor, kind, alarm.status.value, status.value, note)
    return AlarmChange(changed, outcome, (event,))


def auto_acknowledge(alarm: Alarm, now: datetime, after_s: float) -> AlarmChange | None:
    """Auto-ack an alarm ``after_s`` seconds after it cleared, if allowed (A7).

    Never while the condition is active, and never a latched alarm: a latch
    waits for a person (A5).

    Returns:
        The acknowledgement by ``system``, or ``None`` if it does not apply.
    """
    now = _utc(now)
    if alarm.active or alarm.acknowledged or alarm.latched:
        return None
    if alarm.cleared_at is None or (now - alarm.cleared_at).total_seconds() < after_s:
        return None
    return acknowledge(alarm, SYSTEM_ACTOR, now, note=f"auto-ack after {after_s:g} s")


def by_severity_then_newest(alarms: Iterable[Alarm]) -> list[Alarm]:
    """Most severe first, newest first within a severity (alarm lists, A1).

    Examples:
        >>> t0 = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)
        >>> def a(i, sev, minute):
        ...     return raise_alarm(None, "t", Originator("camera", i), sev, {},
        ...                        t0.replace(minute=minute), 0, new_id=i).alarm
        >>> [x.id for x in by_severity_then_newest(
        ...     [a("old", Severity.MAJOR, 1), a("minor", Severity.MINOR, 5),
        ...      a("new", Severity.MAJOR, 3)])]
        ['new', 'old', 'minor']
    """
    return sorted(
        alarms, key=lambda a: (-a.severity.rank, -a.started_at.timestamp(), a.id)
    )

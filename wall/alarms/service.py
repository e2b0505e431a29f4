"""Alarms as a service: lifecycle, persistence, audit log and events (A5-A7, O2).

Transitions are the pure functions of :mod:`wall.alarms.core`; this module
serialises them under one lock, saves each change (alarm row, history and,
for every acknowledgement, clear and forced ack, the audit line: one
transaction) before it becomes visible, and publishes the alarm's JSON on the
event bus (``alarm.raised``, ``alarm.updated``, ``alarm.cleared``,
``alarm.acknowledged``). A forced ack publishes ``alarm.cleared`` and then
``alarm.acknowledged``.

Memory is bounded: every active or latched alarm is kept, plus at most
``max_closed_in_memory`` closed ones (least recently changed dropped first);
the store keeps them all and answers for the rest.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Any

from layouts.schema import Domain
from wall.alarms.core import (
    SYSTEM_ACTOR,
    Alarm,
    AlarmChange,
    AlarmEvent,
    AlarmStateError,
    AlarmStatus,
    Originator,
    Outcome,
    Severity,
    acknowledge,
    by_severity_then_newest,
    clear_alarm,
    raise_alarm,
    update_alarm,
)
from wall.alarms.store import AlarmStore
from wall.platform.errors import Conflict, Forbidden, NotFound
from wall.platform.event_bus import EventBus
from wall.platform.records import AuditEntry
from wall.platform.store.sqlite import SqliteStore, utc_now
from wall.platform.wire import JsonValue

log = logging.getLogger(__name__)

DEFAULT_REACTIVATION_THRESHOLD_S = 60.0
"""Proposed default: a re-raise within a minute of the clear reactivates (A6)."""
DEFAULT_MAX_CLOSED_IN_MEMORY = 10_000
"""Closed alarms kept in memory; older ones are read from the store."""


class AlarmQuery(StrEnum):
    """Which alarms a listing returns."""

    ACTIVE = "active"
    """Active, or latched until acknowledged (A5): what needs attention."""
    UNACKED = "unacked"
    ALL = "all"
    ACTIVE_UNACK = "active_unack"
    ACTIVE_ACK = "active_ack"
    CLEARED_UNACK = "cleared_unack"
    CLEARED_ACK = "cleared_ack"


_QUERY_STATUSES: Mapping[AlarmQuery, frozenset[AlarmStatus] | None] = {
    AlarmQuery.UNACKED: frozenset(
        {AlarmStatus.ACTIVE_UNACK, AlarmStatus.CLEARED_UNACK}
    ),
    AlarmQuery.ALL: None,
    **{AlarmQuery(s.value): frozenset({s}) for s in AlarmStatus},
}

_TOPICS: Mapping[Outcome, tuple[str, ...]] = {
    Outcome.CREATED: ("alarm.raised",),
    Outcome.UPDATED: ("alarm.updated",),
    Outcome.REACTIVATED: ("alarm.updated",),
    Outcome.CLEARED: ("alarm.cleared",),
    Outcome.ACKNOWLEDGED: ("alarm.acknowledged",),
    Outcome.FORCED_ACK: ("alarm.cleared", "alarm.acknowledged"),
}
_AUDITED: Mapping[Outcome, str] = {
    Outcome.CLEARED: "alarm.clear",
    Outcome.ACKNOWLEDGED: "alarm.acknowledge",
    Outcome.FORCED_ACK: "alarm.forced_ack",
}


class AlarmForbidden(Forbidden):
    """The caller may not do this to an alarm (a forced ack without admin)."""


def _iso(moment: datetime | None) -> str | None:
    # fixed width, always UTC: clients may compare these as text
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def alarm_json(alarm: Alarm) -> dict[str, Any]:
    """The wire form of an alarm (API bodies and bus events)."""
    return {
        "id": alarm.id,
        "type": alarm.type,
        "originator": {"kind": alarm.originator.kind, "id": alarm.originator.id},
        "severity": alarm.severity.value,
        "status": alarm.status.value,
        "active": alarm.active,
        "acknowledged": alarm.acknowledged,
        "latched": alarm.latched,
        "domain": None if alarm.domain is None else alarm.domain.value,
        "started_at": _iso(alarm.started_at),
        "updated_at": _iso(alarm.updated_at),
        "cleared_at": _iso(alarm.cleared_at),
        "acked_at": _iso(alarm.acked_at),
        "acked_by": alarm.acked_by,
        "count": alarm.count,
        "details": dict(alarm.details),
    }


def event_json(event: AlarmEvent) -> dict[str, Any]:
    """The wire form of one history entry."""
    return {
        "at": _iso(event.at),
        "actor": event.actor,
        "kind": event.kind.value,
        "from": event.from_value,
        "to": event.to_value,
        "note": event.note,
    }


def _new_id() -> str:
    return uuid.uuid4().hex


def _originator(value: Originator | str) -> Originator:
    """Accept ``Originator`` or its ``kind:id`` text (``camera:gate/zone:a``)."""
    return value if isinstance(value, Originator) else Originator.parse(value)


class AlarmService:
    """Owns the alarms: one active per (type, originator), with history.

    Args:
        store: The open SQLite store (alarm tables and audit log).
        bus: Where alarm events are published.
        reactivation_threshold_s: Default for :meth:`raise_` (A6).
        max_closed_in_memory: Closed alarms kept in memory.
        now: UTC clock.
        new_id: Id factory for new alarms.
    """

    def __init__(
        self,
        store: SqliteStore,
        bus: EventBus,
        *,
        reactivation_threshold_s: float = DEFAULT_REACTIVATION_THRESHOLD_S,
        max_closed_in_memory: int = DEFAULT_MAX_CLOSED_IN_MEMORY,
        now: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = _new_id,
    ) -> None:
        if reactivation_threshold_s < 0 or max_closed_in_memory < 0:
            raise ValueError("thresholds and bounds must be >= 0")
        self.store = store
        self.bus = bus
        self.reactivation_threshold_s = reactivation_threshold_s
        self.max_closed_in_memory = max_closed_in_memory
        self._rows = AlarmStore(store)
        self._now = now
        self._new_id = new_id
        self._lock = asyncio.Lock()
        self._open: dict[str, Alarm] = {}
        self._closed: OrderedDict[str, Alarm] = OrderedDict()
        self._latest: dict[tuple[str, str], str] = {}

    # ---- lifecycle -------------------------------------------------------------
    async def __aenter__(self) -> AlarmService:
        for alarm in await self._rows.open_alarms():
            self._remember(alarm)
        for alarm in await self._rows.recent_closed(self.max_closed_in_memory):
            self._remember(alarm)
        log.info(
            "alarms: %d open, %d recent closed loaded",
            len(self._open),
            len(self._closed),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Nothing to stop (no tasks); every change is already saved. Idempotent."""

    # ---- transitions -------------------------------------------------------------
    async def raise_(
        self,
        type: str,
        originator: Originator | str,
        severity: Severity,
        details: Mapping[str, JsonValue] | None = None,
        *,
        domain: Domain | None = None,
        actor: str = SYSTEM_ACTOR,
        reactivation_threshold_s: float | None = None,
    ) -> Alarm:
        """Raise (or re-raise) the alarm of (type, originator).

        Returns the alarm: new (``alarm.raised``), or the active or
        reactivated one with ``count`` + 1 (``alarm.updated``, A6).

        Raises:
            ValueError: A malformed type or originator, or a negative threshold.
        """
        threshold = (
            self.reactivation_threshold_s
            if reactivation_threshold_s is None
            else reactivation_threshold_s
        )
        originator = _originator(originator)
        async with self._lock:
            existing = await self._existing(type, originator)
            change = raise_alarm(
                existing,
                type,
                originator,
                severity,
                details,
                self._now(),
                threshold,
                new_id=self._new_id(),
                domain=domain,
                actor=actor,
            )
            return await self._commit(change, actor, cause=None)

    async def update(
        self,
        type: str,
        originator: Originator | str,
        *,
        severity: Severity | None = None,
        details: Mapping[str, JsonValue] | None = None,
        actor: str = SYSTEM_ACTOR,
    ) -> Alarm | None:
        """Update the active alarm's severity or details (not a re-raise).

        Returns:
            The alarm, or ``None`` if none of this key is active.
        """
        originator = _originator(originator)
        async with self._lock:
            existing = await self._existing(type, originator)
            if existing is None or not existing.active:
                return None
            change = update_alarm(
                existing, self._now(), severity=severity, details=details, actor=actor
            )
            return await self._commit(change, actor, cause=None)

    async def clear(
        self,
        type: str,
        originator: Originator | str,
        *,
        actor: str = SYSTEM_ACTOR,
        cause: str | None = None,
    ) -> Alarm | None:
        """The condition of (type, originator) ended; audited (O2).

        Returns:
            The cleared alarm (latched if critical and unacknowledged, A5),
            or ``None`` if none of this key was active.
        """
        originator = _originator(originator)
        async with self._lock:
            existing = await self._existing(type, originator)
            if existing is None or not existing.active:
                return None
            change = clear_alarm(existing, self._now(), actor=actor, note=cause)
            return await self._commit(change, actor, cause)

    async def acknowledge(
        self,
        alarm_id: str,
        principal_name: str,
        forced: bool = False,
        *,
        privileged: bool = False,
        note: str | None = None,
    ) -> Alarm:
        """Acknowledge an alarm; ``forced`` also clears it (A7); audited (O2).

        Args:
            alarm_id: The alarm.
            principal_name: Who acknowledges (the audit actor).
            forced: Acknowledge and clear at once.
            privileged: The caller may force (admins); checked here.
            note: Operator note for history and audit.

        Raises:
            AlarmForbidden: ``forced`` without ``privileged``.
            NotFound: Unknown alarm.
            Conflict: Already acknowledged.
        """
        if forced and not privileged:
            raise AlarmForbidden(
                "forced_ack_needs_admin",
                "a forced acknowledgement also clears the alarm;"
                " only an admin may force it",
            )
        async with self._lock:
            alarm = await self.get(alarm_id)
            try:
                change = acknowledge(
                    alarm, principal_name, self._now(), forced, note=note
                )
            except AlarmStateError as err:
                raise Conflict(err.code, str(err)) from err
            return await self._commit(change, principal_name, note)

    # ---- queries -------------------------------------------------------------------
    def active(self) -> list[Alarm]:
        """Active or latched alarms, most severe then newest first."""
        return by_severity_then_newest(self._open.values())

    async def get(self, alarm_id: str) -> Alarm:
        """One alarm by id.

        Raises:
            NotFound: Unknown alarm.
        """
        alarm = self._cached(alarm_id) or await self._rows.get(alarm_id)
        if alarm is None:
            raise NotFound("alarm_not_found", f"no alarm with id {alarm_id!r}")
        return alarm

    async def history(self, alarm_id: str) -> tuple[AlarmEvent, ...]:
        """The alarm's history, oldest first.

        Raises:
            NotFound: Unknown alarm.
        """
        await self.get(alarm_id)
        return await self._rows.history(alarm_id)

    async def list(
        self, status: AlarmQuery = AlarmQuery.ACTIVE, limit: int = 100
    ) -> list[Alarm]:
        """Up to ``limit`` alarms.

        ``active`` is sorted most severe then newest first; the others
        newest first, read from the store.
        """
        if limit < 1:
            raise ValueError("limit must be >= 1")
        if status is AlarmQuery.ACTIVE:
            return self.active()[:limit]
        return list(await self._rows.query(_QUERY_STATUSES[status], limit))

    # ---- internals -------------------------------------------------------------------
    def _cached(self, alarm_id: str | None) -> Alarm | None:
        if alarm_id is None:
            return None
        return self._open.get(alarm_id) or self._closed.get(alarm_id)

    async def _existing(self, type_: str, originator: Originator) -> Alarm | None:
        cached = self._cached(self._latest.get((type_, str(originator))))
        if cached is not None:
            return cached
        return await self._rows.latest(type_, originator)

    def _remember(self, alarm: Alarm) -> None:
        self._open.pop(alarm.id, None)
        self._closed.pop(alarm.id, None)
        if alarm.needs_attention:
            self._open[alarm.id] = alarm
        else:
            self._closed[alarm.id] = alarm
        latest = self._cached(self._latest.get(alarm.key))
        if latest is None or (latest.started_at, latest.id) <= (
            alarm.started_at,
            alarm.id,
        ):
            self._latest[alarm.key] = alarm.id
        while len(self._closed) > self.max_closed_in_memory:
            old_id, old = self._closed.popitem(last=False)
            if self._latest.get(old.key) == old_id:
                del self._latest[old.key]

    async def _commit(
        self, change: AlarmChange, actor: str, cause: str | None
    ) -> Alarm:
        alarm = change.alarm
        action = _AUDITED.get(change.outcome)
        audit = None
        if action is not None:
            audit = AuditEntry(
                actor=actor,
                action=action,
                target=f"alarm:{alarm.id}",
                cause=cause or f"{alarm.type}@{alarm.originator}",
                detail={
                    "type": alarm.type,
                    "originator": str(alarm.originator),
                    "severity": alarm.severity.value,
                    "status": alarm.status.value,
                    "latched": alarm.latched,
                },
                at=alarm.updated_at,
            )
        await self._rows.save(alarm, change.events, audit)
        self._remember(alarm)
        data = alarm_json(alarm)
        for topic in _TOPICS[change.outcome]:
            self.bus.publish(topic, data)
        if change.outcome is not Outcome.UPDATED:
            log.info(
                "alarm[%s] %s %s@%s by %s",
                alarm.id,
                change.outcome.value,
                alarm.type,
                alarm.originator,
                actor,
            )
        return alarm

"""Alarms as a service: lifecycle, persistence, audit log and events (A5-A7, O2).

Transitions are the pure functions of :mod:`wall.alarms.core`; this module
serialises them under one lock, saves each change through the
:class:`~wall.alarms.repository.AlarmRepository` (alarm row, history and, for
every acknowledgement, clear and forced ack, the audit line: one transaction)
before it becomes visible, and publishes the alarm's wire form on the event
bus (the topics of :mod:`wall.alarms.topics`). A forced ack publishes
``alarm.cleared`` and then ``alarm.acknowledged``.

Memory is bounded (:class:`~wall.alarms.cache.AlarmCache`): every active or
latched alarm, plus at most ``max_closed_in_memory`` closed ones.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from layouts.schema import Domain
from wall.alarms.audit import audit_entry
from wall.alarms.cache import AlarmCache
from wall.alarms.core import (
    SYSTEM_ACTOR,
    Alarm,
    AlarmChange,
    AlarmEvent,
    AlarmKey,
    AlarmQuery,
    AlarmStateError,
    Originator,
    Outcome,
    Severity,
    acknowledge,
    by_severity_then_newest,
    clear_alarm,
    raise_alarm,
    update_alarm,
)
from wall.alarms.repository import AlarmRepository
from wall.alarms.topics import TOPICS_OF
from wall.alarms.wire import AlarmOut
from wall.platform.clock import utc_now
from wall.platform.errors import Conflict, Forbidden, Invalid, NotFound
from wall.platform.event_bus import EventBus
from wall.platform.wire import JsonValue

__all__ = [
    "DEFAULT_MAX_CLOSED_IN_MEMORY",
    "DEFAULT_REACTIVATION_THRESHOLD_S",
    "AlarmForbidden",
    "AlarmQuery",
    "AlarmService",
]

log = logging.getLogger(__name__)

DEFAULT_REACTIVATION_THRESHOLD_S = 60.0
"""Proposed default: a re-raise within a minute of the clear reactivates (A6)."""
DEFAULT_MAX_CLOSED_IN_MEMORY = 10_000
"""Closed alarms kept in memory; older ones are read from the repository."""


class AlarmForbidden(Forbidden):
    """The caller may not do this to an alarm (a forced ack without admin)."""


def _new_id() -> str:
    return uuid.uuid4().hex


def _key(type_: str, originator: Originator | str) -> AlarmKey:
    """The key of a raise, update or clear; malformed input is refused."""
    try:
        return AlarmKey(type_, Originator.of(originator))
    except ValueError as err:
        raise Invalid("alarm_key_invalid", str(err)) from err


def _severity(value: Severity | str) -> Severity:
    """A severity from its name (callers such as detection pass rule names)."""
    try:
        return Severity(value)
    except ValueError as err:
        names = ", ".join(s.value for s in Severity)
        raise Invalid(
            "alarm_severity_invalid", f"unknown severity {value!r} (one of {names})"
        ) from err


class AlarmService:
    """Owns the alarms: one active per (type, originator), with history.

    Args:
        repository: Where alarms, history and their audit lines persist.
        bus: Where alarm events are published.
        reactivation_threshold_s: Default for :meth:`raise_` (A6).
        max_closed_in_memory: Closed alarms kept in memory.
        now: UTC clock.
        new_id: Id factory for new alarms.

    Raises:
        ValueError: A negative threshold or bound.
    """

    def __init__(
        self,
        repository: AlarmRepository,
        bus: EventBus,
        *,
        reactivation_threshold_s: float = DEFAULT_REACTIVATION_THRESHOLD_S,
        max_closed_in_memory: int = DEFAULT_MAX_CLOSED_IN_MEMORY,
        now: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = _new_id,
    ) -> None:
        if reactivation_threshold_s < 0 or max_closed_in_memory < 0:
            raise ValueError("thresholds and bounds must be >= 0")
        self.repository = repository
        self.bus = bus
        self.reactivation_threshold_s = reactivation_threshold_s
        self._cache = AlarmCache(max_closed_in_memory)
        self._now = now
        self._new_id = new_id
        self._lock = asyncio.Lock()

    # ---- lifecycle -------------------------------------------------------------
    async def __aenter__(self) -> AlarmService:
        for alarm in await self.repository.open_alarms():
            self._cache.remember(alarm)
        closed = await self.repository.recent_closed(self._cache.max_closed)
        for alarm in closed:
            self._cache.remember(alarm)
        log.info(
            "alarms: %d open, %d recent closed loaded",
            len(self._cache.open),
            self._cache.closed_count,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Nothing to stop (no tasks); every change is already saved. Idempotent."""

    # ---- transitions -------------------------------------------------------------
    async def raise_(
        self,
        type: str,
        originator: Originator | str,
        severity: Severity | str,
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
            Invalid: A malformed type or originator (``alarm_key_invalid``), or
                an unknown severity name (``alarm_severity_invalid``).
            ValueError: A negative threshold.
        """
        level = _severity(severity)
        threshold = (
            self.reactivation_threshold_s
            if reactivation_threshold_s is None
            else reactivation_threshold_s
        )
        key = _key(type, originator)
        async with self._lock:
            change = raise_alarm(
                await self._existing(key),
                key.type,
                key.originator,
                level,
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

        Raises:
            Invalid: A malformed type or originator (``alarm_key_invalid``).
        """

        def change(alarm: Alarm, now: datetime) -> AlarmChange:
            return update_alarm(
                alarm, now, severity=severity, details=details, actor=actor
            )

        return await self._change_active(_key(type, originator), change, actor, None)

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

        Raises:
            Invalid: A malformed type or originator (``alarm_key_invalid``).
        """

        def change(alarm: Alarm, now: datetime) -> AlarmChange:
            return clear_alarm(alarm, now, actor=actor, note=cause)

        return await self._change_active(_key(type, originator), change, actor, cause)

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
        return by_severity_then_newest(self._cache.open)

    async def get(self, alarm_id: str) -> Alarm:
        """One alarm by id.

        Raises:
            NotFound: Unknown alarm.
        """
        alarm = self._cache.get(alarm_id) or await self.repository.get(alarm_id)
        if alarm is None:
            raise NotFound("alarm_not_found", f"no alarm with id {alarm_id!r}")
        return alarm

    async def history(self, alarm_id: str) -> tuple[AlarmEvent, ...]:
        """The alarm's history, oldest first.

        Raises:
            NotFound: Unknown alarm.
        """
        await self.get(alarm_id)
        return await self.repository.history(alarm_id)

    async def list(
        self, status: AlarmQuery = AlarmQuery.ACTIVE, limit: int = 100
    ) -> list[Alarm]:
        """Up to ``limit`` alarms.

        ``active`` is sorted most severe then newest first; the others
        newest first, read from the repository.

        Raises:
            Invalid: ``limit`` below 1.
        """
        if limit < 1:
            raise Invalid("limit_out_of_range", "limit must be >= 1")
        if status is AlarmQuery.ACTIVE:
            return self.active()[:limit]
        return list(await self.repository.query(status.statuses, limit))

    # ---- internals -------------------------------------------------------------------
    async def _change_active(
        self,
        key: AlarmKey,
        change: Callable[[Alarm, datetime], AlarmChange],
        actor: str,
        cause: str | None,
    ) -> Alarm | None:
        # update and clear: change the key's active alarm, if there is one
        async with self._lock:
            existing = await self._existing(key)
            if existing is None or not existing.active:
                return None
            return await self._commit(change(existing, self._now()), actor, cause)

    async def _existing(self, key: AlarmKey) -> Alarm | None:
        return self._cache.latest(key) or await self.repository.latest(key)

    async def _commit(
        self, change: AlarmChange, actor: str, cause: str | None
    ) -> Alarm:
        """Save, then remember, then publish: nothing shows before it is stored."""
        alarm = change.alarm
        await self.repository.save(
            alarm, change.events, audit_entry(change, actor, cause)
        )
        self._cache.remember(alarm)
        payload = AlarmOut.of(alarm)
        for topic in TOPICS_OF[change.outcome]:
            self.bus.emit(topic, payload)
        if change.outcome is not Outcome.UPDATED:
            log.info(
                "alarm[%s] %s %s by %s",
                alarm.id,
                change.outcome.value,
                alarm.key,
                actor,
            )
        return alarm

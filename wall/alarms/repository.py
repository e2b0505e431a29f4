"""Where alarms persist: the repository protocol the alarm service depends on.

SQLite implements it now (:class:`wall.alarms.store.SqliteAlarmStore`);
PostgreSQL will be one more implementation, not an edit of the service.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from wall.alarms.core import Alarm, AlarmEvent, AlarmKey, AlarmStatus
from wall.platform.audit import AuditEntry


class AlarmRepository(Protocol):
    """Alarms, their history and their audit lines, saved together."""

    async def save(
        self,
        alarm: Alarm,
        events: Sequence[AlarmEvent] = (),
        audit: AuditEntry | None = None,
    ) -> None:
        """Insert or replace ``alarm``, append ``events`` and ``audit``, atomically.

        All three are one transaction: a crash never leaves history or audit
        without its alarm, or the reverse (O2).
        """
        ...

    async def get(self, alarm_id: str) -> Alarm | None:
        """The alarm with this id, or ``None``."""
        ...

    async def latest(self, key: AlarmKey) -> Alarm | None:
        """The most recently started alarm of ``key``, or ``None``."""
        ...

    async def history(self, alarm_id: str) -> tuple[AlarmEvent, ...]:
        """Every history entry of an alarm, oldest first."""
        ...

    async def open_alarms(self) -> tuple[Alarm, ...]:
        """Every alarm that is active or latched, oldest first."""
        ...

    async def recent_closed(self, limit: int) -> tuple[Alarm, ...]:
        """Up to ``limit`` neither active nor latched alarms, newest last."""
        ...

    async def query(
        self, statuses: Collection[AlarmStatus] | None, limit: int
    ) -> tuple[Alarm, ...]:
        """Up to ``limit`` alarms in ``statuses`` (all if ``None``), newest first."""
        ...

"""Alarm persistence in SQLite: the ``alarms`` and ``alarm_events`` tables.

Implements :class:`~wall.alarms.repository.AlarmRepository` on the platform's
:class:`~wall.platform.store.sqlite.engine.SqliteEngine` (its worker thread
runs every query, HS8). Saving an alarm, its history entries and its audit
line is one transaction, so a crash never leaves history or audit without its
alarm or the reverse. A partial unique index keeps one active alarm per (type,
originator) even if the service misbehaves. Timestamps are the engine's fixed
width UTC text, so text order is time order.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from types import MappingProxyType

from layouts.schema import Domain
from wall.alarms.core import (
    Alarm,
    AlarmEvent,
    AlarmKey,
    AlarmStatus,
    EventKind,
    Originator,
    Severity,
)
from wall.platform.audit import AuditEntry
from wall.platform.store.sqlite.audit import audit_row, insert_audit
from wall.platform.store.sqlite.engine import (
    SqliteEngine,
    json_text,
    text_time,
    time_text,
)

_NAMES = (
    "id",
    "type",
    "originator",
    "severity",
    "status",
    "started_at",
    "updated_at",
    "cleared_at",
    "acked_at",
    "acked_by",
    "count",
    "latched",
    "domain",
    "details",
)
_COLUMNS = ", ".join(_NAMES)
_SELECT = f"SELECT {_COLUMNS} FROM alarms"  # noqa: S608 - constant text
_UPSERT = (
    f"INSERT INTO alarms ({_COLUMNS}) VALUES ({', '.join('?' * len(_NAMES))})"  # noqa: S608 - constant text
    " ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _NAMES[1:])
)
_INSERT_EVENT = (
    "INSERT INTO alarm_events (alarm_id, at, actor, kind, from_value, to_value, note)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_OPEN = "(status IN ('active_unack', 'active_ack') OR latched = 1)"


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else time_text(moment)


def _required(text: str) -> datetime:
    moment = text_time(text)
    assert moment is not None  # noqa: S101 - a NOT NULL column
    return moment


def _row_values(alarm: Alarm) -> tuple[object, ...]:
    return (
        alarm.id,
        alarm.type,
        str(alarm.originator),
        alarm.severity.value,
        alarm.status.value,
        time_text(alarm.started_at),
        time_text(alarm.updated_at),
        _text(alarm.cleared_at),
        _text(alarm.acked_at),
        alarm.acked_by,
        alarm.count,
        int(alarm.latched),
        None if alarm.domain is None else alarm.domain.value,
        json_text(dict(alarm.details)),
    )


def _event_values(event: AlarmEvent) -> tuple[object, ...]:
    return (
        event.alarm_id,
        time_text(event.at),
        event.actor,
        event.kind.value,
        event.from_value,
        event.to_value,
        event.note,
    )


def _alarm(row: sqlite3.Row) -> Alarm:
    return Alarm(
        id=row["id"],
        type=row["type"],
        originator=Originator.parse(row["originator"]),
        severity=Severity(row["severity"]),
        status=AlarmStatus(row["status"]),
        started_at=_required(row["started_at"]),
        updated_at=_required(row["updated_at"]),
        cleared_at=text_time(row["cleared_at"]),
        acked_at=text_time(row["acked_at"]),
        acked_by=row["acked_by"],
        count=row["count"],
        details=MappingProxyType(json.loads(row["details"])),
        latched=bool(row["latched"]),
        domain=None if row["domain"] is None else Domain(row["domain"]),
    )


def _event(row: sqlite3.Row) -> AlarmEvent:
    return AlarmEvent(
        alarm_id=row["alarm_id"],
        at=_required(row["at"]),
        actor=row["actor"],
        kind=EventKind(row["kind"]),
        from_value=row["from_value"],
        to_value=row["to_value"],
        note=row["note"],
    )


class SqliteAlarmStore:
    """:class:`~wall.alarms.repository.AlarmRepository` in the service's database.

    Args:
        engine: An open engine (the runtime's ``SqliteStore``); its worker
            thread runs every query.
    """

    def __init__(self, engine: SqliteEngine) -> None:
        self._engine = engine

    async def save(
        self,
        alarm: Alarm,
        events: Sequence[AlarmEvent] = (),
        audit: AuditEntry | None = None,
    ) -> None:
        """Insert or replace ``alarm``, append ``events`` and ``audit``, atomically.

        The audit line goes into the store's append-only ``audit_log`` in the
        same transaction, so an acknowledged alarm is never missing from the
        audit log (O2).

        Raises:
            StoreError: If the database refuses it (e.g. a second active
                alarm for one key) or is closed.
            ValueError: If ``details`` is not strict JSON.
        """
        values = _row_values(alarm)
        history = [_event_values(e) for e in events]
        audit_values = None
        if audit is not None:
            audit_values = audit_row(audit, time_text(alarm.updated_at))

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(_UPSERT, values)
            conn.executemany(_INSERT_EVENT, history)
            if audit_values is not None:
                insert_audit(conn, audit_values)

        await self._engine.transaction(work)

    async def get(self, alarm_id: str) -> Alarm | None:
        """The alarm with this id, or ``None``."""
        return await self._one(_SELECT + " WHERE id = ?", (alarm_id,))

    async def latest(self, key: AlarmKey) -> Alarm | None:
        """The most recently started alarm of ``key``, or ``None``."""
        return await self._one(
            _SELECT + " WHERE type = ? AND originator = ?"
            " ORDER BY started_at DESC, id DESC LIMIT 1",
            (key.type, str(key.originator)),
        )

    async def history(self, alarm_id: str) -> tuple[AlarmEvent, ...]:
        """Every history entry of an alarm, oldest first."""

        def work(conn: sqlite3.Connection) -> tuple[AlarmEvent, ...]:
            rows = conn.execute(
                "SELECT alarm_id, at, actor, kind, from_value, to_value, note"
                " FROM alarm_events WHERE alarm_id = ? ORDER BY id",
                (alarm_id,),
            )
            return tuple(_event(row) for row in rows)

        return await self._engine.run(work)

    async def open_alarms(self) -> tuple[Alarm, ...]:
        """Every alarm that is active or latched (what the service keeps)."""
        return await self._many(_SELECT + f" WHERE {_OPEN} ORDER BY started_at", ())

    async def recent_closed(self, limit: int) -> tuple[Alarm, ...]:
        """Up to ``limit`` neither active nor latched alarms, newest last."""
        newest_first = await self._many(
            _SELECT + f" WHERE NOT {_OPEN} ORDER BY updated_at DESC LIMIT ?", (limit,)
        )
        return newest_first[::-1]

    async def query(
        self, statuses: Collection[AlarmStatus] | None, limit: int
    ) -> tuple[Alarm, ...]:
        """Up to ``limit`` alarms in ``statuses`` (all if ``None``), newest first."""
        if statuses is not None and not statuses:
            return ()
        params: list[object] = []
        sql = _SELECT
        if statuses is not None:
            sql += f" WHERE status IN ({', '.join('?' * len(statuses))})"
            params.extend(s.value for s in statuses)
        params.append(limit)
        return await self._many(
            sql + " ORDER BY started_at DESC, id DESC LIMIT ?", params
        )

    async def _one(self, sql: str, params: Sequence[object]) -> Alarm | None:
        def work(conn: sqlite3.Connection) -> Alarm | None:
            row = conn.execute(sql, params).fetchone()
            return None if row is None else _alarm(row)

        return await self._engine.run(work)

    async def _many(self, sql: str, params: Sequence[object]) -> tuple[Alarm, ...]:
        def work(conn: sqlite3.Connection) -> tuple[Alarm, ...]:
            return tuple(_alarm(row) for row in conn.execute(sql, params))

        return await self._engine.run(work)

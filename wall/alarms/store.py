"""Alarm persistence: the ``alarms`` and ``alarm_events`` tables of the SQLite store.

Runs on the :class:`~wall.platform.store.sqlite.SqliteStore` worker thread
(HS8). Saving an alarm, its history entries and its audit line is one
transaction, so a crash never leaves history or audit without its alarm or
the reverse. A partial unique index keeps one active alarm per (type,
originator) even if the service misbehaves.
Timestamps are UTC ISO-8601 text of fixed width, so text order is time order.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from types import MappingProxyType

from layouts.schema import Domain
from wall.alarms.core import (
    Alarm,
    AlarmEvent,
    AlarmStatus,
    EventKind,
    Originator,
    Severity,
)
from wall.platform.records import AuditEntry
from wall.platform.store.sqlite import SqliteStore

_COLUMNS = (
    "id, type, originator, severity, status, started_at, updated_at, cleared_at,"
    " acked_at, acked_by, count, latched, domain, details"
)
_SELECT = f"SELECT {_COLUMNS} FROM alarms"  # noqa: S608 - constant text
_OPEN = "(status IN ('active_unack', 'active_ack') OR latched = 1)"


def _text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _row_values(alarm: Alarm) -> tuple[object, ...]:
    details = _json(dict(alarm.details))
    return (
        alarm.id,
        alarm.type,
        str(alarm.originator),
        alarm.severity.value,
        alarm.status.value,
        _text(alarm.started_at),
        _text(alarm.updated_at),
        _text(alarm.cleared_at),
        _text(alarm.acked_at),
        alarm.acked_by,
        alarm.count,
        int(alarm.latched),
        None if alarm.domain is None else alarm.domain.value,
        details,
    )


def _required(text: str) -> datetime:
    return datetime.fromisoformat(text)  # a NOT NULL column


def _alarm(row: sqlite3.Row) -> Alarm:
    return Alarm(
        id=row["id"],
        type=row["type"],
        originator=Originator.parse(row["originator"]),
        severity=Severity(row["severity"]),
        status=AlarmStatus(row["status"]),
        started_at=_required(row["started_at"]),
        updated_at=_required(row["updated_at"]),
        cleared_at=_time(row["cleared_at"]),
        acked_at=_time(row["acked_at"]),
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


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=True)


def _audit_row(entry: AuditEntry, default_at: datetime) -> tuple[object, ...]:
    at = _text(entry.at or default_at)
    detail = _json(dict(entry.detail))
    return (at, entry.actor, entry.action, entry.target, entry.cause, detail)


def _values(event: AlarmEvent) -> tuple[str | None, str | None, str | None]:
    return (event.from_value, event.to_value, event.note)


class AlarmStore:
    """Alarms and their history in the service's SQLite database.

    Args:
        store: An open store; its worker thread runs every query.
    """

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

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
        history = [
            (e.alarm_id, _text(e.at), e.actor, e.kind.value, *_values(e))
            for e in events
        ]
        audit_row = None if audit is None else _audit_row(audit, alarm.updated_at)
        placeholders = ", ".join("?" * len(values))
        updates = ", ".join(
            f"{c.strip()} = excluded.{c.strip()}" for c in _COLUMNS.split(",")[1:]
        )

        def work(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    f"INSERT INTO alarms ({_COLUMNS}) VALUES ({placeholders})"  # noqa: S608
                    f" ON CONFLICT (id) DO UPDATE SET {updates}",
                    values,
                )
                conn.executemany(
                    "INSERT INTO alarm_events"
                    " (alarm_id, at, actor, kind, from_value, to_value, note)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    history,
                )
                if audit_row is not None:
                    conn.execute(
                        "INSERT INTO audit_log"
                        " (at, actor, action, target, cause, detail)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        audit_row,
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        await self._store._call(work)

    async def get(self, alarm_id: str) -> Alarm | None:
        """The alarm with this id, or ``None``."""

        def work(conn: sqlite3.Connection) -> Alarm | None:
            row = conn.execute(_SELECT + " WHERE id = ?", (alarm_id,)).fetchone()
            return None if row is None else _alarm(row)

        return await self._store._call(work)

    async def latest(self, type_: str, originator: Originator) -> Alarm | None:
        """The most recently started alarm of (type, originator), or ``None``."""

        def work(conn: sqlite3.Connection) -> Alarm | None:
            row = conn.execute(
                _SELECT + " WHERE type = ? AND originator = ?"
                " ORDER BY started_at DESC, id DESC LIMIT 1",
                (type_, str(originator)),
            ).fetchone()
            return None if row is None else _alarm(row)

        return await self._store._call(work)

    async def history(self, alarm_id: str) -> tuple[AlarmEvent, ...]:
        """Every history entry of an alarm, oldest first."""

        def work(conn: sqlite3.Connection) -> tuple[AlarmEvent, ...]:
            rows = conn.execute(
                "SELECT alarm_id, at, actor, kind, from_value, to_value, note"
                " FROM alarm_events WHERE alarm_id = ? ORDER BY id",
                (alarm_id,),
            )
            return tuple(_event(row) for row in rows)

        return await self._store._call(work)

    async def open_alarms(self) -> tuple[Alarm, ...]:
        """Every alarm that is active or latched (what the service keeps)."""

        def work(conn: sqlite3.Connection) -> tuple[Alarm, ...]:
            rows = conn.execute(_SELECT + f" WHERE {_OPEN} ORDER BY started_at")
            return tuple(_alarm(row) for row in rows)

        return await self._store._call(work)

    async def recent_closed(self, limit: int) -> tuple[Alarm, ...]:
        """Up to ``limit`` neither active nor latched alarms, newest last."""

        def work(conn: sqlite3.Connection) -> tuple[Alarm, ...]:
            rows = conn.execute(
                _SELECT + f" WHERE NOT {_OPEN} ORDER BY updated_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
            return tuple(_alarm(row) for row in reversed(rows))

        return await self._store._call(work)

    async def query(
        self, statuses: Collection[AlarmStatus] | None, limit: int
    ) -> tuple[Alarm, ...]:
        """Up to ``limit`` alarms in ``statuses`` (all if ``None``), newest first."""
        params: list[object] = []
        sql = _SELECT
        if statuses is not None and not statuses:
            return ()
        if statuses is not None:
            sql += f" WHERE status IN ({', '.join('?' * len(statuses))})"
            params.extend(s.value for s in statuses)
        sql += " ORDER BY started_at DESC, id DESC LIMIT ?"
        params.append(limit)

        def work(conn: sqlite3.Connection) -> tuple[Alarm, ...]:
            return tuple(_alarm(row) for row in conn.execute(sql, params))

        return await self._store._call(work)

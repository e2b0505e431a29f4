"""The append-only audit log (O2) in the ``audit_log`` table.

:func:`insert_audit` lets another repository write its audit line inside its
own transaction, so a change and its audit entry commit together.
"""

from __future__ import annotations

import json
import sqlite3

from wall.platform.audit import AuditEntry
from wall.platform.store.sqlite.engine import (
    SqliteEngine,
    json_text,
    text_time,
    time_text,
)

_INSERT = (
    "INSERT INTO audit_log (at, actor, action, target, cause, detail)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _audit_from_row(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=text_time(row["at"]),
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        cause=row["cause"],
        detail=json.loads(row["detail"]),
    )


def audit_row(entry: AuditEntry, default_at: str) -> tuple[object, ...]:
    """The column values of an entry, checked before any database work.

    Args:
        entry: The entry; its ``id`` is ignored.
        default_at: Stored time text used when ``entry.at`` is ``None``.

    Raises:
        ValueError: If ``at`` is naive or ``detail`` is not JSON-serialisable.
    """
    at = default_at if entry.at is None else time_text(entry.at)
    try:
        detail = json_text(dict(entry.detail))
    except TypeError as err:
        raise ValueError(f"audit detail is not JSON-serialisable: {err}") from err
    return (at, entry.actor, entry.action, entry.target, entry.cause, detail)


def insert_audit(conn: sqlite3.Connection, row: tuple[object, ...]) -> int:
    """Append one :func:`audit_row` on ``conn`` (inside the caller's transaction).

    Returns:
        The new entry's id (strictly increasing).
    """
    cursor = conn.execute(_INSERT, row)
    assert cursor.lastrowid is not None  # noqa: S101 - set by INSERT
    return cursor.lastrowid


class SqliteAuditLog:
    """:class:`~wall.platform.audit.AuditLog` on the SQLite engine.

    Args:
        engine: An open engine; its clock stamps entries without ``at``.
    """

    def __init__(self, engine: SqliteEngine) -> None:
        self._engine = engine

    async def append_audit(self, entry: AuditEntry) -> int:
        """Append an entry to the append-only audit log.

        Args:
            entry: The entry; ``entry.at`` defaults to the store's clock and
                ``entry.id`` is ignored.

        Returns:
            The new entry's id (strictly increasing).

        Raises:
            ValueError: If ``at`` is naive or ``detail`` is not JSON-serialisable.
        """
        row = audit_row(entry, self._engine.now_text())
        return await self._engine.run(lambda conn: insert_audit(conn, row))

    async def list_audit(
        self, limit: int = 100, before_id: int | None = None
    ) -> tuple[AuditEntry, ...]:
        """Page through the audit log, newest first.

        Args:
            limit: At most this many entries, 1 to 1000.
            before_id: Only entries with a smaller id (the last id of the
                previous page).

        Raises:
            ValueError: If ``limit`` is out of range.
        """
        if not 1 <= limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        sql = "SELECT id, at, actor, action, target, cause, detail FROM audit_log"
        params: tuple[int, ...] = (limit,)
        if before_id is not None:
            sql += " WHERE id < ?"
            params = (before_id, limit)
        sql += " ORDER BY id DESC LIMIT ?"

        def work(conn: sqlite3.Connection) -> tuple[AuditEntry, ...]:
            return tuple(_audit_from_row(row) for row in conn.execute(sql, params))

        return await self._engine.run(work)

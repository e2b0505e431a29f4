"""The append-only audit log (O2) in the ``audit_log`` table, hash-chained.

:func:`insert_audit` lets another repository write its audit line inside its
own transaction, so a change and its audit entry commit together. Each line
extends the hash chain (:mod:`wall.platform.store.audit_chain`); triggers
refuse an update, delete, replace or an insert that does not extend it.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from wall.platform.audit import AuditEntry
from wall.platform.store.audit_chain import (
    GENESIS,
    ChainRow,
    ChainVerdict,
    entry_hash,
    verify_chain,
)
from wall.platform.store.migrations import StoreError, current_version
from wall.platform.store.sqlite.connection import connect_reader
from wall.platform.store.sqlite.engine import (
    SqliteEngine,
    json_text,
    text_time,
    time_text,
)

_INSERT = (
    "INSERT INTO audit_log"
    " (id, at, actor, action, target, cause, detail, prev_hash, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The last entry (by rowid: no scan) and the highest id AUTOINCREMENT issued.
_HEAD = "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"
_ISSUED = "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'"
_CHAIN = (
    "SELECT id, at, actor, action, target, cause, detail, prev_hash, hash"
    " FROM audit_log ORDER BY id"
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


AuditRow = tuple[str, str, str, str | None, str | None, str]
"""Stored texts of an entry: at, actor, action, target, cause, detail."""


def audit_row(entry: AuditEntry, default_at: str) -> AuditRow:
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


def insert_audit(conn: sqlite3.Connection, row: AuditRow) -> int:
    """Append one :func:`audit_row` on ``conn`` (inside the caller's transaction).

    The id and hash are computed here, so the caller must hold the write
    lock (a :meth:`~SqliteEngine.transaction`) for the chain to stay whole.

    Returns:
        The new entry's id (strictly increasing).
    """
    head = conn.execute(_HEAD).fetchone()
    issued = conn.execute(_ISSUED).fetchone()
    last_id = max(0 if head is None else head[0], 0 if issued is None else issued[0])
    entry_id, prev = int(last_id) + 1, GENESIS if head is None else str(head[1])
    digest = entry_hash(ChainRow(entry_id, *row), prev)
    conn.execute(_INSERT, (entry_id, *row, prev, digest))
    return entry_id


def check_chain(conn: sqlite3.Connection) -> ChainVerdict:
    """Walk the whole audit chain on ``conn`` (rows stream; memory stays flat)."""
    seq = conn.execute(_ISSUED).fetchone()
    rows = (ChainRow(*r) for r in conn.execute(_CHAIN))
    return verify_chain(rows, 0 if seq is None else int(seq[0]))


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
        return await self._engine.transaction(lambda conn: insert_audit(conn, row))

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

        return await self._engine.read(work)

    async def verify_chain(self) -> ChainVerdict:
        """Check every entry's hash and link (``citywall audit verify``)."""
        return await self._engine.read(check_chain)


CHAIN_VERSION = 3
"""The schema version that introduced the hash chain."""


def verify_database(path: Path) -> ChainVerdict:
    """Check the audit chain of a database file, read-only (no migration).

    Blocking: for the command line. The service may be running.

    Raises:
        StoreError: The file is missing, unreadable or older than the chain.
    """
    if not path.is_file():
        raise StoreError(f"no database at {path}")
    try:
        with closing(connect_reader(str(path), busy_timeout_s=5.0)) as conn:
            version = current_version(conn)
            if version < CHAIN_VERSION:
                raise StoreError(
                    f"database schema version {version} has no audit hash chain;"
                    " start the service once to migrate it"
                )
            return check_chain(conn)
    except sqlite3.Error as err:
        raise StoreError(f"cannot read database {path}: {err}") from err

"""Schema migrations of the SQLite store: ordered, transactional, checked.

Each step runs inside ``BEGIN IMMEDIATE`` so that two processes opening one
file never both apply it; a database newer than the code is refused.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import NamedTuple

from wall.platform.errors import Conflict, Unavailable
from wall.platform.store.audit_chain import GENESIS, ChainRow, entry_hash

logger = logging.getLogger(__name__)


class StoreError(Unavailable):
    """The store cannot do what was asked (closed, busy, schema too new, I/O).

    A domain error (:class:`~wall.platform.errors.Unavailable`): callers get
    "retry later", never a bare 500. The message names no secret.

    Args:
        message: For people.
        code: Machine-readable reason.
    """

    def __init__(self, message: str, code: str = "store_unavailable") -> None:
        super().__init__(code, message)


class StoreRefused(Conflict, StoreError):
    """The database refused a write (a constraint): retrying will not help (409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "store_refused")


class Migration(NamedTuple):
    """One schema step; ``sql`` may hold several statements.

    ``backfill``, if given, runs after ``sql`` in the same transaction, for
    what SQL alone cannot compute (hashes of existing rows).
    """

    version: int
    description: str
    sql: str
    backfill: Callable[[sqlite3.Connection], None] | None = None


_CHAIN_TRIGGERS = """
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only');
    END;
    -- A REPLACE deletes the old row without firing delete triggers unless
    -- recursive_triggers is on, which a raw connection need not set.
    CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
    WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
    BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only');
    END;
    -- hex(zeroblob(32)) is GENESIS, the prev_hash of the first entry
    CREATE TRIGGER audit_log_chained BEFORE INSERT ON audit_log
    WHEN NEW.hash IS NULL OR length(NEW.hash) != 64
        OR NEW.prev_hash IS NOT coalesce(
            (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), hex(zeroblob(32)))
    BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only: extend the hash chain');
    END;
    CREATE TRIGGER alarm_events_no_update BEFORE UPDATE ON alarm_events
    BEGIN
        SELECT RAISE(ABORT, 'alarm_events is append-only');
    END;
    CREATE TRIGGER alarm_events_no_delete BEFORE DELETE ON alarm_events
    BEGIN
        SELECT RAISE(ABORT, 'alarm_events is append-only');
    END;
    CREATE TRIGGER alarm_events_no_replace BEFORE INSERT ON alarm_events
    WHEN EXISTS (SELECT 1 FROM alarm_events WHERE id = NEW.id)
    BEGIN
        SELECT RAISE(ABORT, 'alarm_events is append-only');
    END;
"""


def _chain_audit_log(conn: sqlite3.Connection) -> None:
    """Hash the entries written before the chain existed, then lock the table."""
    prev = GENESIS
    rows = conn.execute(
        "SELECT id, at, actor, action, target, cause, detail FROM audit_log ORDER BY id"
    ).fetchall()
    for row in rows:
        digest = entry_hash(ChainRow(*row), prev)
        conn.execute(
            "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?",
            (prev, digest, row[0]),
        )
        prev = digest
    for statement in split_statements(_CHAIN_TRIGGERS):
        conn.execute(statement)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "api tokens, append-only audit log, key-value state",
        """
        CREATE TABLE api_tokens (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            name         TEXT NOT NULL CHECK (length(name) > 0),
            role         TEXT NOT NULL CHECK (length(role) > 0),
            wall_id      TEXT,
            token_hash   TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
            created_at   TEXT NOT NULL,
            last_used_at TEXT,
            revoked_at   TEXT
        );
        CREATE TABLE audit_log (
            id     INTEGER PRIMARY KEY AUTOINCREMENT,
            at     TEXT NOT NULL,
            actor  TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT,
            cause  TEXT,
            detail TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
        );
        CREATE INDEX audit_log_at ON audit_log (at);
        -- O2: the audit log is append-only; even a raw connection cannot
        -- rewrite history without dropping the triggers first.
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit_log is append-only');
        END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit_log is append-only');
        END;
        CREATE TABLE kv (
            key        TEXT PRIMARY KEY,
            value      TEXT NOT NULL CHECK (json_valid(value)),
            updated_at TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    Migration(
        2,
        "alarms and their history",
        """
        CREATE TABLE alarms (
            id         TEXT PRIMARY KEY,
            type       TEXT NOT NULL,
            originator TEXT NOT NULL,
            severity   TEXT NOT NULL,
            status     TEXT NOT NULL CHECK (status IN
                ('active_unack', 'active_ack', 'cleared_unack', 'cleared_ack')),
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            cleared_at TEXT,
            acked_at   TEXT,
            acked_by   TEXT,
            count      INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0),
            latched    INTEGER NOT NULL DEFAULT 0 CHECK (latched IN (0, 1)),
            domain     TEXT,
            details    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
        );
        -- one active alarm per (type, originator), whatever the code does
        CREATE UNIQUE INDEX alarms_one_active ON alarms (type, originator)
            WHERE status IN ('active_unack', 'active_ack');
        CREATE INDEX alarms_key ON alarms (type, originator, started_at);
        CREATE INDEX alarms_started ON alarms (started_at);
        CREATE INDEX alarms_updated ON alarms (updated_at);
        CREATE INDEX alarms_open ON alarms (status, latched);
        CREATE TABLE alarm_events (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            alarm_id   TEXT NOT NULL REFERENCES alarms (id),
            at         TEXT NOT NULL,
            actor      TEXT NOT NULL,
            kind       TEXT NOT NULL,
            from_value TEXT,
            to_value   TEXT,
            note       TEXT
        );
        CREATE INDEX alarm_events_alarm ON alarm_events (alarm_id, id);
        """,
    ),
    Migration(
        3,
        "audit hash chain; audit_log and alarm_events refuse REPLACE",
        """
        -- dropped while existing rows get their hashes; _chain_audit_log
        -- creates it again with the new append-only triggers
        DROP TRIGGER audit_log_no_update;
        ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
        ALTER TABLE audit_log ADD COLUMN hash TEXT;
        """,
        _chain_audit_log,
    ),
    Migration(
        4,
        "api token expiry",
        """
        -- NULL: the token never expires (wall displays may have none)
        ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
        """,
    ),
    Migration(
        5,
        "sensor observations and ingest dead letters",
        """
        CREATE TABLE observations (
            id          INTEGER PRIMARY KEY,
            station     TEXT NOT NULL CHECK (length(station) > 0),
            element     TEXT NOT NULL CHECK (length(element) > 0),
            -- fixed-width UTC text: bucket edges are compared as text
            observed_at TEXT NOT NULL CHECK (observed_at GLOB
                '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]'
                || ':[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]+00:00'),
            received_at TEXT NOT NULL,
            -- numbers in value, so SQL can aggregate them; strings and
            -- booleans as JSON in value_json; both NULL for no value
            value       REAL,
            value_json  TEXT CHECK (value_json IS NULL OR json_valid(value_json)),
            unit        TEXT,
            quality     TEXT NOT NULL CHECK (quality IN ('good', 'out_of_range',
                'spike', 'late', 'invalid_marker', 'estimated', 'stale')),
            source      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(source)),
            -- digest of (station, element, observed_at, value): M3
            dedup_key   BLOB NOT NULL UNIQUE CHECK (length(dedup_key) = 16),
            CHECK (value IS NULL OR value_json IS NULL)
        );
        -- covers latest-per-element, ranges and their buckets without
        -- touching the table
        CREATE INDEX observations_series
            ON observations (station, element, observed_at, value, quality);
        CREATE TABLE dead_letters (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            received_at TEXT NOT NULL,
            topic       TEXT NOT NULL CHECK (length(topic) <= 512),
            reason      TEXT NOT NULL CHECK (length(reason) > 0),
            message     TEXT NOT NULL CHECK (length(message) <= 500),
            raw         BLOB NOT NULL CHECK (length(raw) <= 4096),
            size        INTEGER NOT NULL CHECK (size >= length(raw))
        );
        CREATE INDEX dead_letters_received ON dead_letters (received_at);
        CREATE INDEX dead_letters_reason ON dead_letters (reason);
        """,
    ),
)
"""Ordered schema migrations; append new ones, never edit applied ones."""


def split_statements(script: str) -> list[str]:
    """Split an SQL script into single statements (trigger bodies stay whole).

    Args:
        script: Statements separated by ``;``.

    Returns:
        The statements, each ending in ``;`` (a missing final ``;`` is
        added); empty ones are dropped.

    Raises:
        ValueError: If the script ends in an incomplete statement, such as
            a trigger without ``END``.

    Examples:
        >>> split_statements("CREATE TABLE a(x); CREATE TABLE b(y);")
        ['CREATE TABLE a(x);', 'CREATE TABLE b(y);']
    """
    statements: list[str] = []
    buffer = ""
    pieces = script.split(";")
    for piece in pieces[:-1]:
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if statement.rstrip(";").strip():
                statements.append(statement)
            buffer = ""
    tail = (buffer + pieces[-1]).strip()
    if _strip_comments(tail):
        if not sqlite3.complete_statement(tail + ";"):
            raise ValueError("SQL script ends in an incomplete statement")
        statements.append(tail + ";")
    return statements


def _strip_comments(text: str) -> str:
    lines = (line.split("--", 1)[0] for line in text.splitlines())
    return "".join(lines).strip()


def check_migrations(migrations: Sequence[Migration]) -> None:
    """Raise ValueError unless versions are positive and strictly increasing."""
    previous = 0
    for migration in migrations:
        if migration.version <= previous:
            raise ValueError(
                "migration versions must be positive and strictly increasing"
            )
        previous = migration.version


def current_version(conn: sqlite3.Connection) -> int:
    """The highest applied migration version (0 for a new database)."""
    row = conn.execute(
        "SELECT coalesce(max(version), 0) FROM schema_migrations"
    ).fetchone()
    return int(row[0])


def migrate(
    conn: sqlite3.Connection, migrations: Sequence[Migration], now_text: str
) -> None:
    """Apply every migration newer than the database, each in one transaction.

    Raises:
        StoreError: the database is newer than ``migrations`` know.
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY,"
        " description TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )
    known = migrations[-1].version if migrations else 0
    current = current_version(conn)
    if current > known:
        raise StoreError(
            f"database schema version {current} is newer than this code supports "
            f"({known}); upgrade citywall or restore a matching backup"
        )
    for migration in migrations:
        if migration.version <= current:
            continue
        # BEGIN IMMEDIATE takes the write lock first, so two processes opening
        # the same file cannot both apply a step; the re-check sees the winner.
        conn.execute("BEGIN IMMEDIATE")
        try:
            if current_version(conn) < migration.version:
                for statement in split_statements(migration.sql):
                    conn.execute(statement)
                if migration.backfill is not None:
                    migration.backfill(conn)
                conn.execute(
                    "INSERT INTO schema_migrations (version, description, applied_at)"
                    " VALUES (?, ?, ?)",
                    (migration.version, migration.description, now_text),
                )
                logger.info(
                    "store: applied migration %d (%s)",
                    migration.version,
                    migration.description,
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

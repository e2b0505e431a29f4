"""Opening SQLite connections: the file's mode, pragmas, the writer and readers.

The database file is created owner-only (0600) before SQLite opens it, and an
existing one is narrowed to that: it holds token hashes and the audit log.
SQLite gives the ``-wal`` and ``-shm`` files the database file's mode.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import Sequence
from pathlib import Path

from wall.platform.store.migrations import Migration, migrate

logger = logging.getLogger(__name__)

FILE_MODE = 0o600
"""Permissions of the database file and its ``-wal`` / ``-shm`` companions."""

MEMORY = ":memory:"


def _owner_only(path: str) -> None:
    if path == MEMORY:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # O_CREAT with 0600 wins the race against SQLite creating it 0644.
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for name in (path, path + "-wal", path + "-shm"):
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(os.stat(name).st_mode) != FILE_MODE:
                os.chmod(name, FILE_MODE)


def _configure(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    # Without it a REPLACE deletes rows without firing delete triggers.
    conn.execute("PRAGMA recursive_triggers=ON")


def connect_writer(
    path: str, migrations: Sequence[Migration], now_text: str, busy_timeout_s: float
) -> sqlite3.Connection:
    """The one writing connection, in WAL mode, migrated.

    Args:
        path: Database file or ``":memory:"``.
        migrations: Schema steps to apply.
        now_text: Stored time text recorded for applied steps.
        busy_timeout_s: How long a write waits for another process's lock.
    """
    _owner_only(path)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves; timeout is the
    # busy timeout, so a CLI writing while the service runs waits, not fails.
    conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_s)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal" and path != MEMORY:
            logger.warning("store: journal_mode is %s, not wal", mode)
        _configure(conn)
        migrate(conn, migrations, now_text)
    except BaseException:
        conn.close()
        raise
    return conn


def connect_reader(path: str, busy_timeout_s: float) -> sqlite3.Connection:
    """A read-only connection: in WAL mode it never waits for the writer."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_s)
    try:
        _configure(conn)
        conn.execute("PRAGMA query_only=ON")
    except BaseException:
        conn.close()
        raise
    return conn

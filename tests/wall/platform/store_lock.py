"""An injected store fault: another connection holds the database's write lock.

What a backup tool or a second process does to the file; the service's
writes wait their busy timeout and fail, while WAL readers carry on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path


@contextmanager
def locked_by_backup(db_path: Path) -> Iterator[sqlite3.Connection]:
    """Hold ``BEGIN EXCLUSIVE`` on ``db_path`` for the block (then roll back)."""
    with closing(sqlite3.connect(db_path, isolation_level=None, timeout=0)) as conn:
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield conn
        finally:
            conn.execute("ROLLBACK")


def raw_rows(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of a query on a plain second connection."""
    with closing(sqlite3.connect(db_path)) as conn:
        return [tuple(row) for row in conn.execute(sql)]

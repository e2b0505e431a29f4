"""The SQLite engine: one connection on one worker thread, transactions, text forms.

SQLite runs in WAL mode with foreign keys on and ``synchronous=NORMAL``. Every
call goes through one dedicated worker thread, so the event loop never blocks
and sqlite's one-connection-per-thread rule holds (HS8). The schema is
versioned by ordered migrations recorded in ``schema_migrations``.

Repositories (tokens, audit, alarms…) build on :meth:`SqliteEngine.run` and
:meth:`SqliteEngine.transaction`. Timestamps are stored as UTC ISO-8601 text
of fixed width (O3), so text order is time order; they come either from the
caller or from the injected ``now`` clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Self, TypeVar

from wall.platform.clock import utc_now
from wall.platform.store.migrations import (
    MIGRATIONS,
    Migration,
    StoreError,
    check_migrations,
    current_version,
    migrate,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

Work = Callable[[sqlite3.Connection], T]
"""A function run on the worker thread with the connection."""


def time_text(moment: datetime) -> str:
    """The stored text of a timezone-aware moment: UTC, microseconds, ``+00:00``.

    Raises:
        ValueError: If ``moment`` is naive.

    Examples:
        >>> from datetime import timedelta, timezone
        >>> time_text(datetime(2025, 6, 1, 2, 30, tzinfo=timezone(timedelta(hours=2))))
        '2025-06-01T00:30:00.000000+00:00'
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    # Fixed width, always +00:00: text order equals time order.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def text_time(text: str | None) -> datetime | None:
    """Read a stored timestamp back; ``None`` passes through."""
    return None if text is None else datetime.fromisoformat(text)


def json_text(value: object) -> str:
    """Strict JSON text for a column (no NaN or infinity; keys sorted).

    Raises:
        TypeError: If ``value`` is not JSON-serialisable.
        ValueError: If it holds NaN or infinity.
    """
    # allow_nan=False keeps the text valid JSON (and PostgreSQL jsonb) later.
    return json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=True)


def _connect(
    path: str, migrations: Sequence[Migration], now_text: str
) -> sqlite3.Connection:
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves; timeout is the
    # busy timeout, so a CLI writing while the service runs waits, not fails.
    conn = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    try:
        conn.row_factory = sqlite3.Row
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal" and path != ":memory:":
            logger.warning("store: journal_mode is %s, not wal", mode)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn, migrations, now_text)
    except BaseException:
        conn.close()
        raise
    return conn


def _in_transaction(conn: sqlite3.Connection, work: Work[T]) -> T:
    # IMMEDIATE takes the write lock up front: two writers never deadlock
    # upgrading a read lock.
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


class SqliteEngine:
    """One SQLite file, all work on one worker thread.

    Use as ``async with engine: ...``; opening applies pending migrations.

    Args:
        path: Database file (its folder is created) or ``":memory:"``.
        now: Clock returning timezone-aware UTC datetimes.
        migrations: Schema steps; tests may pass their own.

    Raises:
        ValueError: If ``migrations`` are not strictly increasing.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        now: Callable[[], datetime] = utc_now,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        check_migrations(migrations)
        self._path = str(path)
        self._now = now
        self._migrations = tuple(migrations)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._state = "new"

    @property
    def path(self) -> str:
        """Database file path."""
        return self._path

    async def open(self) -> Self:
        """Connect on the worker thread and apply pending migrations.

        Returns:
            This store.

        Raises:
            StoreError: If already opened, the schema is newer than this code
                knows, or the file cannot be opened or migrated.
        """
        if self._state != "new":
            raise StoreError(f"store is {self._state}; open() may be called once")
        self._state = "opening"
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="sqlite-store"
        )
        loop = asyncio.get_running_loop()
        try:
            self._conn = await loop.run_in_executor(
                self._executor, _connect, self._path, self._migrations, self.now_text()
            )
        except (sqlite3.Error, OSError) as err:
            self._shutdown()
            raise StoreError(f"cannot open database {self._path}: {err}") from err
        except BaseException:
            self._shutdown()
            raise
        self._state = "open"
        return self

    async def close(self) -> None:
        """Close the connection and stop the worker thread; idempotent.

        Raises:
            StoreError: If called while :meth:`open` is still running.
        """
        if self._state in ("new", "closed"):
            self._state = "closed"
            return
        if self._state == "opening":
            raise StoreError("store is still opening; await open() first")
        self._state = "closed"
        conn, self._conn = self._conn, None
        try:
            if conn is not None and self._executor is not None:
                await asyncio.get_running_loop().run_in_executor(
                    self._executor, conn.close
                )
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            # Normally the queue is drained, so joining the idle thread is
            # instant; only a cancelled open() waits for _connect to finish.
            executor.shutdown(wait=True, cancel_futures=True)
        if self._state == "opening":
            self._state = "closed"

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def now_text(self) -> str:
        """The store clock's current time as stored text (:func:`time_text`)."""
        return time_text(self._now())

    async def run(self, work: Work[T]) -> T:
        """Run ``work(connection)`` on the worker thread; each statement commits.

        Raises:
            StoreError: If the store is not open or the database fails.
        """
        if self._state != "open" or self._conn is None or self._executor is None:
            raise StoreError(f"store is {self._state}")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, work, self._conn)
        except sqlite3.Error as err:
            raise StoreError(f"database error: {err}") from err

    async def transaction(self, work: Work[T]) -> T:
        """Run ``work(connection)`` in one ``BEGIN IMMEDIATE`` transaction.

        Everything ``work`` writes commits together, or nothing does if it
        raises (the error is re-raised; a :class:`sqlite3.Error` as
        :class:`StoreError`).
        """
        return await self.run(lambda conn: _in_transaction(conn, work))

    async def schema_version(self) -> int:
        """Return the highest applied migration version."""
        return await self.run(current_version)

    async def ping(self) -> None:
        """Round-trip a trivial query on the worker thread.

        Raises:
            StoreError: If the store is closed or the query fails.
        """
        await self.run(lambda conn: conn.execute("SELECT 1").fetchone())

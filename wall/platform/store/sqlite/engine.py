"""The SQLite engine: a writer and a reader thread, transactions, text forms.

SQLite runs in WAL mode with foreign keys and recursive triggers on and
``synchronous=NORMAL``. Writes go through one dedicated worker thread and
reads through another with a ``query_only`` connection, so the event loop
never blocks, a read never waits for a write, and sqlite's
one-connection-per-thread rule holds (HS8). The schema is versioned by
ordered migrations recorded in ``schema_migrations``. A database failure is a
:class:`StoreError`, a domain :class:`~wall.platform.errors.Unavailable`.

Repositories (tokens, audit, alarms…) build on :meth:`SqliteEngine.run`,
:meth:`SqliteEngine.transaction` and :meth:`SqliteEngine.read`. Timestamps
are stored as UTC ISO-8601 text of fixed width (O3), so text order is time
order; they come either from the caller or from the injected ``now`` clock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Self, TypeVar

from wall.platform.clock import utc_now
from wall.platform.health import ComponentHealth
from wall.platform.store.migrations import (
    MIGRATIONS,
    Migration,
    StoreError,
    StoreRefused,
    check_migrations,
    current_version,
)
from wall.platform.store.sqlite.connection import (
    MEMORY,
    connect_reader,
    connect_writer,
)
from wall.platform.store.sqlite.health import WriteWatch
from wall.platform.store.sqlite.worker import ConnectionThread

T = TypeVar("T")

Work = Callable[[sqlite3.Connection], T]
"""A function run on a worker thread with its connection."""

BUSY_TIMEOUT_S = 5.0
"""How long a statement waits for another process's lock by default."""


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


def _in_transaction(conn: sqlite3.Connection, work: Work[T]) -> T:
    # IMMEDIATE takes the write lock up front: two writers never deadlock
    # upgrading a read lock.
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # a failed COMMIT leaves it open
            conn.execute("ROLLBACK")
        raise
    return result


def _store_error(err: sqlite3.Error) -> StoreError:
    # Locked, busy, disk full, I/O: the caller may retry. A constraint is a
    # refusal, and its message says which one.
    if isinstance(err, sqlite3.OperationalError):
        return StoreError(
            f"the database is busy or unavailable ({err}); retry in a moment"
        )
    return StoreRefused(f"database error: {err}")


class SqliteEngine:
    """One SQLite file: writes on one worker thread, reads on another.

    Use as ``async with engine: ...``; opening applies pending migrations.
    :meth:`run` and :meth:`transaction` use the writing connection;
    :meth:`read` a ``query_only`` one that WAL lets read while a write waits
    or holds the lock. Writes are watched for :meth:`health`.

    Args:
        path: Database file (its folder is created) or ``":memory:"``.
        now: Clock returning timezone-aware UTC datetimes.
        migrations: Schema steps; tests may pass their own.
        busy_timeout_s: How long a statement waits for another process's
            lock before it fails as :class:`StoreError`.

    Raises:
        ValueError: If ``migrations`` are not strictly increasing.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        now: Callable[[], datetime] = utc_now,
        migrations: Sequence[Migration] = MIGRATIONS,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> None:
        check_migrations(migrations)
        self._path = str(path)
        self._now = now
        self._migrations = tuple(migrations)
        self._busy_timeout_s = busy_timeout_s
        self._writer = ConnectionThread("sqlite-store")
        self._reader = ConnectionThread("sqlite-reader")
        self._watch = WriteWatch()
        self._state = "new"

    @property
    def path(self) -> str:
        """Database file path."""
        return self._path

    async def open(self) -> Self:
        """Connect both threads and apply pending migrations.

        Returns:
            This store.

        Raises:
            StoreError: If already opened, the schema is newer than this code
                knows, or the file cannot be opened or migrated.
        """
        if self._state != "new":
            raise StoreError(f"store is {self._state}; open() may be called once")
        self._state = "opening"
        try:
            await self._writer.start(
                connect_writer,
                self._path,
                self._migrations,
                self.now_text(),
                self._busy_timeout_s,
            )
            if self._path != MEMORY:  # a second :memory: would be another database
                await self._reader.start(
                    connect_reader, self._path, self._busy_timeout_s
                )
        except (sqlite3.Error, OSError) as err:
            await self._stop()
            raise StoreError(f"cannot open database {self._path}: {err}") from err
        except BaseException:
            await self._stop()
            raise
        self._state = "open"
        return self

    async def close(self) -> None:
        """Close the connections and stop the threads; idempotent.

        Raises:
            StoreError: If called while :meth:`open` is still running.
        """
        if self._state in ("new", "closed"):
            self._state = "closed"
            return
        if self._state == "opening":
            raise StoreError("store is still opening; await open() first")
        self._state = "closed"
        await self._stop()

    async def _stop(self) -> None:
        try:
            await self._reader.stop()
        finally:
            await self._writer.stop()
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
        """Run ``work(connection)`` on the writer thread; each statement commits.

        Raises:
            StoreError: If the store is not open or the database fails.
        """
        self._check_open()
        ticket = self._watch.started()
        try:
            return await self._writer.call(
                work, lambda error: self._watch.finished(ticket, error)
            )
        except sqlite3.Error as err:
            raise _store_error(err) from err

    async def transaction(self, work: Work[T]) -> T:
        """Run ``work(connection)`` in one ``BEGIN IMMEDIATE`` transaction.

        Everything ``work`` writes commits together, or nothing does if it
        raises (the error is re-raised; a :class:`sqlite3.Error` as
        :class:`StoreError`).
        """
        return await self.run(lambda conn: _in_transaction(conn, work))

    async def read(self, work: Work[T]) -> T:
        """Run a read-only ``work(connection)`` on the reader thread.

        It sees every committed write and never queues behind one (WAL).

        Raises:
            StoreError: If the store is not open or the database fails
                (also if ``work`` tries to write).
        """
        if self._path == MEMORY:
            return await self.run(work)
        self._check_open()
        try:
            return await self._reader.call(work)
        except sqlite3.Error as err:
            raise _store_error(err) from err

    def _check_open(self) -> None:
        if self._state != "open":
            raise StoreError(f"store is {self._state}")

    def health(self) -> ComponentHealth:
        """The ``store`` health entry: degraded while writes fail or wait (O5)."""
        return self._watch.health(self._state == "open")

    async def schema_version(self) -> int:
        """Return the highest applied migration version."""
        return await self.run(current_version)

    async def ping(self) -> None:
        """Round-trip a trivial query on the writer thread.

        Raises:
            StoreError: If the store is closed or the query fails.
        """
        await self.run(lambda conn: conn.execute("SELECT 1").fetchone())

"""Persistence behind one interface: the :class:`Store` protocol and SQLite.

SQLite runs in WAL mode with foreign keys on and ``synchronous=NORMAL``. Every
call goes through one dedicated worker thread, so the event loop never blocks
and sqlite's one-connection-per-thread rule holds (HS8). The schema is
versioned by ordered migrations recorded in ``schema_migrations``; a
PostgreSQL store can later implement the same protocol.

Timestamps are stored as UTC ISO-8601 text (O3) and come either from the
caller or from an injected ``now`` clock; secrets are never stored, only
their SHA-256 hex digest.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from wall.platform.records import (
    TOKEN_PREFIX,
    AuditEntry,
    IssuedToken,
    TokenRecord,
)
from wall.platform.store.migrations import (
    MIGRATIONS,
    Migration,
    StoreError,
    check_migrations,
    current_version,
    migrate,
)
from wall.platform.wire import JsonValue

__all__ = [
    "MIGRATIONS",
    "TOKEN_PREFIX",
    "AuditEntry",
    "IssuedToken",
    "JsonValue",
    "Migration",
    "SqliteStore",
    "Store",
    "StoreError",
    "TokenRecord",
    "hash_secret",
    "utc_now",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class Store(Protocol):
    """Persistence used by the service layer; SQLite now, PostgreSQL later."""

    async def close(self) -> None:
        """Release the connection; idempotent."""
        ...

    async def ping(self) -> None:
        """Round-trip a trivial query; raises :class:`StoreError` if down."""
        ...

    async def create_token(
        self, name: str, role: str, wall_id: str | None = None
    ) -> IssuedToken:
        """Issue a new token; the secret is returned once and never stored."""
        ...

    async def find_token(self, secret: str) -> TokenRecord | None:
        """Return the active token whose secret this is, else ``None``."""
        ...

    async def touch_token(self, token_id: int) -> None:
        """Record that the token was just used."""
        ...

    async def list_tokens(
        self, *, include_revoked: bool = True
    ) -> tuple[TokenRecord, ...]:
        """Return tokens ordered by id."""
        ...

    async def revoke_token(self, token_id: int) -> bool:
        """Revoke a token; ``False`` if unknown or already revoked."""
        ...

    async def append_audit(self, entry: AuditEntry) -> int:
        """Append an audit entry and return its id."""
        ...

    async def list_audit(
        self, limit: int = 100, before_id: int | None = None
    ) -> tuple[AuditEntry, ...]:
        """Return up to ``limit`` entries, newest first, older than ``before_id``."""
        ...

    async def get_kv(self, key: str) -> JsonValue | None:
        """Return the stored value, or ``None`` if the key is absent."""
        ...

    async def put_kv(self, key: str, value: JsonValue) -> None:
        """Insert or replace a value."""
        ...

    async def list_kv(self, prefix: str) -> dict[str, JsonValue]:
        """Every key starting with ``prefix`` with its value."""
        ...

    async def delete_kv(self, key: str) -> bool:
        """Delete a key; True if it existed."""
        ...


def hash_secret(secret: str) -> str:
    """Return the SHA-256 hex digest under which a token secret is stored.

    Args:
        secret: The bearer secret.

    Returns:
        64 lowercase hex characters.

    Examples:
        >>> len(hash_secret("cw_example"))
        64
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def utc_now() -> datetime:
    """Default clock: the current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _to_text(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    # Fixed width, always +00:00: text order equals time order.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _from_text(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _dump_json(value: Any) -> str:
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


def _token_from_row(row: sqlite3.Row) -> TokenRecord:
    created_at = _from_text(row["created_at"])
    assert created_at is not None  # noqa: S101 - NOT NULL column
    return TokenRecord(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        wall_id=row["wall_id"],
        created_at=created_at,
        last_used_at=_from_text(row["last_used_at"]),
        revoked_at=_from_text(row["revoked_at"]),
    )


def _audit_from_row(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=_from_text(row["at"]),
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        cause=row["cause"],
        detail=json.loads(row["detail"]),
    )


_SELECT_TOKENS = (
    "SELECT id, name, role, wall_id, created_at, last_used_at, revoked_at"
    " FROM api_tokens"
)


class SqliteStore:
    """:class:`Store` on a SQLite file, all work on one worker thread.

    Use as ``async with SqliteStore(path) as store: ...``; opening applies
    pending migrations.

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
                self._executor, _connect, self._path, self._migrations, self._now_text()
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

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _now_text(self) -> str:
        return _to_text(self._now())

    async def _call(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        if self._state != "open" or self._conn is None or self._executor is None:
            raise StoreError(f"store is {self._state}")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, work, self._conn)
        except sqlite3.Error as err:
            raise StoreError(f"database error: {err}") from err

    async def schema_version(self) -> int:
        """Return the highest applied migration version."""
        return await self._call(current_version)

    async def ping(self) -> None:
        """Round-trip a trivial query on the worker thread.

        Raises:
            StoreError: If the store is closed or the query fails.
        """
        await self._call(lambda conn: conn.execute("SELECT 1").fetchone())

    async def create_token(
        self, name: str, role: str, wall_id: str | None = None
    ) -> IssuedToken:
        """Issue a token; only its SHA-256 hash is stored.

        Args:
            name: Human label.
            role: Role name (a :class:`wall.platform.auth.Role` value).
            wall_id: Bind a display token to this wall.

        Returns:
            The record and the secret (``"cw_"`` + 43 url-safe characters).

        Raises:
            ValueError: If ``name`` or ``role`` is empty.
            StoreError: If the database fails.
        """
        if not name.strip() or not role.strip():
            raise ValueError("token name and role must not be empty")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = hash_secret(secret)
        created_at = self._now_text()

        def work(conn: sqlite3.Connection) -> TokenRecord:
            cursor = conn.execute(
                "INSERT INTO api_tokens (name, role, wall_id, token_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?)"
                " RETURNING id, name, role, wall_id,"
                " created_at, last_used_at, revoked_at",
                (name, str(role), wall_id, digest, created_at),
            )
            return _token_from_row(cursor.fetchone())

        record = await self._call(work)
        logger.info("store: issued token %d (%s, role %s)", record.id, name, role)
        return IssuedToken(record=record, secret=secret)

    async def find_token(self, secret: str) -> TokenRecord | None:
        """Look a secret up by its hash, ignoring revoked tokens.

        Args:
            secret: The presented bearer secret.

        Returns:
            The active record, or ``None``.
        """
        digest = hash_secret(secret)

        def work(conn: sqlite3.Connection) -> TokenRecord | None:
            row = conn.execute(
                _SELECT_TOKENS + " WHERE token_hash = ? AND revoked_at IS NULL",
                (digest,),
            ).fetchone()
            return None if row is None else _token_from_row(row)

        return await self._call(work)

    async def touch_token(self, token_id: int) -> None:
        """Set ``last_used_at`` to now.

        Args:
            token_id: Token id; unknown ids are ignored.
        """
        at = self._now_text()
        await self._call(
            lambda conn: conn.execute(
                "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (at, token_id)
            )
        )

    async def list_tokens(
        self, *, include_revoked: bool = True
    ) -> tuple[TokenRecord, ...]:
        """Return tokens ordered by id.

        Args:
            include_revoked: Also return revoked tokens.
        """
        where = "" if include_revoked else " WHERE revoked_at IS NULL"

        def work(conn: sqlite3.Connection) -> tuple[TokenRecord, ...]:
            rows = conn.execute(_SELECT_TOKENS + where + " ORDER BY id")
            return tuple(_token_from_row(row) for row in rows)

        return await self._call(work)

    async def revoke_token(self, token_id: int) -> bool:
        """Revoke a token.

        Args:
            token_id: Token id.

        Returns:
            ``True`` if it was active and is now revoked; ``False`` if unknown
            or already revoked.
        """
        at = self._now_text()

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE api_tokens SET revoked_at = ?"
                " WHERE id = ? AND revoked_at IS NULL",
                (at, token_id),
            )
            return cursor.rowcount == 1

        revoked = await self._call(work)
        if revoked:
            logger.info("store: revoked token %d", token_id)
        return revoked

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
        at = self._now_text() if entry.at is None else _to_text(entry.at)
        try:
            detail = _dump_json(dict(entry.detail))
        except TypeError as err:
            raise ValueError(f"audit detail is not JSON-serialisable: {err}") from err
        params = (at, entry.actor, entry.action, entry.target, entry.cause, detail)

        def work(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "INSERT INTO audit_log (at, actor, action, target, cause, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                params,
            )
            assert cursor.lastrowid is not None  # noqa: S101 - set by INSERT
            return cursor.lastrowid

        return await self._call(work)

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

        return await self._call(work)

    async def get_kv(self, key: str) -> JsonValue | None:
        """Return the value stored under ``key``.

        Args:
            key: Key.

        Returns:
            The decoded JSON value, or ``None`` if absent (a stored JSON
            ``null`` reads the same).
        """

        def work(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

        text = await self._call(work)
        if text is None:
            return None
        value: JsonValue = json.loads(text)
        return value

    async def put_kv(self, key: str, value: JsonValue) -> None:
        """Insert or replace the value under ``key``.

        Args:
            key: Key.
            value: JSON-serialisable value (no NaN or infinity).

        Raises:
            ValueError: If ``value`` is not strict JSON.
        """
        try:
            text = _dump_json(value)
        except TypeError as err:
            raise ValueError(
                f"kv value for {key!r} is not JSON-serialisable: {err}"
            ) from err
        at = self._now_text()
        await self._call(
            lambda conn: conn.execute(
                "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE"
                " SET value = excluded.value, updated_at = excluded.updated_at",
                (key, text, at),
            )
        )

    async def list_kv(self, prefix: str) -> dict[str, JsonValue]:
        """Return every key starting with ``prefix`` and its decoded value."""

        def work(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            # GLOB with escaped metacharacters: a prefix match that uses the index
            escaped = "".join(f"[{c}]" if c in "*?[" else c for c in prefix)
            rows = conn.execute(
                "SELECT key, value FROM kv WHERE key GLOB ? ORDER BY key",
                (escaped + "*",),
            ).fetchall()
            return [(str(r[0]), str(r[1])) for r in rows]

        return {key: json.loads(text) for key, text in await self._call(work)}

    async def delete_kv(self, key: str) -> bool:
        """Delete ``key``; True if it existed."""

        def work(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM kv WHERE key = ?", (key,)).rowcount > 0

        return await self._call(work)

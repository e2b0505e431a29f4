"""The SQLite store: the engine plus key-value rows, tokens and the audit log.

Capabilities with their own tables (alarms…) build repositories on the same
engine (:meth:`~wall.platform.store.sqlite.engine.SqliteEngine.transaction`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping
from contextlib import closing
from functools import cached_property
from pathlib import Path

from wall.platform.audit import AuditEntry
from wall.platform.store.migrations import StoreError
from wall.platform.store.sqlite.audit import SqliteAuditLog, audit_row, insert_audit
from wall.platform.store.sqlite.connection import connect_reader
from wall.platform.store.sqlite.engine import SqliteEngine, json_text
from wall.platform.store.sqlite.tokens import SqliteTokens
from wall.platform.tokens import IssuedToken, TokenRecord
from wall.platform.wire import JsonValue


class SqliteStore(SqliteEngine):
    """:class:`~wall.platform.store.protocols.Store` on a SQLite file.

    Use as ``async with SqliteStore(path) as store: ...``; opening applies
    pending migrations. Tokens and the audit log are also reachable as the
    narrower repositories :attr:`tokens` and :attr:`audit`.

    Takes the arguments of :class:`SqliteEngine`.
    """

    @cached_property
    def tokens(self) -> SqliteTokens:
        """The tokens (a :class:`~wall.platform.tokens.TokenRepository`)."""
        return SqliteTokens(self)

    @cached_property
    def audit(self) -> SqliteAuditLog:
        """The audit log (a :class:`~wall.platform.audit.AuditLog`)."""
        return SqliteAuditLog(self)

    async def create_token(
        self, name: str, role: str, wall_id: str | None = None
    ) -> IssuedToken:
        """See :meth:`SqliteTokens.create_token`."""
        return await self.tokens.create_token(name, role, wall_id)

    async def find_token(self, secret: str) -> TokenRecord | None:
        """See :meth:`SqliteTokens.find_token`."""
        return await self.tokens.find_token(secret)

    async def touch_token(self, token_id: int) -> None:
        """See :meth:`SqliteTokens.touch_token`."""
        await self.tokens.touch_token(token_id)

    async def list_tokens(
        self, *, include_revoked: bool = True
    ) -> tuple[TokenRecord, ...]:
        """See :meth:`SqliteTokens.list_tokens`."""
        return await self.tokens.list_tokens(include_revoked=include_revoked)

    async def revoke_token(self, token_id: int) -> bool:
        """See :meth:`SqliteTokens.revoke_token`."""
        return await self.tokens.revoke_token(token_id)

    async def append_audit(self, entry: AuditEntry) -> int:
        """See :meth:`SqliteAuditLog.append_audit`."""
        return await self.audit.append_audit(entry)

    async def list_audit(
        self, limit: int = 100, before_id: int | None = None
    ) -> tuple[AuditEntry, ...]:
        """See :meth:`SqliteAuditLog.list_audit`."""
        return await self.audit.list_audit(limit, before_id)

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

        text = await self.read(work)
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
        row = (key, _kv_text(key, value), self.now_text())
        await self.run(lambda conn: conn.execute(_PUT_KV, row))

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

        return {key: json.loads(text) for key, text in await self.read(work)}

    async def delete_kv(self, key: str) -> bool:
        """Delete ``key``; True if it existed."""

        def work(conn: sqlite3.Connection) -> bool:
            return conn.execute(_DELETE_KV, (key,)).rowcount > 0

        return await self.run(work)

    async def write_audited(
        self,
        entry: AuditEntry,
        *,
        put: Mapping[str, JsonValue] | None = None,
        delete: Collection[str] = (),
    ) -> int:
        """Write rows and their audit entry in one transaction (O2).

        Either the rows change and the entry is appended, or neither happens:
        a caller changes its memory only after this returns.

        Args:
            entry: The audit entry; ``at`` defaults to the store's clock.
            put: Keys to insert or replace, with their values.
            delete: Keys to delete (absent ones are fine).

        Returns:
            The audit entry's id.

        Raises:
            ValueError: A value or the entry's detail is not strict JSON.
            StoreError: The database is busy or fails; nothing was written.
        """
        at = self.now_text()
        puts = [(k, _kv_text(k, v), at) for k, v in (put or {}).items()]
        deletes = [(k,) for k in delete]
        audit = audit_row(entry, at)

        def work(conn: sqlite3.Connection) -> int:
            conn.executemany(_PUT_KV, puts)
            conn.executemany(_DELETE_KV, deletes)
            return insert_audit(conn, audit)

        return await self.transaction(work)


_PUT_KV = (
    "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT (key) DO UPDATE"
    " SET value = excluded.value, updated_at = excluded.updated_at"
)
_DELETE_KV = "DELETE FROM kv WHERE key = ?"


def _kv_text(key: str, value: JsonValue) -> str:
    try:
        return json_text(value)
    except TypeError as err:
        raise ValueError(
            f"kv value for {key!r} is not JSON-serialisable: {err}"
        ) from err


def stored_keys(path: Path, prefix: str) -> frozenset[str]:
    """The kv keys under ``prefix`` in a database file, read-only.

    Blocking: for the command line, which may run beside the service. A
    missing file or a database without the ``kv`` table has no keys; nothing
    is created or migrated.

    Raises:
        StoreError: The file cannot be read.
    """
    if not path.is_file():
        return frozenset()
    try:
        with closing(connect_reader(str(path), busy_timeout_s=5.0)) as conn:
            if conn.execute(_HAS_KV).fetchone() is None:
                return frozenset()
            rows = conn.execute(_KEYS_UNDER, (prefix, prefix + "\uffff"))
            return frozenset(str(row[0]) for row in rows)
    except sqlite3.Error as err:
        raise StoreError(f"cannot read database {path}: {err}") from err


_HAS_KV = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kv'"
_KEYS_UNDER = "SELECT key FROM kv WHERE key >= ? AND key < ?"

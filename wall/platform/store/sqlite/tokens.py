"""API tokens in the ``api_tokens`` table; only the SHA-256 of a secret is stored."""

from __future__ import annotations

import logging
import secrets
import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime

from wall.platform.audit import AuditEntry
from wall.platform.store.sqlite.audit import audit_row, insert_audit
from wall.platform.store.sqlite.engine import SqliteEngine, text_time, time_text
from wall.platform.tokens import TOKEN_PREFIX, IssuedToken, TokenRecord, hash_secret

logger = logging.getLogger(__name__)

_SELECT_TOKENS = (
    "SELECT id, name, role, wall_id, created_at, last_used_at, revoked_at,"
    " expires_at FROM api_tokens"
)


def _token_from_row(row: sqlite3.Row) -> TokenRecord:
    created_at = text_time(row["created_at"])
    assert created_at is not None  # noqa: S101 - NOT NULL column
    return TokenRecord(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        wall_id=row["wall_id"],
        created_at=created_at,
        last_used_at=text_time(row["last_used_at"]),
        revoked_at=text_time(row["revoked_at"]),
        expires_at=text_time(row["expires_at"]),
    )


class SqliteTokens:
    """:class:`~wall.platform.tokens.TokenRepository` on the SQLite engine.

    Args:
        engine: An open engine; its clock stamps issue, use and revocation.
    """

    def __init__(self, engine: SqliteEngine) -> None:
        self._engine = engine

    async def create_token(
        self,
        name: str,
        role: str,
        wall_id: str | None = None,
        *,
        expires_at: datetime | None = None,
        audit: Callable[[TokenRecord], AuditEntry] | None = None,
    ) -> IssuedToken:
        """Issue a token; only its SHA-256 hash is stored.

        Args:
            name: Human label.
            role: Role name (a :class:`wall.platform.auth.Role` value).
            wall_id: Bind a display token to this wall.
            expires_at: End of validity (see
                :func:`wall.platform.tokens.token_expiry`); ``None``: never.
            audit: Builds the audit entry of the new record; it commits in
                the same transaction as the token, or neither does.

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
        created_at = self._engine.now_text()
        expires = None if expires_at is None else time_text(expires_at)

        def work(conn: sqlite3.Connection) -> TokenRecord:
            cursor = conn.execute(
                "INSERT INTO api_tokens"
                " (name, role, wall_id, token_hash, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " RETURNING id, name, role, wall_id,"
                " created_at, last_used_at, revoked_at, expires_at",
                (name, str(role), wall_id, digest, created_at, expires),
            )
            record = _token_from_row(cursor.fetchone())
            if audit is not None:
                insert_audit(conn, audit_row(audit(record), created_at))
            return record

        record = await self._engine.transaction(work)
        logger.info("store: issued token %d (%s, role %s)", record.id, name, role)
        return IssuedToken(record=record, secret=secret)

    async def find_token(self, secret: str) -> TokenRecord | None:
        """Look a secret up by its hash, ignoring revoked tokens.

        An expired token is still found: the authenticator, with its clock,
        says "token expired" rather than "unknown".

        Args:
            secret: The presented bearer secret.

        Returns:
            The unrevoked record, or ``None``.
        """
        digest = hash_secret(secret)

        def work(conn: sqlite3.Connection) -> TokenRecord | None:
            row = conn.execute(
                _SELECT_TOKENS + " WHERE token_hash = ? AND revoked_at IS NULL",
                (digest,),
            ).fetchone()
            return None if row is None else _token_from_row(row)

        # the reader: authentication never queues behind a write
        return await self._engine.read(work)

    async def touch_token(self, token_id: int) -> None:
        """Set ``last_used_at`` to now.

        Args:
            token_id: Token id; unknown ids are ignored.
        """
        at = self._engine.now_text()
        await self._engine.run(
            lambda conn: conn.execute(
                "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (at, token_id)
            )
        )

    async def touch_tokens(self, used: Mapping[int, datetime]) -> None:
        """Set ``last_used_at`` of many tokens in one transaction.

        Args:
            used: Token id → when it was last used (timezone-aware); unknown
                ids are ignored, and a time never moves ``last_used_at`` back.

        Raises:
            ValueError: If a time is naive.
            StoreError: If the database fails.
        """
        rows = [(time_text(at), token_id) for token_id, at in used.items()]
        if not rows:
            return
        await self._engine.transaction(
            lambda conn: conn.executemany(
                "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2"
                " AND (last_used_at IS NULL OR last_used_at < ?1)",
                rows,
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

        # the reader: the revocation watch polls this and must not queue
        # behind a busy write
        return await self._engine.read(work)

    async def revoke_token(
        self, token_id: int, audit: AuditEntry | None = None
    ) -> bool:
        """Revoke a token.

        Args:
            token_id: Token id.
            audit: Recorded in the same transaction, if the token was revoked.

        Returns:
            ``True`` if it was active and is now revoked; ``False`` if unknown
            or already revoked.
        """
        at = self._engine.now_text()

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE api_tokens SET revoked_at = ?"
                " WHERE id = ? AND revoked_at IS NULL",
                (at, token_id),
            )
            if cursor.rowcount != 1:
                return False
            if audit is not None:
                insert_audit(conn, audit_row(audit, at))
            return True

        revoked = await self._engine.transaction(work)
        if revoked:
            logger.info("store: revoked token %d", token_id)
        return revoked

"""API tokens: the stored record, the issued secret and the token repository (O1).

Secrets are never stored, only their SHA-256 hex digest; the SQLite
implementation is :class:`wall.platform.store.sqlite.tokens.SqliteTokens`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

TOKEN_PREFIX = "cw_"  # noqa: S105 - a public prefix, not a secret
"""Prefix of every issued API token secret (easy to spot in leaked text)."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored API token (the secret itself is never kept).

    Attributes:
        id: Database id.
        name: Human label, e.g. ``"wall-1 display"``.
        role: Role name (see :class:`wall.platform.auth.Role`).
        wall_id: Wall a display token is bound to; ``None`` for people.
        created_at: Issue time, UTC.
        last_used_at: Last successful authentication, UTC, if any.
        revoked_at: Revocation time, UTC; ``None`` while active.
    """

    id: int
    name: str
    role: str
    wall_id: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """Whether the token has not been revoked."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly created token: the only time its secret is available.

    Attributes:
        record: The stored record.
        secret: The bearer secret to hand to the client; hidden from ``repr``.
    """

    record: TokenRecord
    secret: str = field(repr=False)


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


class TokenRepository(Protocol):
    """Where API tokens live; SQLite now, PostgreSQL later."""

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

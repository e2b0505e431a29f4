"""API tokens: the stored record, the issued secret, expiry and the repositories (O1).

Secrets are never stored, only their SHA-256 hex digest; the SQLite
implementation is :class:`wall.platform.store.sqlite.tokens.SqliteTokens`.
How long a new token lives is decided here, once, for the CLI and the API
(:func:`parse_lifetime`, :func:`token_expiry`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from wall.platform.audit import AuditEntry

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
        expires_at: End of validity, UTC; ``None`` for a token that never
            expires (wall displays may have none).
    """

    id: int
    name: str
    role: str
    wall_id: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the token has not been revoked."""
        return self.revoked_at is None

    def expired(self, now: datetime) -> bool:
        """Whether the token's validity has ended at ``now``."""
        return self.expires_at is not None and now >= self.expires_at

    def ended(self, now: datetime) -> str | None:
        """Why the token can no longer be used at ``now``, or ``None``.

        Examples:
            >>> from datetime import UTC
            >>> t = datetime(2025, 1, 1, tzinfo=UTC)
            >>> record = TokenRecord(1, "ops", "operator", None, t, None, None, t)
            >>> record.ended(t)
            'token expired'
        """
        if self.revoked_at is not None:
            return "token revoked"
        if self.expired(now):
            return "token expired"
        return None


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


NEVER = "never"
"""The lifetime word for a token that does not expire."""

MAX_LIFETIME = timedelta(days=3650)
"""The longest lifetime a token may be given."""

_LIFETIME_RE = re.compile(r"(?P<count>[1-9][0-9]{0,5})(?P<unit>[hdw])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_lifetime(text: str) -> timedelta | None:
    """Read a token lifetime: ``12h``, ``30d``, ``8w`` or ``never`` (``None``).

    Raises:
        ValueError: Anything else, or a lifetime longer than ten years.

    Examples:
        >>> parse_lifetime("30d")
        datetime.timedelta(days=30)
        >>> parse_lifetime("never") is None
        True
    """
    word = text.strip().lower()
    if word == NEVER:
        return None
    match = _LIFETIME_RE.fullmatch(word)
    if match is None:
        raise ValueError(
            f"lifetime {text[:20]!r} is not like 12h, 30d, 8w or {NEVER!r}"
        )
    lifetime = int(match["count"]) * _UNITS[match["unit"]]
    if lifetime > MAX_LIFETIME:
        raise ValueError(f"lifetime {text!r} is longer than {MAX_LIFETIME.days} days")
    return lifetime


def token_expiry(
    now: datetime,
    requested: str | None,
    *,
    wall_bound: bool,
    default_days: int | None,
) -> datetime | None:
    """When a token issued at ``now`` expires (``None``: never).

    A person's token lives ``default_days`` unless a lifetime is requested,
    and may not be ``never`` while the service has a default: a lost laptop
    must not hold a key for ever. A wall display is unattended, so it never
    expires unless a lifetime is requested: a wall going dark during a flood
    because a token ran out would be worse.

    Args:
        now: Issue time, UTC.
        requested: A lifetime for :func:`parse_lifetime`, or ``None`` for the
            default.
        wall_bound: The token is a display token bound to one wall.
        default_days: The configured default lifetime; ``None`` disables expiry.

    Raises:
        ValueError: A malformed lifetime, or ``never`` for a person's token.

    Examples:
        >>> from datetime import UTC
        >>> t = datetime(2025, 1, 1, tzinfo=UTC)
        >>> token_expiry(t, None, wall_bound=False, default_days=90).date()
        datetime.date(2025, 4, 1)
        >>> token_expiry(t, None, wall_bound=True, default_days=90) is None
        True
    """
    if requested is None:
        if wall_bound or default_days is None:
            return None
        return now + timedelta(days=default_days)
    lifetime = parse_lifetime(requested)
    if lifetime is not None:
        return now + lifetime
    if wall_bound or default_days is None:
        return None
    raise ValueError(
        "only a wall display token may never expire; give a lifetime such as 30d"
    )


class TokenLookup(Protocol):
    """What authentication needs: find a token by its secret."""

    async def find_token(self, secret: str) -> TokenRecord | None:
        """Return the unrevoked token whose secret this is, else ``None``.

        An expired token is returned: the caller says "token expired".
        """
        ...


class TokenUsageSink(Protocol):
    """Where batched last-used times are written."""

    async def touch_tokens(self, used: Mapping[int, datetime]) -> None:
        """Set ``last_used_at`` of many tokens in one write (unknown ids ignored)."""
        ...


class TokenRepository(Protocol):
    """Where API tokens live; SQLite now, PostgreSQL later."""

    async def create_token(
        self, name: str, role: str, wall_id: str | None = None
    ) -> IssuedToken:
        """Issue a new token that never expires; the secret is returned once."""
        ...

    async def find_token(self, secret: str) -> TokenRecord | None:
        """Return the unrevoked token whose secret this is, else ``None``."""
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


class TokenLedger(Protocol):
    """What issuing and revoking need (the CLI and ``/api/v1/tokens``)."""

    async def create_token(
        self,
        name: str,
        role: str,
        wall_id: str | None = None,
        *,
        expires_at: datetime | None = None,
        audit: Callable[[TokenRecord], AuditEntry] | None = None,
    ) -> IssuedToken:
        """Issue a new token with its audit entry (one commit); the secret once."""
        ...

    async def list_tokens(
        self, *, include_revoked: bool = True
    ) -> tuple[TokenRecord, ...]:
        """Return tokens ordered by id."""
        ...

    async def revoke_token(
        self, token_id: int, audit: AuditEntry | None = None
    ) -> bool:
        """Revoke a token (and record ``audit`` in the same commit).

        ``False`` if unknown or already revoked.
        """
        ...

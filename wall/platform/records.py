"""Value objects the store persists: API tokens and audit-log entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from wall.platform.wire import JsonValue

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


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit-log line (O2).

    Attributes:
        actor: Who did it (principal name, ``"rule:<id>"``, ``"schedule"``…).
        action: What was done, dotted, e.g. ``"layout.switch"``.
        target: What it was done to, e.g. ``"wall:main"``.
        cause: Why (alarm id, operator note…).
        detail: Extra JSON-serialisable facts; no secrets or citizen data.
        at: When, timezone-aware; ``None`` means "now" from the store's clock.
            Always set on entries read back.
        id: Database id; ``None`` until stored.
    """

    actor: str
    action: str
    target: str | None = None
    cause: str | None = None
    detail: Mapping[str, JsonValue] = field(default_factory=dict)
    at: datetime | None = None
    id: int | None = None

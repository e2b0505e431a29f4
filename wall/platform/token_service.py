"""Issuing, listing and revoking API tokens, audited (O1, O2).

One service for ``/api/v1/tokens`` and ``citywall token``: the lifetime
rule (:func:`~wall.platform.tokens.token_expiry`), the audit entries
(``token.create``, ``token.revoke``) and, in the running service, ending
what a revoked token holds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import UTC, datetime

from wall.platform.audit import AuditEntry
from wall.platform.auth import Role
from wall.platform.auth_settings import AuthSettings
from wall.platform.clock import utc_now
from wall.platform.errors import Conflict, Invalid, NotFound
from wall.platform.tokens import IssuedToken, TokenLedger, TokenRecord, token_expiry
from wall.platform.wire import wire_time

Revoked = Callable[[int, str], Awaitable[None]]
"""Called after a revocation with the token id and ``"token revoked"``."""


class TokenService:
    """Tokens as an admin sees them.

    Args:
        ledger: Where tokens are stored; each issue and revocation commits
            with its audit entry.
        settings: The default lifetime.
        walls: Wall ids a display token may be bound to; ``None``: any.
        now: UTC clock (issue time, expiry).
        on_revoked: Ends the revoked token's sockets and sessions (the
            running service); ``None`` in the CLI, where the service notices
            by itself.
    """

    def __init__(
        self,
        ledger: TokenLedger,
        settings: AuthSettings,
        *,
        walls: Collection[str] | None = None,
        now: Callable[[], datetime] = utc_now,
        on_revoked: Revoked | None = None,
    ) -> None:
        self._ledger = ledger
        self._settings = settings
        self._walls = walls
        self._now = now
        self._on_revoked = on_revoked

    async def issue(
        self,
        actor: str,
        name: str,
        role: Role,
        wall_id: str | None = None,
        expires_in: str | None = None,
    ) -> IssuedToken:
        """Issue a token and audit it; the secret is in the result only.

        Args:
            actor: Who issues it (the audit actor).
            name: Human label.
            role: Role.
            wall_id: Bind a display token to this wall.
            expires_in: ``30d``, ``12h``, ``never``…; ``None``: the default.

        Raises:
            Invalid: A bad lifetime, an empty name, or ``never`` for a person.
            NotFound: ``wall_id`` names no configured wall.
        """
        known = self._walls
        if wall_id is not None and known is not None and wall_id not in known:
            raise NotFound("wall_not_found", f"no wall with id {wall_id!r}")
        try:
            expires_at = token_expiry(
                self._now(),
                expires_in,
                wall_bound=wall_id is not None,
                default_days=self._settings.token_lifetime_days,
            )
            return await self._ledger.create_token(
                name,
                role,
                wall_id,
                expires_at=expires_at,
                audit=lambda record: _issued_entry(actor, record),
            )
        except ValueError as err:
            raise Invalid("invalid_token_request", str(err)) from err

    async def tokens(self) -> tuple[TokenRecord, ...]:
        """Every token, revoked ones included, by id."""
        return await self._ledger.list_tokens()

    async def revoke(self, actor: str, token_id: int) -> TokenRecord:
        """Revoke a token, audit it and end what it holds.

        Returns:
            The revoked record.

        Raises:
            NotFound: No token has this id.
            Conflict: It is revoked already.
        """
        entry = AuditEntry(
            actor=actor, action="token.revoke", target=f"token:{token_id}"
        )
        if not await self._ledger.revoke_token(token_id, entry):
            if self._find(await self.tokens(), token_id) is None:
                raise NotFound("token_not_found", f"no token with id {token_id}")
            raise Conflict(
                "token_already_revoked", f"token {token_id} is already revoked"
            )
        if self._on_revoked is not None:
            await self._on_revoked(token_id, "token revoked")
        record = self._find(await self.tokens(), token_id)
        assert record is not None  # noqa: S101 - tokens are never deleted
        return record

    @staticmethod
    def _find(records: tuple[TokenRecord, ...], token_id: int) -> TokenRecord | None:
        return next((r for r in records if r.id == token_id), None)


def _issued_entry(actor: str, record: TokenRecord) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        action="token.create",
        target=f"token:{record.id}",
        detail={
            "name": record.name,
            "role": record.role,
            "wall_id": record.wall_id,
            "expires_at": _text(record.expires_at),
        },
    )


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else wire_time(moment)


TABLE_COLUMNS = (
    "id",
    "name",
    "role",
    "wall",
    "created",
    "last used",
    "expires",
    "revoked",
)
"""Columns of :func:`token_table`; the secret is never one of them."""


def token_table(records: Sequence[TokenRecord]) -> list[str]:
    """Tokens as aligned text lines, a header first (times in UTC, minutes).

    Examples:
        >>> from datetime import UTC
        >>> t = datetime(2025, 1, 1, tzinfo=UTC)
        >>> for line in token_table([TokenRecord(1, "ops", "operator", None, t,
        ...                                      None, None)]):
        ...     print(line.rstrip())
        id  name  role      wall  created           last used  expires  revoked
        1   ops   operator  -     2025-01-01 00:00  -          never    -
    """
    rows = [TABLE_COLUMNS] + [
        (
            str(r.id),
            r.name,
            r.role,
            r.wall_id or "-",
            _minute(r.created_at),
            _minute(r.last_used_at),
            _minute(r.expires_at, none="never"),
            _minute(r.revoked_at),
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        for row in rows
    ]


def _minute(moment: datetime | None, none: str = "-") -> str:
    return none if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")

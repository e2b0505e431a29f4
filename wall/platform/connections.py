"""Open connections per token, ended within a second of revocation or expiry (O1).

Each authenticated WebSocket registers under its token id in the runtime's
:class:`ConnectionRegistry`. A revocation made through the API ends that
token's connections at once (:meth:`TokenWatch.end`); one made by the CLI
writes the database directly, so :class:`TokenWatch` also re-reads the
tokens every ``check_s`` (one read) and ends what a revoked or expired token
still holds: its sockets, and through the hooks its live video sessions.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from wall.platform.clock import utc_now
from wall.platform.errors import ServiceError
from wall.platform.tokens import TokenRecord

log = logging.getLogger(__name__)

TokenHook = Callable[[int], object]
"""Called with a token id once the token has ended; may return an awaitable."""


@dataclass(eq=False, slots=True)
class Connection:
    """One open connection of one token.

    Attributes:
        token_id: The token it was authenticated with.
        gone: Whether the connection has closed by itself (swept then).
        ended: Set once the token has ended; the connection's owner closes it.
        reason: Why, for the close frame: ``"token revoked"``/``"token expired"``.
    """

    token_id: int
    gone: Callable[[], bool]
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str | None = None

    def end(self, reason: str) -> None:
        """Ask the connection's owner to close it (the first reason wins)."""
        if self.reason is None:
            self.reason = reason
        self.ended.set()


class ConnectionRegistry:
    """Open connections by token id (no I/O; owned by the runtime)."""

    def __init__(self) -> None:
        self._by_token: dict[int, set[Connection]] = {}

    def register(self, token_id: int, gone: Callable[[], bool]) -> Connection:
        """Register a connection of ``token_id``; deregister it when it ends."""
        connection = Connection(token_id, gone)
        self._by_token.setdefault(token_id, set()).add(connection)
        return connection

    def deregister(self, connection: Connection) -> None:
        """Forget a connection (idempotent)."""
        held = self._by_token.get(connection.token_id)
        if held is not None:
            held.discard(connection)
            if not held:
                del self._by_token[connection.token_id]

    def end_token(self, token_id: int, reason: str) -> int:
        """End every connection of ``token_id``; returns how many."""
        held = tuple(self._by_token.get(token_id, ()))
        for connection in held:
            connection.end(reason)
        return len(held)

    def sweep(self) -> int:
        """Forget connections that closed without deregistering; returns how many."""
        gone = [c for held in self._by_token.values() for c in held if c.gone()]
        for connection in gone:
            self.deregister(connection)
        return len(gone)

    @property
    def token_ids(self) -> frozenset[int]:
        """Tokens with at least one open connection."""
        return frozenset(self._by_token)

    def __len__(self) -> int:
        return sum(len(held) for held in self._by_token.values())


class TokenList(Protocol):
    """What the watch reads: every token, revoked ones included."""

    async def list_tokens(
        self, *, include_revoked: bool = True
    ) -> tuple[TokenRecord, ...]:
        """Return tokens ordered by id."""
        ...


def ended_tokens(records: Sequence[TokenRecord], now: datetime) -> dict[int, str]:
    """Tokens that can no longer be used at ``now``, with the reason.

    Examples:
        >>> from datetime import UTC
        >>> t = datetime(2025, 1, 1, tzinfo=UTC)
        >>> ended_tokens([TokenRecord(1, "a", "viewer", None, t, None, t)], t)
        {1: 'token revoked'}
    """
    ended = ((r.id, r.ended(now)) for r in records)
    return {token_id: reason for token_id, reason in ended if reason is not None}


class TokenWatch:
    """Ends the connections and sessions of revoked or expired tokens.

    An async component: its check loop runs in its own task group.

    Args:
        tokens: Where tokens are read (one read per check).
        registry: The open connections.
        check_s: Seconds between checks.
        hooks: Also called once per ended token (e.g. the live relay's
            ``close_for_token``).
        now: UTC clock (expiry).
    """

    def __init__(
        self,
        tokens: TokenList,
        registry: ConnectionRegistry,
        *,
        check_s: float,
        hooks: Sequence[TokenHook] = (),
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        if check_s <= 0:
            raise ValueError("check_s must be > 0")
        self._tokens = tokens
        self._registry = registry
        self._check_s = check_s
        self._hooks = tuple(hooks)
        self._now = now
        self._seen: set[int] = set()
        self._stack = AsyncExitStack()
        self._task: asyncio.Task[None] | None = None

    async def end(self, token_id: int, reason: str) -> None:
        """End what ``token_id`` holds now (a revocation this service made)."""
        self._seen.add(token_id)
        closing = self._registry.end_token(token_id, reason)
        log.info("tokens: %s %d; closing %d connection(s)", reason, token_id, closing)
        for hook in self._hooks:
            try:
                result = hook(token_id)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                # one failing hook must not keep the other sockets open
                log.exception("tokens: hook failed for token %d", token_id)

    async def check(self) -> None:
        """Read the tokens once; end what ended tokens still hold."""
        self._registry.sweep()
        ended = ended_tokens(await self._tokens.list_tokens(), self._now())
        for token_id, reason in ended.items():
            if token_id not in self._seen:
                await self.end(token_id, reason)
            elif token_id in self._registry.token_ids:
                # registered after the token ended (a race with authentication)
                self._registry.end_token(token_id, reason)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._check_s)
            try:
                await self.check()
            except ServiceError as err:
                log.warning("tokens: revocation check failed (%s)", err.message)

    async def __aenter__(self) -> TokenWatch:
        # what ended before the start holds nothing yet: no hooks for it
        records = await self._tokens.list_tokens()
        self._seen = set(ended_tokens(records, self._now()))
        group = await self._stack.enter_async_context(asyncio.TaskGroup())
        self._task = group.create_task(self._run(), name="token watch")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the check loop; idempotent."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await self._stack.aclose()

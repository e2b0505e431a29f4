"""Last-used times of tokens, kept in memory and written in batches (O1).

Writing ``last_used_at`` on every request made each authenticated request
wait for the single store writer, so one slow write stalled them all. The
authenticator now only notes the time here; :class:`TokenUsage` writes
every noted time in one statement every few seconds, and once more when it
stops.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from datetime import datetime

from wall.platform.errors import ServiceError
from wall.platform.tokens import TokenUsageSink

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 2.0
"""Bound on the last flush at shutdown."""


class TokenUsage:
    """Notes when tokens were used and flushes them in one write.

    An async component: ``async with TokenUsage(sink, flush_s=10): ...``
    runs the flush loop in its own task group.

    Args:
        sink: Where batches go (``touch_tokens``).
        flush_s: Seconds between writes.
    """

    def __init__(self, sink: TokenUsageSink, *, flush_s: float) -> None:
        if flush_s <= 0:
            raise ValueError("flush_s must be > 0")
        self._sink = sink
        self._flush_s = flush_s
        # one entry per token id: bounded by the number of issued tokens
        self._pending: dict[int, datetime] = {}
        self._stack = AsyncExitStack()
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0
        """Batches written since start."""

    def used(self, token_id: int, at: datetime) -> None:
        """Note that ``token_id`` was used at ``at`` (no I/O)."""
        previous = self._pending.get(token_id)
        if previous is None or at > previous:
            self._pending[token_id] = at

    @property
    def pending(self) -> int:
        """Tokens with a time not yet written."""
        return len(self._pending)

    async def flush(self) -> None:
        """Write every noted time in one batch; keep them if the write fails."""
        if not self._pending:
            return
        # forget only what was written: a write cut short (failure or
        # cancellation at shutdown) leaves the times for the next flush
        batch = dict(self._pending)
        try:
            await self._sink.touch_tokens(batch)
        except ServiceError as err:
            log.warning("tokens: last-used times not written (%s)", err.message)
            return
        for token_id, at in batch.items():
            if self._pending.get(token_id) == at:
                del self._pending[token_id]
        self.flushes += 1

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._flush_s)
            await self.flush()

    async def __aenter__(self) -> TokenUsage:
        group = await self._stack.enter_async_context(asyncio.TaskGroup())
        self._task = group.create_task(self._run(), name="token usage flush")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the loop and flush once more, bounded; idempotent."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await self._stack.aclose()
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await self.flush()
        except TimeoutError:
            log.error("tokens: last flush exceeded %.0f s", STOP_TIMEOUT_S)

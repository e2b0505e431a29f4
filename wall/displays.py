"""Connected wall displays: one browser per panel, or one for the whole wall."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(eq=False)
class Display:
    """A connected wall display (one browser, one panel or the whole wall).

    Its mailbox holds only the newest render: a display that was slow to
    read skips straight to the current revision. ``scale`` is its device
    pixels per wall pixel (1.0 for a full-size panel), which sets the streams
    its camera tiles take.
    """

    display_id: str
    wall_id: str
    panel: int | None
    principal: str
    connected_at: datetime
    scale: float = 1.0
    applied_revision: int | None = None
    applied_at_ms: float | None = None
    _latest: dict[str, Any] | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _closed: bool = False

    def offer(self, render: dict[str, Any]) -> None:
        """Replace the pending render."""
        self._latest = render
        self._ready.set()

    def close(self) -> None:
        """Wake the sender; :meth:`next_render` returns None."""
        self._closed = True
        self._ready.set()

    async def next_render(self) -> dict[str, Any] | None:
        """The newest render not yet sent, or None once closed."""
        while self._latest is None:
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        render, self._latest = self._latest, None
        return render

"""Connected wall displays: one browser per panel, or one for the whole wall."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


Render = Callable[[str, float], dict[str, Any]]
"""(wall id, display scale) → the render model for displays of that scale."""


def display_scale(
    content_wh: tuple[int, int], viewport_wh: tuple[int, int] | None
) -> float:
    """Device pixels per wall pixel of a display drawing ``content_wh`` in its viewport.

    Rounded to three places, so that displays of one size share one render;
    1.0 (a full-size panel or wall) when the display did not say.

    Examples:
        >>> display_scale((1920, 1080), (320, 180))
        0.167
        >>> display_scale((1920, 1080), None)
        1.0
    """
    if viewport_wh is None:
        return 1.0
    scale = min(viewport_wh[0] / content_wh[0], viewport_wh[1] / content_wh[1])
    return round(scale, 3) or 0.001


class DisplayRegistry:
    """The connected displays of every wall, and what each one is sent.

    Args:
        render: Makes a wall's render model for a display scale.
    """

    def __init__(self, render: Render) -> None:
        self._render = render
        self._displays: dict[str, Display] = {}
        self._seq = 0

    def attach(
        self, wall_id: str, panel: int | None, principal: str, scale: float
    ) -> Display:
        """Register a display and hand it the current state at once (W6)."""
        self._seq += 1
        display = Display(
            f"d{self._seq}", wall_id, panel, principal, datetime.now(UTC), scale=scale
        )
        self._displays[display.display_id] = display
        display.offer(self._render(wall_id, scale))
        return display

    def detach(self, display: Display) -> None:
        """Forget a display (idempotent)."""
        self._displays.pop(display.display_id, None)
        display.close()

    def close_all(self) -> None:
        """Wake every display's sender to end (service shutdown)."""
        for display in list(self._displays.values()):
            display.close()

    def push(self, wall_id: str) -> None:
        """Send a wall's new state to its displays (one render per scale)."""
        renders: dict[float, dict[str, Any]] = {}
        for display in self._displays.values():
            if display.wall_id == wall_id:
                if display.scale not in renders:
                    renders[display.scale] = self._render(wall_id, display.scale)
                display.offer(renders[display.scale])

    def observed(self, wall_id: str) -> list[dict[str, Any]]:
        """What each connected display of the wall has applied."""
        return [
            {
                "display_id": d.display_id,
                "panel": d.panel,
                "principal": d.principal,
                "connected_at": d.connected_at.isoformat(),
                "applied_revision": d.applied_revision,
                "applied_at_ms": d.applied_at_ms,
            }
            for d in self._displays.values()
            if d.wall_id == wall_id
        ]

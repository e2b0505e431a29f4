"""Connected wall displays: one browser per panel, or one for the whole wall."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wall.platform.auth import Principal, Role
from wall.walls.render import DisplayObserved, TourMessage, WallRender, WallStateMessage

FeedMessage = WallStateMessage | TourMessage
"""What the display feed sends."""


@dataclass(eq=False)
class Display:
    """A connected wall display (one browser, one panel or the whole wall).

    Its mailbox holds only the newest render and, per touring tile, the
    newest tour state: a display that was slow to read skips straight to the
    current revision. Tour states always follow the render they belong to.
    ``scale`` is its device pixels per wall pixel (1.0 for a full-size
    panel), which sets the streams its camera tiles take.
    """

    display_id: str
    wall_id: str
    panel: int | None
    principal: str
    connected_at: datetime
    scale: float = 1.0
    reports_acks: bool = False
    applied_revision: int | None = None
    applied_at: datetime | None = None
    _latest: WallRender | None = None
    _tours: dict[str, TourMessage] = field(default_factory=dict)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _closed: bool = False

    def offer(self, render: WallRender) -> None:
        """Replace the pending render; its touring tiles' states follow it."""
        self._latest = render
        self._tours = {t.tile_id: t for t in render.tours}
        self._ready.set()

    def offer_tours(self, tours: Collection[TourMessage]) -> None:
        """Queue tour states (the newest per tile wins)."""
        if tours:
            self._tours.update((t.tile_id, t) for t in tours)
            self._ready.set()

    def close(self) -> None:
        """Wake the sender; :meth:`next_message` returns None."""
        self._closed = True
        self._ready.set()

    async def next_message(self) -> FeedMessage | None:
        """The next message to send (render first, then tours), None once closed."""
        while self._latest is None and not self._tours:
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        if self._latest is not None:
            render, self._latest = self._latest, None
            return WallStateMessage(
                **dict(render), display_id=self.display_id, panel=self.panel
            )
        tile_id = next(iter(self._tours))
        return self._tours.pop(tile_id)

    def record_applied(
        self, revision: int, at: datetime, wall_revision: int
    ) -> str | None:
        """Take the display's word that ``revision`` is on screen.

        Args:
            revision: The revision it says it drew.
            at: When it drew it (its own clock).
            wall_revision: The wall's revision now; nothing above it exists.

        Returns:
            None once recorded, else why the ack is refused (and ignored).
        """
        if not self.reports_acks:
            return (
                f"only a display token bound to wall {self.wall_id!r}"
                " or an admin may report applied revisions"
            )
        if revision > wall_revision:
            return (
                f"revision {revision} is ahead of wall {self.wall_id!r}"
                f" (revision {wall_revision})"
            )
        self.applied_revision = revision
        self.applied_at = at
        return None

    def observed(self) -> DisplayObserved:
        """What this display has applied."""
        return DisplayObserved.model_validate(self, from_attributes=True)


def reports_acks(principal: Principal, wall_id: str) -> bool:
    """Whether ``principal``'s displays of ``wall_id`` may report what they applied.

    A display token bound to that wall may, and so may an admin (setting a
    wall up); any other token may watch the feed, but its acks are refused.
    What displays applied is the wall's ground truth in the console and in
    the switch-latency figures, so a viewer's page must not claim a revision.

    Examples:
        >>> reports_acks(Principal(1, "main-display", Role.VIEWER, "main"), "main")
        True
        >>> reports_acks(Principal(2, "a-viewer", Role.VIEWER), "main")
        False
    """
    return principal.wall_id == wall_id or principal.role is Role.ADMIN


Render = Callable[[str, float], WallRender]
"""(wall id, display scale) → the render model for displays of that scale."""
Tours = Callable[[str, float, Collection[str]], tuple[TourMessage, ...]]
"""(wall id, display scale, tile ids) → those touring tiles' messages."""


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
        tours: Makes touring tiles' messages for a display scale.
    """

    def __init__(self, render: Render, tours: Tours) -> None:
        self._render = render
        self._tours = tours
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
        renders: dict[float, WallRender] = {}
        for display in self._of(wall_id):
            if display.scale not in renders:
                renders[display.scale] = self._render(wall_id, display.scale)
            display.offer(renders[display.scale])

    def push_tours(self, wall_id: str, tile_ids: Collection[str]) -> None:
        """Send touring tiles' new states to the wall's displays (one per scale)."""
        if not tile_ids:
            return
        made: dict[float, tuple[TourMessage, ...]] = {}
        for display in self._of(wall_id):
            if display.scale not in made:
                made[display.scale] = self._tours(wall_id, display.scale, tile_ids)
            display.offer_tours(made[display.scale])

    def observed(self, wall_id: str) -> tuple[DisplayObserved, ...]:
        """What each connected display of the wall has applied."""
        return tuple(d.observed() for d in self._of(wall_id))

    def _of(self, wall_id: str) -> list[Display]:
        return [d for d in self._displays.values() if d.wall_id == wall_id]

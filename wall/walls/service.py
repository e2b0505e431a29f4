"""Walls and layouts: the desired state of every wall, kept and pushed out.

Commands (operator switches, tile pushes, schedule windows, alarm reverts)
go through the pure :func:`wall.walls.core.wall_state.apply`; each effective
change is stored with its audit line in one transaction, and only after that
commits is it kept, published on the event bus and sent whole to every
display of the wall (W4-W6). The service also runs
the walls' clock (:mod:`wall.walls.timers`): timed reverts, schedule windows
and tours, whose state it sends to displays and composed panels alike (T6).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from contextlib import AsyncExitStack
from datetime import UTC, datetime

from layouts import Layout
from layouts.content import TileContent
from wall.platform.audit import AuditEntry
from wall.platform.errors import Busy, Conflict, NotFound
from wall.platform.event_bus import EventBus
from wall.walls.cameras import CameraDirectory
from wall.walls.core.audit import AuditRecord
from wall.walls.core.commands import ActivateLayout, Command, Instant
from wall.walls.core.tour_board import TileTour
from wall.walls.core.wall_state import (
    LayoutNotShown,
    Transition,
    WallState,
    apply,
    rebase_monotonic,
)
from wall.walls.displays import Display, DisplayRegistry, display_scale
from wall.walls.library import LayoutLibrary
from wall.walls.operations import WallOperations
from wall.walls.render import DisplayObserved, TourMessage, WallRender
from wall.walls.repository import (
    LayoutRepository,
    StoredStateUnreadable,
    WallStateRepository,
)
from wall.walls.settings import WallSettings
from wall.walls.timers import WallTimers
from wall.walls.topics import WALL_STATE, WallChanged
from wall.walls.view import Drawing, render_wall, shown_tiles, tour_message

log = logging.getLogger(__name__)

MAX_PENDING_COMMANDS = 16
STOP_TIMEOUT_S = 3.0


def system_now() -> Instant:
    """Both clock readings now."""
    return Instant(datetime.now(UTC), time.monotonic())


def wall_audit_entry(a: AuditRecord) -> AuditEntry:
    """The audit-log entry of a wall command's record (O2)."""
    return AuditEntry(
        actor=a.actor,
        action=f"wall.{a.action.value}",
        target=f"wall:{a.wall_id}",
        cause=a.cause.value + (f":{a.cause_ref}" if a.cause_ref else ""),
        detail={
            "revision": a.revision,
            "from_layout": a.from_layout_id,
            "to_layout": a.to_layout_id,
            "outcome": a.outcome.value,
            "tile_id": a.tile_id,
            "superseded": list(a.superseded_refs),
        },
        at=a.at,
    )


class WallService(WallOperations):
    """Owns the walls' desired states, the layouts, displays and timers.

    Args:
        walls: the configured walls.
        states: where each wall's desired state is kept.
        layouts: where the layout library is kept (with its audit lines).
        bus: where ``wall.state`` and ``layout.*`` events go.
        cameras: which cameras exist, are online, and their streams.
        now: both clock readings (tests pass a fake).
    """

    def __init__(
        self,
        walls: Collection[WallSettings],
        states: WallStateRepository,
        layouts: LayoutRepository,
        bus: EventBus,
        cameras: CameraDirectory,
        now: Callable[[], Instant] = system_now,
    ) -> None:
        self.walls = {w.id: w for w in walls}
        self.repository = states
        self.bus = bus
        self.cameras = cameras
        self.now = now
        self.library = LayoutLibrary(
            layouts, bus, list(self.walls.values()), cameras.ids
        )
        self.states: dict[str, WallState[TileContent]] = {}
        self.displays = DisplayRegistry(self.render, self.tour_messages)
        self.timers = WallTimers(self)
        self._locks = {w: asyncio.Lock() for w in self.walls}
        self._pending = dict.fromkeys(self.walls, 0)
        self._stack = AsyncExitStack()
        self._timer_task: asyncio.Task[None] | None = None

    # ---- lifecycle --------------------------------------------------------------
    async def __aenter__(self) -> WallService:
        await self.library.load()
        for wall in self.walls.values():
            await self._load_state(wall)
        group = await self._stack.enter_async_context(asyncio.TaskGroup())
        self._timer_task = group.create_task(self.timers.run(), name="wall timers")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the timers (bounded) and release displays (idempotent)."""
        if self._timer_task is not None:
            self._timer_task.cancel()
            self._timer_task = None
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await self._stack.aclose()  # the task group waits for the timers
        except TimeoutError:
            log.error("wall timers did not stop within %.0f s", STOP_TIMEOUT_S)
        self.displays.close_all()

    async def _load_state(self, wall: WallSettings) -> None:
        await self.timers.load_window(wall.id)
        try:
            stored = await self.repository.load(wall.id)
        except StoredStateUnreadable as err:
            log.error(
                "wall[%s] stored state unreadable (%s); starting fresh", wall.id, err
            )
            stored = None
        if stored is not None:
            self.states[wall.id] = rebase_monotonic(stored, self.now())
            return
        self.states[wall.id] = WallState(wall.id)
        first = wall.default_layout or self._first_layout_for(wall)
        if first is not None:
            await self.execute(
                ActivateLayout(wall_id=wall.id, layout_id=first, actor="system")
            )

    def _first_layout_for(self, wall: WallSettings) -> str | None:
        shape = (wall.rows, wall.cols)
        fitting = [
            layout
            for layout in self.layouts.values()
            if (layout.for_wall.rows, layout.for_wall.cols) == shape
        ]
        fitting.sort(key=lambda layout: (layout.domain != "mixed", layout.id))
        return fitting[0].id if fitting else None

    # ---- commands -----------------------------------------------------------------
    def wall(self, wall_id: str) -> WallSettings:
        """A wall's settings or :class:`NotFound`."""
        wall = self.walls.get(wall_id)
        if wall is None:
            raise NotFound("wall_not_found", f"no wall with id {wall_id!r}")
        return wall

    @property
    def layouts(self) -> dict[str, Layout]:
        """Layouts by id."""
        return self.library.layouts

    def layout(self, layout_id: str) -> Layout:
        """A layout or :class:`NotFound`."""
        return self.library.get(layout_id)

    async def execute(self, command: Command[TileContent]) -> Transition[TileContent]:
        """Apply a command to its wall; persist, audit and publish the change.

        Raises:
            NotFound: unknown wall or layout.
            Conflict: the layout does not fit the wall, or the tile's layout is
                not on the wall.
            Busy: too many commands are queued for this wall.
            StoreError: the change could not be stored; the wall is unchanged.
        """
        wall = self.wall(command.wall_id)
        if isinstance(command, ActivateLayout):
            self._check_fits(self.layout(command.layout_id), wall)
        if self._pending[wall.id] >= MAX_PENDING_COMMANDS:
            raise Busy("wall_busy", f"too many commands queued for wall {wall.id!r}")
        self._pending[wall.id] += 1
        try:
            async with self._locks[wall.id]:
                return await self._execute_locked(wall, command)
        finally:
            self._pending[wall.id] -= 1

    @staticmethod
    def _check_fits(layout: Layout, wall: WallSettings) -> None:
        if (layout.for_wall.rows, layout.for_wall.cols) != (wall.rows, wall.cols):
            raise Conflict(
                "layout_does_not_fit",
                f"layout {layout.id!r} is for a {layout.for_wall.cols}x"
                f"{layout.for_wall.rows} wall (columns x rows); wall "
                f"{wall.id!r} is {wall.cols}x{wall.rows}",
            )

    async def _execute_locked(
        self, wall: WallSettings, command: Command[TileContent]
    ) -> Transition[TileContent]:
        try:
            transition = apply(self.states[wall.id], command, self.now())
        except LayoutNotShown as err:
            raise Conflict("layout_not_shown", str(err)) from err
        a = transition.audit
        if a is None:
            return transition
        # The state and its audit line commit together, and only then does
        # the wall move on: a failed write leaves memory, database, audit log
        # and displays on the old revision (a StoreError reaches the caller).
        await self.repository.save(transition.state, wall_audit_entry(a))
        self.states[wall.id] = transition.state
        self.bus.emit(
            WALL_STATE,
            WallChanged(
                wall_id=wall.id,
                revision=transition.state.revision,
                active_layout_id=transition.state.active_layout_id,
                cause=a.cause.value,
                outcome=a.outcome.value,
            ),
        )
        if transition.display_changed:
            self.displays.push(wall.id)
        self.timers.wake()  # new tours, reverts or deadlines start now
        return transition

    # ---- layouts ----------------------------------------------------------------
    async def save_layout(self, layout: Layout, actor: str, *, create: bool) -> Layout:
        """Validate and store a layout; displays showing it redraw.

        Raises:
            LayoutInvalid | Conflict | NotFound: as :meth:`LayoutLibrary.save`.
        """
        saved = await self.library.save(layout, actor, create=create)
        for wall_id, state in self.states.items():
            if state.screen.shows(layout.id):
                self.displays.push(wall_id)
        self.timers.wake()
        return saved

    async def delete_layout(self, layout_id: str, actor: str) -> None:
        """Delete a layout that no wall shows.

        Raises:
            Conflict: a wall shows it (switch the wall first).
        """
        users = [w for w, st in self.states.items() if st.screen.shows(layout_id)]
        await self.library.delete(layout_id, actor, shown_on=users)

    # ---- displays -----------------------------------------------------------------
    def drawing(self, scale: float = 1.0) -> Drawing:
        """What renders for a display of ``scale`` know of the cameras."""
        return Drawing(set(self.cameras.ids()), self.cameras.stream_role, scale)

    def render(self, wall_id: str, scale: float = 1.0) -> WallRender:
        """The full render model of a wall (for displays and the API).

        Args:
            wall_id: The wall.
            scale: Device pixels per wall pixel of the display it is for: a
                tile's stream is the smallest that covers the tile as drawn
                (S4), so a scaled-down overview takes sub streams.
        """
        wall = self.wall(wall_id)
        state = self.states[wall_id]
        tours = self.timers.tours(wall_id)
        return render_wall(
            wall, wall_id, state, self.layouts, self.drawing(scale), tours
        )

    def tour(self, wall_id: str, tile_id: str) -> TileTour | None:
        """What a touring tile shows, as last sent to displays (None: no tour)."""
        return self.timers.last_sent(wall_id).get(tile_id)

    def tour_messages(
        self, wall_id: str, scale: float, tile_ids: Collection[str]
    ) -> tuple[TourMessage, ...]:
        """The feed messages of some touring tiles for displays of ``scale``."""
        tours = self.timers.tours(wall_id)
        drawing = self.drawing(scale)
        sizes = {
            s.tile.id: (s.tile.rect.w, s.tile.rect.h)
            for s in shown_tiles(self.wall(wall_id), self.states[wall_id], self.layouts)
        }
        return tuple(
            tour_message(tours[t], sizes[t], drawing)
            for t in tile_ids
            if t in tours and t in sizes
        )

    def attach_display(
        self,
        wall_id: str,
        panel: int | None,
        principal: str,
        viewport_wh: tuple[int, int] | None = None,
    ) -> Display:
        """Register a display; it receives the current state at once (W6).

        Args:
            wall_id: The wall.
            panel: The panel it shows, or None for the whole wall.
            principal: Who connected it.
            viewport_wh: Its drawing area in device pixels, if it said; the
                default is a full-size panel (or wall).
        """
        wall = self.wall(wall_id)
        if panel is not None and not 0 <= panel < wall.rows * wall.cols:
            raise NotFound("panel_not_found", f"wall {wall_id!r} has no panel {panel}")
        content = (
            (wall.panel_w_px, wall.panel_h_px)
            if panel is not None
            else (wall.canvas_w_px, wall.canvas_h_px)
        )
        scale = display_scale(content, viewport_wh)
        return self.displays.attach(wall_id, panel, principal, scale)

    def detach_display(self, display: Display) -> None:
        """Forget a display (idempotent)."""
        self.displays.detach(display)

    def observed(self, wall_id: str) -> tuple[DisplayObserved, ...]:
        """What each connected display of the wall has applied."""
        return self.displays.observed(wall_id)

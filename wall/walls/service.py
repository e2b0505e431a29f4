"""Walls and layouts: the desired state of every wall, kept and pushed out.

Commands (operator switches, tile pushes, schedule windows, alarm reverts)
go through the pure :func:`wall.walls.core.wall_state.apply`; each effective
change is persisted, written to the audit log, published on the event bus
and sent whole to every display of the wall (W4-W6).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from layouts import (
    Layout,
)
from layouts.schema import TileContent
from wall.config.settings import WallSettings
from wall.platform.errors import Busy, Conflict, NotFound
from wall.platform.event_bus import EventBus
from wall.platform.records import AuditEntry
from wall.platform.store.sqlite import Store
from wall.walls.codec import state_from_json, state_to_json
from wall.walls.core.commands import (
    ActivateLayout,
    Cause,
    ClearTileOverride,
    Command,
    Instant,
    PushTile,
    RevertCause,
    TileBack,
)
from wall.walls.core.schedule import Schedule, Window, active_window
from wall.walls.core.wall_state import (
    LayoutNotShown,
    Transition,
    WallState,
    apply,
    due_reverts,
    rebase_monotonic,
)
from wall.walls.displays import Display, DisplayRegistry, display_scale
from wall.walls.library import LayoutLibrary
from wall.walls.view import StreamRoleOf, render_wall

log = logging.getLogger(__name__)

MAX_PENDING_COMMANDS = 16
TIMER_TICK_S = 1.0
SCHEDULE_EVERY_S = 15.0


def system_now() -> Instant:
    """Both clock readings now."""
    return Instant(datetime.now(UTC), time.monotonic())


class WallService:
    """Owns the walls' desired states, the layouts, displays and timers."""

    def __init__(
        self,
        walls: Collection[WallSettings],
        store: Store,
        bus: EventBus,
        camera_ids: Callable[[], Collection[str]],
        now: Callable[[], Instant] = system_now,
        stream_role: StreamRoleOf | None = None,
    ) -> None:
        self.walls = {w.id: w for w in walls}
        self.store = store
        self.bus = bus
        self.camera_ids = camera_ids
        self.now = now
        self.stream_role = stream_role
        self.library = LayoutLibrary(store, bus, list(self.walls.values()), camera_ids)
        self.states: dict[str, WallState[TileContent]] = {}
        self.displays = DisplayRegistry(self.render)
        self._locks = {w: asyncio.Lock() for w in self.walls}
        self._pending = dict.fromkeys(self.walls, 0)
        self._windows: dict[str, str | None] = {}
        self._task: asyncio.Task[None] | None = None

    # ---- lifecycle --------------------------------------------------------------
    async def __aenter__(self) -> WallService:
        await self.library.load()
        for wall in self.walls.values():
            await self._load_state(wall)
        self._task = asyncio.create_task(self._timers(), name="wall timers")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the timers and release displays (idempotent)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.displays.close_all()

    async def _load_state(self, wall: WallSettings) -> None:
        data = await self.store.get_kv(f"wall_state:{wall.id}")
        self._windows[wall.id] = _str_or_none(
            await self.store.get_kv(f"wall_window:{wall.id}")
        )
        if isinstance(data, dict):
            try:
                state = state_from_json(data)
                self.states[wall.id] = rebase_monotonic(state, self.now())
                return
            except ValueError as err:
                log.error(
                    "wall[%s] stored state unreadable (%s); starting fresh",
                    wall.id,
                    err,
                )
        fresh: WallState[TileContent] = WallState(wall.id)
        self.states[wall.id] = fresh
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
        """
        wall = self.wall(command.wall_id)
        if isinstance(command, ActivateLayout):
            layout = self.layout(command.layout_id)
            if (layout.for_wall.rows, layout.for_wall.cols) != (wall.rows, wall.cols):
                raise Conflict(
                    "layout_does_not_fit",
                    f"layout {layout.id!r} is for a {layout.for_wall.cols}x"
                    f"{layout.for_wall.rows} wall (columns x rows); wall "
                    f"{wall.id!r} is {wall.cols}x{wall.rows}",
                )
        if self._pending[wall.id] >= MAX_PENDING_COMMANDS:
            raise Busy("wall_busy", f"too many commands queued for wall {wall.id!r}")
        self._pending[wall.id] += 1
        try:
            async with self._locks[wall.id]:
                return await self._execute_locked(wall, command)
        finally:
            self._pending[wall.id] -= 1

    async def _execute_locked(
        self, wall: WallSettings, command: Command[TileContent]
    ) -> Transition[TileContent]:
        try:
            transition = apply(self.states[wall.id], command, self.now())
        except LayoutNotShown as err:
            raise Conflict("layout_not_shown", str(err)) from err
        if transition.audit is None:
            return transition
        self.states[wall.id] = transition.state
        await self.store.put_kv(
            f"wall_state:{wall.id}", state_to_json(transition.state)
        )
        a = transition.audit
        await self.store.append_audit(
            AuditEntry(
                actor=a.actor,
                action=f"wall.{a.action.value}",
                target=f"wall:{wall.id}",
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
        )
        self.bus.publish(
            "wall.state",
            {
                "wall_id": wall.id,
                "revision": transition.state.revision,
                "active_layout_id": transition.state.active_layout_id,
                "cause": a.cause.value,
                "outcome": a.outcome.value,
            },
        )
        if transition.display_changed:
            self._push(wall.id)
        return transition

    # convenience wrappers used by the API
    async def activate(
        self,
        wall_id: str,
        layout_id: str,
        actor: str,
        cause: Cause = Cause.OPERATOR,
        cause_ref: str | None = None,
    ) -> Transition[TileContent]:
        """Switch a wall to a layout."""
        return await self.execute(
            ActivateLayout(
                wall_id=wall_id,
                layout_id=layout_id,
                actor=actor,
                cause=cause,
                cause_ref=cause_ref,
            )
        )

    async def push_tile(
        self, wall_id: str, tile_id: str, content: TileContent, actor: str
    ) -> Transition[TileContent]:
        """Put content into a tile of the wall's active layout (an override)."""
        layout_id = self._layout_with_tile(wall_id, tile_id)
        return await self.execute(
            PushTile(
                wall_id=wall_id,
                tile_id=tile_id,
                content=content,
                actor=actor,
                layout_id=layout_id,
            )
        )

    async def clear_tile(
        self, wall_id: str, tile_id: str, actor: str
    ) -> Transition[TileContent]:
        """Drop a tile's override: it shows its layout's own content again."""
        layout_id = self._layout_with_tile(wall_id, tile_id)
        return await self.execute(
            ClearTileOverride(
                wall_id=wall_id, tile_id=tile_id, actor=actor, layout_id=layout_id
            )
        )

    async def tile_back(
        self, wall_id: str, tile_id: str, actor: str
    ) -> Transition[TileContent]:
        """Restore a tile's previous content (W10)."""
        layout_id = self._layout_with_tile(wall_id, tile_id)
        return await self.execute(
            TileBack(wall_id=wall_id, tile_id=tile_id, actor=actor, layout_id=layout_id)
        )

    async def revert(
        self, wall_id: str, cause_ref: str, actor: str
    ) -> Transition[TileContent]:
        """Revert what an activation with ``cause_ref`` put on the wall."""
        return await self.execute(
            RevertCause(wall_id=wall_id, cause_ref=cause_ref, actor=actor)
        )

    def _layout_with_tile(self, wall_id: str, tile_id: str) -> str:
        self.wall(wall_id)
        screen = self.states[wall_id].screen
        for part in reversed(screen.parts):
            layout = self.layouts.get(part.layout_id)
            if layout is not None and any(t.id == tile_id for t in layout.tiles):
                return layout.id
        raise NotFound("tile_not_found", f"no tile {tile_id!r} on wall {wall_id!r}")

    # ---- layouts ----------------------------------------------------------------
    async def save_layout(self, layout: Layout, actor: str, *, create: bool) -> Layout:
        """Validate and store a layout; displays showing it redraw.

        Raises:
            LayoutInvalid: listing every error; the stored layout is unchanged.
            Conflict: creating an id that exists.
            NotFound: replacing an id that does not exist.
        """
        saved = await self.library.save(layout, actor, create=create)
        for wall_id, state in self.states.items():
            if state.screen.shows(layout.id):
                self._push(wall_id)
        return saved

    async def delete_layout(self, layout_id: str, actor: str) -> None:
        """Delete a layout that no wall shows.

        Raises:
            Conflict: a wall shows it (switch the wall first).
        """
        users = [w for w, st in self.states.items() if st.screen.shows(layout_id)]
        await self.library.delete(layout_id, actor, shown_on=users)

    # ---- displays -----------------------------------------------------------------
    def render(self, wall_id: str, scale: float = 1.0) -> dict[str, Any]:
        """The full render model of a wall (for displays and the API).

        Args:
            wall_id: The wall.
            scale: Device pixels per wall pixel of the display it is for: a
                tile's stream is the smallest that covers the tile as drawn
                (S4), so a scaled-down overview takes sub streams.
        """
        wall = self.wall(wall_id)
        role, scaled = self.stream_role, None
        if role is not None:

            def scaled(camera_id: str, preference: str, wh: tuple[int, int]) -> str:
                drawn = (max(1, round(wh[0] * scale)), max(1, round(wh[1] * scale)))
                return role(camera_id, preference, drawn)

        return render_wall(
            wall,
            wall_id,
            self.states[wall_id],
            self.layouts,
            set(self.camera_ids()),
            scaled,
        )

    def _push(self, wall_id: str) -> None:
        self.displays.push(wall_id)

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

    def observed(self, wall_id: str) -> list[dict[str, Any]]:
        """What each connected display of the wall has applied."""
        return self.displays.observed(wall_id)

    # ---- timers: schedule windows and timed reverts ---------------------------------
    async def _timers(self) -> None:
        last_schedule = 0.0
        while True:
            now = self.now()
            for state in list(self.states.values()):
                for cmd in due_reverts(state, now):
                    await self._safely(self.execute(cmd))
            if now.monotonic_s - last_schedule >= SCHEDULE_EVERY_S:
                last_schedule = now.monotonic_s
                for wall in self.walls.values():
                    await self._safely(self.check_schedule(wall, now))
            await asyncio.sleep(TIMER_TICK_S)

    @staticmethod
    async def _safely(work: Any) -> None:
        try:
            await work
        except (
            NotFound,
            Conflict,
            Busy,
        ) as err:  # a bad schedule must not stop the timers
            log.error("wall timer: %s", err.message)

    async def check_schedule(self, wall: WallSettings, now: Instant) -> None:
        """Apply the wall's schedule: enter a window's layout, leave to the default."""
        if not wall.schedule:
            return
        schedule = Schedule(
            windows=tuple(
                Window(w.layout_id, frozenset(w.weekdays), w.start, w.end, w.name)
                for w in wall.schedule
            ),
            tz=wall.schedule_tz,
        )
        window = active_window(schedule, now.utc)
        name = window.name if window else None
        if name == self._windows.get(wall.id):
            return
        self._windows[wall.id] = name
        await self.store.put_kv(f"wall_window:{wall.id}", name)
        target = window.layout_id if window else wall.default_layout
        if target is None:
            return
        await self.execute(
            ActivateLayout(
                wall_id=wall.id,
                layout_id=target,
                actor="schedule",
                cause=Cause.SCHEDULE,
                cause_ref=f"schedule:{name or 'default'}",
            )
        )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None

"""The walls' clock: timed reverts (A2), schedule windows and tours (T2-T6).

One loop per service, owned by its task group. It sleeps until the earliest
deadline (a tour switch, an ``after_s`` revert) or a tick, whichever is first,
and is woken early by every change. Tours are stepped here on the service's
clock, so every display and composed panel of a wall shows the same camera;
each change of a touring tile goes to the wall's displays as a tour message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from wall.platform.errors import Busy, Conflict, NotFound, Unavailable
from wall.walls.core.commands import ActivateLayout, Cause, Instant
from wall.walls.core.schedule import Schedule, Window, active_window
from wall.walls.core.tour_board import TileTour, TourBoard
from wall.walls.core.wall_state import due_reverts, next_revert_monotonic_s
from wall.walls.settings import WallSettings
from wall.walls.view import touring_tiles

if TYPE_CHECKING:
    from wall.walls.service import WallService

log = logging.getLogger(__name__)

TIMER_TICK_S = 1.0
"""Longest sleep: cameras going offline mid-slot are noticed this fast (T2)."""
SCHEDULE_EVERY_S = 15.0


class WallTimers:
    """Reverts, schedules and tours of every wall of one service."""

    def __init__(self, service: WallService) -> None:
        self._svc = service
        self._windows: dict[str, str | None] = {}
        self._boards: dict[str, TourBoard] = {}
        self._sent: dict[str, dict[str, TileTour]] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Run the loop now (a change may start tours or deadlines)."""
        self._wake.set()

    async def load_window(self, wall_id: str) -> None:
        """Read the schedule window the wall was in before a restart."""
        self._windows[wall_id] = await self._svc.repository.load_window(wall_id)

    async def run(self) -> None:
        """The loop; runs until cancelled."""
        last_schedule: float | None = None
        while True:
            now = self._svc.now()
            wait_s = TIMER_TICK_S
            try:
                await self._revert_due(now)
                if last_schedule is None or now.monotonic_s - last_schedule >= (
                    SCHEDULE_EVERY_S
                ):
                    last_schedule = now.monotonic_s
                    for wall in self._svc.walls.values():
                        await _safely(self.check_schedule(wall, now))
                wait_s = min(wait_s, self._step_tours(now), self._next_revert_s(now))
            except Exception:  # a fault of one step must not stop the clock
                log.exception("wall timers: step failed")
            self._wake.clear()
            try:
                async with asyncio.timeout(max(0.01, wait_s)):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _revert_due(self, now: Instant) -> None:
        for state in list(self._svc.states.values()):
            for cmd in due_reverts(state, now):
                await _safely(self._svc.execute(cmd))

    def _next_revert_s(self, now: Instant) -> float:
        deadlines = [
            d
            for state in self._svc.states.values()
            if (d := next_revert_monotonic_s(state)) is not None
        ]
        return min(deadlines, default=now.monotonic_s + TIMER_TICK_S) - now.monotonic_s

    # ---- tours ------------------------------------------------------------------
    def tours(self, wall_id: str) -> dict[str, TileTour]:
        """Tile id → what each touring tile of the wall shows now."""
        return self._step_wall(wall_id, self._svc.now())[0]

    def last_sent(self, wall_id: str) -> dict[str, TileTour]:
        """What the timer loop last sent to the wall's displays.

        For per-frame readers (composite panels): placing the wall's tiles and
        stepping its tours is work for the loop's steps, not for every frame.
        Before the loop's first step it is what :meth:`tours` gives now.
        """
        sent = self._sent.get(wall_id)
        return self.tours(wall_id) if sent is None else sent

    def _step_wall(
        self, wall_id: str, now: Instant
    ) -> tuple[dict[str, TileTour], float | None]:
        svc = self._svc
        touring = touring_tiles(svc.wall(wall_id), svc.states[wall_id], svc.layouts)
        board = self._boards.setdefault(wall_id, TourBoard())
        return board.step(touring, now, svc.cameras.online)

    def _step_tours(self, now: Instant) -> float:
        waits = [TIMER_TICK_S]
        for wall_id in self._svc.states:
            states, wait_s = self._step_wall(wall_id, now)
            if wait_s is not None:
                waits.append(wait_s)
            sent = self._sent.get(wall_id, {})
            changed = [t for t, tour in states.items() if sent.get(t) != tour]
            self._sent[wall_id] = states
            self._svc.displays.push_tours(wall_id, changed)
        return min(waits)

    # ---- schedules ----------------------------------------------------------------
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
        target = window.layout_id if window else wall.default_layout
        if target is not None:
            try:
                await self._svc.execute(
                    ActivateLayout(
                        wall_id=wall.id,
                        layout_id=target,
                        actor="schedule",
                        cause=Cause.SCHEDULE,
                        cause_ref=f"schedule:{name or 'default'}",
                    )
                )
            except (NotFound, Conflict):
                # a schedule naming a bad layout never will work: remember the
                # window so it is reported once, not every check
                await self._enter_window(wall.id, name)
                raise
        # Recorded only once the activation committed: after a store failure
        # (or Busy) the next check tries the window again.
        await self._enter_window(wall.id, name)

    async def _enter_window(self, wall_id: str, name: str | None) -> None:
        await self._svc.repository.save_window(wall_id, name)
        self._windows[wall_id] = name


async def _safely(work: Awaitable[object]) -> None:
    try:
        await work
    # a bad schedule or a busy store must not stop the timers (or other walls)
    except (NotFound, Conflict, Busy, Unavailable) as err:
        log.error("wall timer: %s", err.message)

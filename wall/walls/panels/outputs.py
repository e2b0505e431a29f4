"""Composed panel outputs: one H.264 stream per wall panel, built on demand.

For walls driven by hardware decoders or weak display PCs that take one
stream per panel. Each panel's tiles come from the wall's desired state; a
tour tile shows the camera the wall service's tour state names, the one the
wall pages are sent, so a composed panel and a browser panel agree (T6).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack

from devices.cameras.camera import CameraStream
from devices.cameras.config import StreamRole
from devices.cameras.fleet import CameraFleet
from layouts.rects import Rect
from wall.platform.errors import NotFound
from wall.walls.panels.compositor import (
    ComposedTile,
    DecoderPool,
    PanelCompositor,
    PanelSpec,
)
from wall.walls.render import RenderedCamera, RenderedTour, TileRender, WallRender
from wall.walls.service import WallService


class PanelOutputs:
    """A compositor per panel of every wall, sharing one decoder pool."""

    def __init__(self, walls: WallService, fleet: CameraFleet) -> None:
        self.walls = walls
        self.fleet = fleet
        self.panels: dict[tuple[str, int], PanelCompositor] = {}
        self._stack = AsyncExitStack()
        self._renders: dict[str, tuple[int, WallRender]] = {}

    async def __aenter__(self) -> PanelOutputs:
        pool = await self._stack.enter_async_context(DecoderPool())
        for wall in self.walls.walls.values():
            spec = PanelSpec(
                width=wall.panel_w_px, height=wall.panel_h_px, fps=wall.composite_fps
            )
            for panel in wall.panels():
                self.panels[
                    (wall.id, panel.index)
                ] = await self._stack.enter_async_context(
                    PanelCompositor(
                        self._tiles(wall.id, panel.index),
                        self._sub_stream,
                        spec,
                        decoders=pool,
                        label=f"{wall.id}/panel{panel.index}",
                        shutdown_timeout_s=3.0,
                    )
                )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    def panel(self, wall_id: str, index: int) -> PanelCompositor:
        """A panel's compositor or :class:`NotFound`."""
        compositor = self.panels.get((wall_id, index))
        if compositor is None:
            raise NotFound("panel_not_found", f"no panel {index} on wall {wall_id!r}")
        return compositor

    def _sub_stream(self, camera_id: str) -> CameraStream | None:
        camera = self.fleet.cameras.get(camera_id)
        return None if camera is None else camera.stream(StreamRole.SUB)

    def _render(self, wall_id: str) -> WallRender:
        # the full render is rebuilt only when the wall's revision moves
        revision = self.walls.states[wall_id].revision
        cached = self._renders.get(wall_id)
        if cached is None or cached[0] != revision:
            cached = (revision, self.walls.render(wall_id))
            self._renders[wall_id] = cached
        return cached[1]

    def _camera(self, wall_id: str, tile: TileRender) -> str | None:
        content = tile.content
        if isinstance(content, RenderedCamera):
            return None if content.camera_removed else content.camera_id
        if isinstance(content, RenderedTour):
            tour = self.walls.tour(wall_id, tile.id)
            return None if tour is None else tour.camera_id
        return None

    def tiles(self, wall_id: str, index: int) -> list[ComposedTile]:
        """A panel's tiles as composed now, in draw order."""
        return [
            ComposedTile(
                Rect(*t.rect),
                Rect(*t.crop),
                title=None if t.title_mode == "none" else t.title,
                camera_id=self._camera(wall_id, t),
                tile_wh=t.tile_wh,
            )
            for t in self._render(wall_id).panels[index].tiles
        ]

    def _tiles(self, wall_id: str, index: int) -> Callable[[], Sequence[ComposedTile]]:
        return lambda: self.tiles(wall_id, index)

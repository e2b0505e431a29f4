"""Composed panel outputs: one H.264 stream per wall panel, built on demand.

For walls driven by hardware decoders or weak display PCs that take one
stream per panel. Each panel's tiles come from the wall's desired state; a
tour tile shows its current item, chosen from the wall clock the same way the
wall page chooses it, so a composed panel and a browser panel agree.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any

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
from wall.walls.service import WallService


def tour_camera(
    content: dict[str, Any], now_s: float, online: Callable[[str], bool]
) -> str | None:
    """The camera a tour shows at ``now_s`` (epoch seconds), skipping offline ones.

    Examples:
        >>> items = [{"camera_id": "a", "dwell_s": 10}, {"camera_id": "b"}]
        >>> c = {"items": items, "dwell_s": 5}
        >>> [tour_camera(c, t, lambda _: True) for t in (0, 9.9, 10, 14.9, 15)]
        ['a', 'a', 'b', 'b', 'a']
        >>> tour_camera(c, 0, lambda cam: cam != "a")
        'b'
    """
    items = [
        (
            str(i.get("camera_id")),
            float(i.get("dwell_s") or content.get("dwell_s") or 10),
        )
        for i in content.get("items", [])
    ]
    if not items:
        return None
    cycle = sum(d for _, d in items)
    pos = now_s % cycle
    index = 0
    for index, (_, dwell) in enumerate(items):  # noqa: B007 - index is the result
        if pos < dwell:
            break
        pos -= dwell
    for k in range(len(items)):
        camera_id = items[(index + k) % len(items)][0]
        if online(camera_id):
            return camera_id
    return None


class PanelOutputs:
    """A compositor per panel of every wall, sharing one decoder pool."""

    def __init__(self, walls: WallService, fleet: CameraFleet) -> None:
        self.walls = walls
        self.fleet = fleet
        self.panels: dict[tuple[str, int], PanelCompositor] = {}
        self._stack = AsyncExitStack()
        self._renders: dict[str, tuple[int, dict[str, Any]]] = {}

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

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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

    def _online(self, camera_id: str) -> bool:
        camera = self.fleet.cameras.get(camera_id)
        if camera is None:
            return False
        return camera.stream(StreamRole.SUB).state.value not in ("offline", "stalled")

    def _render(self, wall_id: str) -> dict[str, Any]:
        # the full render is rebuilt only when the wall's revision moves
        revision = self.walls.states[wall_id].revision
        cached = self._renders.get(wall_id)
        if cached is None or cached[0] != revision:
            cached = (revision, self.walls.render(wall_id))
            self._renders[wall_id] = cached
        return cached[1]

    def _tiles(self, wall_id: str, index: int) -> Callable[[], Sequence[ComposedTile]]:
        def tiles() -> Sequence[ComposedTile]:
            panel = self._render(wall_id)["panels"][index]
            now_s = time.time()
            out = []
            for t in panel["tiles"]:
                content = t["content"]
                camera_id = None
                if content["kind"] == "camera" and not content.get("camera_removed"):
                    camera_id = content["camera_id"]
                elif content["kind"] == "tour":
                    camera_id = tour_camera(content, now_s, self._online)
                out.append(
                    ComposedTile(
                        Rect(*t["rect"]),
                        Rect(*t["crop"]),
                        title=None if t["title_mode"] == "none" else t["title"],
                        camera_id=camera_id,
                        tile_wh=(t["tile_wh"][0], t["tile_wh"][1]),
                    )
                )
            return out

        return tiles

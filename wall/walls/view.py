"""What a wall's displays render: panels, tile pieces and their content.

Built from the wall's desired state and the layouts it shows, and sent whole
to every display on (re)connect and after every change (W6): a display never
needs earlier messages to draw the current revision.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from layouts import Layout, WallShape, fit_layout_to_wall, place_tiles
from layouts.schema import TileContent
from wall.walls.codec import CONTENT
from wall.walls.core.wall_state import WallState


def panel_id(index: int) -> str:
    """The wall-state panel id of a panel index (row-major from 0)."""
    return str(index)


StreamRoleOf = Callable[[str, str, tuple[int, int]], str]
"""(camera id, stream preference, tile size in wall px) → ``main`` or ``sub``."""


def _content_json(
    content: TileContent,
    camera_ids: Collection[str],
    tile_wh: tuple[int, int],
    stream_role: StreamRoleOf | None,
) -> dict[str, Any]:
    data: dict[str, Any] = CONTENT.dump_python(content, mode="json")
    if data.get("kind") == "camera":
        camera_id = str(data.get("camera_id"))
        if camera_id not in camera_ids:
            data["camera_removed"] = True  # W7: the layout still loads
        elif stream_role is not None:
            # the display asks for exactly this stream, so a tile of the next
            # layout that shows the same camera and stream keeps its session
            data["stream_role"] = stream_role(
                camera_id, str(data.get("stream", "auto")), tile_wh
            )
    if data.get("kind") == "tour":
        data["items"] = [
            {**item, "camera_removed": item.get("camera_id") not in camera_ids}
            for item in data.get("items", [])
        ]
    return data


def render_wall(
    wall: WallShape,
    wall_id: str,
    state: WallState[TileContent],
    layouts: Mapping[str, Layout],
    camera_ids: Collection[str],
    stream_role: StreamRoleOf | None = None,
) -> dict[str, Any]:
    """The render model of every panel of ``wall`` for ``state``.

    A panel whose layout is missing (deleted) renders empty with a note.
    Camera tiles carry the stream they should show when ``stream_role`` is
    given.
    """
    screen = state.screen
    fitted: dict[str, Layout] = {}
    panels: list[dict[str, Any]] = []
    for panel in wall.panels():
        layout_id = screen.layout_for_panel(panel_id(panel.index))
        layout = layouts.get(layout_id) if layout_id else None
        entry: dict[str, Any] = {
            "index": panel.index,
            "row": panel.row,
            "col": panel.col,
            "rect": [panel.rect.x, panel.rect.y, panel.rect.w, panel.rect.h],
            "layout_id": layout_id,
            "tiles": [],
        }
        if layout_id and layout is None:
            entry["missing_layout"] = True
        if layout is not None:
            if layout.id not in fitted:
                fitted[layout.id] = fit_layout_to_wall(layout, wall)
            shown = fitted[layout.id]
            overrides = screen.overrides(layout.id)
            tiles = {t.id: t for t in shown.tiles}
            for piece in place_tiles(shown, wall):
                if piece.panel_index != panel.index:
                    continue
                tile = tiles[piece.tile_id]
                content = overrides.get(tile.id, tile.content)
                entry["tiles"].append(
                    {
                        "id": tile.id,
                        "z": tile.z,
                        "title": tile.title,
                        "title_mode": tile.title_mode,
                        "tile_wh": [tile.rect.w, tile.rect.h],
                        "rect": [
                            piece.panel_rect.x,
                            piece.panel_rect.y,
                            piece.panel_rect.w,
                            piece.panel_rect.h,
                        ],
                        "crop": [
                            piece.crop_rect.x,
                            piece.crop_rect.y,
                            piece.crop_rect.w,
                            piece.crop_rect.h,
                        ],
                        "overridden": tile.id in overrides,
                        "content": _content_json(
                            content,
                            camera_ids,
                            (tile.rect.w, tile.rect.h),
                            stream_role,
                        ),
                    }
                )
        panels.append(entry)
    return {
        "wall_id": wall_id,
        "revision": state.revision,
        "canvas_wh": [wall.canvas_w_px, wall.canvas_h_px],
        "panel_wh": [wall.panel_w_px, wall.panel_h_px],
        "rows": wall.rows,
        "cols": wall.cols,
        "active_layout_id": state.active_layout_id,
        "cause": state.cause.value if state.cause else None,
        "cause_ref": state.cause_ref,
        "activated_by": state.activated_by,
        "activated_at": state.activated_at.isoformat() if state.activated_at else None,
        "revert_stack": [
            {
                "cause_ref": e.cause_ref,
                "cause": e.cause.value,
                "priority": e.priority,
                "layouts": [p.layout_id for p in e.screen.parts],
            }
            for e in state.stack
        ],
        "panels": panels,
    }

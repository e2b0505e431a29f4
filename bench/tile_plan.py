"""The 24-camera wall of the stream-selection benchmark, and each tile's stream.

The wall is 4x3 panels of 1920x1080 without bezels (canvas 7680x3240, panels
numbered row-major from 0). The layout is built here with the layout model
(``layouts.schema`` tiles, ``layouts.presets.split_grid`` grids) and checked
with ``layouts.solver.validate_layout``::

             col 0         col 1         col 2         col 3
    row 0  [ feature-a 3840x2160        ][ 3x3 grid  ][ 3x3 grid  ]
    row 1  [ (panels 0, 1, 4, 5)        ][ feature-b 3840x2160      ]
    row 2  [ 2x2 quad  ][ alarm list    ][ (panels 6, 7, 10, 11)    ]

24 camera tiles (cam01..cam24, content ``stream: auto``) and one alarm list.
With stream selection on, the smallest-covering-stream rule
(``layouts.streams.choose_stream``, which the relay applies to the
tile size the wall page sends) picks:

* **main** for 6 tiles: the two 3840x2160 feature tiles spanning four panels
  each and the four 960x540 quad tiles (wider than the sub stream: 640x360
  here, 704x576 assumed while its size is unknown);
* **sub** for 18 tiles: the 640x360 tiles of the two 3x3 grids.

The benchmark derives these choices from the layout at run time (the fitted
tile rects the wall view sends to the panels, then ``choose_stream``); nothing
is hard-coded, and the figures report the counts it found.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from devices.cameras.config import StreamRole
from layouts import (
    Layout,
    LayoutDomain,
    Rect,
    Tile,
    TileRect,
    WallShape,
    fit_layout_to_wall,
    place_tiles,
    split_grid,
    validate_layout,
)
from layouts.content import AlarmListContent, CameraContent
from layouts.content import StreamPref as StreamPreference
from layouts.streams import choose_stream

WALL = WallShape(rows=3, cols=4)  # 1920x1080 panels, no bezels: 7680x3240


@dataclass(frozen=True)
class TilePlan:
    """One camera tile as the wall shows it, and the stream selection picks."""

    tile_id: str
    camera_id: str
    tile_wh: tuple[int, int]
    panels: tuple[int, ...]
    preference: StreamPreference
    chosen: StreamRole


def _span(first: int, last: int) -> Rect:
    """Canvas rect from panel ``first``'s top-left to panel ``last``'s bottom-right."""
    a, b = WALL.panel(first).rect, WALL.panel(last).rect
    return Rect(a.x, a.y, b.x2 - a.x, b.y2 - a.y)


def _tile(tile_id: str, rect: Rect, content: Any) -> Tile:
    return Tile(
        id=tile_id,
        rect=TileRect(x=rect.x, y=rect.y, w=rect.w, h=rect.h),
        content=content,
    )


def wall_layout(camera_ids: list[str]) -> Layout:
    """The mixed 24-camera layout of the module docstring."""
    cams = iter(camera_ids)

    def camera(tile_id: str, rect: Rect) -> Tile:
        return _tile(tile_id, rect, CameraContent(camera_id=next(cams)))

    tiles = [camera("feature-a", _span(0, 5))]
    # (panel, n): an nxn grid of tiles filling that panel
    for panel, n in ((2, 3), (3, 3), (8, 2)):
        cells = split_grid(WALL.panel(panel).rect, n, n)
        tiles += [camera(f"p{panel}-{i}", r) for i, r in enumerate(cells, start=1)]
    tiles.append(camera("feature-b", _span(6, 11)))
    tiles.append(_tile("alarms", WALL.panel(9).rect, AlarmListContent(limit=15)))
    if next(cams, None) is not None:
        raise ValueError("the layout has fewer camera tiles than cameras")
    return Layout(
        version=1,
        id="bench-stream-selection",
        name="视频墙 24 路",
        name_en="24 camera wall",
        domain=LayoutDomain.MIXED,
        for_wall=WALL,
        tiles=tuple(tiles),
    )


def plan_tiles(layout: Layout) -> list[TilePlan]:
    """Each camera tile's pixel size, panels and stream, by the project's code.

    The tile size is that of the layout fitted to the wall, which is what the
    wall view sends each panel page and the page sends with its offer; the
    stream is ``choose_stream`` on that size with the sub stream's size still
    unknown, as the relay decides for a camera's first viewer.
    """
    cameras = [c.camera_id for _, c in _camera_tiles(layout)]
    validate_layout(layout, WALL, cameras).raise_for_errors(layout.id)
    shown = fit_layout_to_wall(layout, WALL)
    panels: dict[str, list[int]] = {}
    for piece in place_tiles(shown, WALL):
        panels.setdefault(piece.tile_id, []).append(piece.panel_index)
    plans = []
    for tile, content in _camera_tiles(shown):
        wh = (tile.rect.w, tile.rect.h)
        preference = StreamPreference(content.stream.value)
        plans.append(
            TilePlan(
                tile.id,
                content.camera_id,
                wh,
                tuple(panels[tile.id]),
                preference,
                StreamRole(choose_stream(preference, True, wh)),
            )
        )
    return plans


def _camera_tiles(layout: Layout) -> list[tuple[Tile, CameraContent]]:
    return [
        (t, t.content) for t in layout.tiles if isinstance(t.content, CameraContent)
    ]


def layout_summary(plans: list[TilePlan]) -> list[str]:
    """Lines like ``2 x 3840x2160 (4 panels each) -> main``."""
    groups = Counter((p.tile_wh, len(p.panels), p.chosen.value) for p in plans)
    return [
        f"{n} x {w}x{h} ({panels} panel{'s' if panels > 1 else ''} each) -> {role}"
        for ((w, h), panels, role), n in sorted(groups.items(), key=lambda g: -g[1])
    ]

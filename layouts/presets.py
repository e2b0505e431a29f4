"""Built-in tile grids (分屏): 1x1, 2x2, 3x3, 4x4, 1+5 and 1+7."""

from __future__ import annotations

from typing import Final, Literal, get_args

from layouts.content import EmptyContent
from layouts.rects import Rect
from layouts.schema import (
    SCHEMA_VERSION,
    Layout,
    LayoutDomain,
    Tile,
    TileRect,
    WallShape,
)

PresetName = Literal["1x1", "2x2", "3x3", "4x4", "1+5", "1+7"]
PRESET_NAMES: Final[tuple[PresetName, ...]] = get_args(PresetName)

# (row, col, row span, col span) on an n x n grid; the big tile comes first.
_FOCUS_CELLS: Final[dict[str, tuple[int, list[tuple[int, int, int, int]]]]] = {
    # WVP's 6-split: one 2x2 focus tile and five small ones on a 3x3 grid.
    "1+5": (
        3,
        [
            (0, 0, 2, 2),
            (0, 2, 1, 1),
            (1, 2, 1, 1),
            (2, 0, 1, 1),
            (2, 1, 1, 1),
            (2, 2, 1, 1),
        ],
    ),
    # One 3x3 focus tile and seven small ones on a 4x4 grid.
    "1+7": (
        4,
        [(0, 0, 3, 3), (0, 3, 1, 1), (1, 3, 1, 1), (2, 3, 1, 1)]
        + [(3, c, 1, 1) for c in range(4)],
    ),
}


def _edges(start: int, length: int, parts: int) -> list[int]:
    # Cumulative integer edges: sizes differ by at most 1 px and sum exactly.
    return [start + (i * length) // parts for i in range(parts + 1)]


def split_grid(area: Rect, rows: int, cols: int) -> list[Rect]:
    """Cut ``area`` into ``rows`` x ``cols`` rects, row-major, with no gap.

    Sizes differ by at most one pixel and add up exactly to the area.

    Args:
        area: the rect to cut (canvas or panel px).
        rows: rows, >= 1.
        cols: columns, >= 1.

    Returns:
        The cells, row-major.

    Raises:
        ValueError: rows or cols below 1.

    Examples:
        >>> [r.w for r in split_grid(Rect(0, 0, 1000, 90), 1, 3)]
        [333, 333, 334]
        >>> split_grid(Rect(1920, 0, 1920, 1080), 2, 2)[3]
        Rect(x=2880, y=540, w=960, h=540)
    """
    if rows < 1 or cols < 1:
        raise ValueError(f"need at least one row and column, got {rows}x{cols}")
    xs = _edges(area.x, area.w, cols)
    ys = _edges(area.y, area.h, rows)
    return [
        Rect(xs[c], ys[r], xs[c + 1] - xs[c], ys[r + 1] - ys[r])
        for r in range(rows)
        for c in range(cols)
    ]


def preset_rects(name: PresetName, area: Rect) -> list[Rect]:
    """Return the tile rects of a preset over ``area`` (the focus tile first).

    Args:
        name: the preset.
        area: the canvas, one panel's rect, or any rect (px).

    Returns:
        Gap-free, non-overlapping rects covering ``area`` exactly.

    Raises:
        ValueError: unknown preset name.

    Examples:
        >>> preset_rects("1+5", Rect(0, 0, 1920, 1080))[:2]
        [Rect(x=0, y=0, w=1280, h=720), Rect(x=1280, y=0, w=640, h=360)]
        >>> len(preset_rects("1+7", Rect(0, 0, 1920, 1080)))
        8
    """
    if name in _FOCUS_CELLS:
        n, cells = _FOCUS_CELLS[name]
        xs = _edges(area.x, area.w, n)
        ys = _edges(area.y, area.h, n)
        return [
            Rect(xs[c], ys[r], xs[c + cs] - xs[c], ys[r + rs] - ys[r])
            for r, c, rs, cs in cells
        ]
    if name not in PRESET_NAMES:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESET_NAMES)}")
    side = int(name[0])
    return split_grid(area, side, side)


def preset_tiles(
    name: PresetName, area: Rect, *, id_prefix: str = "t", z: int = 0
) -> list[Tile]:
    """Return empty tiles ``{id_prefix}1``, ``{id_prefix}2``, ... of a preset.

    Examples:
        >>> [t.id for t in preset_tiles("2x2", Rect(0, 0, 1920, 1080), id_prefix="p")]
        ['p1', 'p2', 'p3', 'p4']
    """
    return [
        Tile(
            id=f"{id_prefix}{n}",
            rect=TileRect(x=r.x, y=r.y, w=r.w, h=r.h),
            z=z,
            content=EmptyContent(),
        )
        for n, r in enumerate(preset_rects(name, area), start=1)
    ]


def preset_layout(
    name: PresetName,
    wall: WallShape,
    *,
    panel_index: int | None = None,
    layout_id: str | None = None,
) -> Layout:
    """Return an empty-tile layout of a preset over the wall or one panel.

    With ``panel_index`` the tiles fill that panel and the layout is scoped
    to it, so activating it leaves the other panels alone (W3).

    Raises:
        IndexError: the wall has no such panel.

    Examples:
        >>> wall = WallShape(rows=3, cols=4)
        >>> layout = preset_layout("2x2", wall, panel_index=5)
        >>> layout.scope_panels, layout.tiles[0].rect
        ((5,), TileRect(x=1920, y=1080, w=960, h=540))
    """
    area = wall.canvas if panel_index is None else wall.panel(panel_index).rect
    where = "wall" if panel_index is None else f"p{panel_index}"
    return Layout(
        version=SCHEMA_VERSION,
        id=layout_id or f"preset-{name.replace('+', 'p')}-{where}",
        name=f"{name} 分屏",
        name_en=f"{name} split",
        domain=LayoutDomain.MIXED,
        for_wall=wall.shape(),
        scope_panels=None if panel_index is None else (panel_index,),
        tiles=tuple(preset_tiles(name, area)),
    )

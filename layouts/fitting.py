"""Bezel maths: redraw a layout for a wall with other panel sizes or bezels."""

from __future__ import annotations

from layouts.errors import IssueCode, LayoutInvalid, LayoutIssue, Severity
from layouts.schema import Layout, TileRect, WallShape


def _scaled(value: int, source: int, target: int) -> int:
    # Round half up in integers, so equal inputs always give equal edges.
    return (2 * value * target + source) // (2 * source)


def _map_edge(
    pos: int, design: tuple[int, int], target: tuple[int, int], end: bool
) -> int:
    panel, bezel = design
    t_panel, t_bezel = target
    col, offset = divmod(pos, panel + bezel)
    origin = col * (t_panel + t_bezel)
    if end and offset == 0 and bezel == 0 and col > 0:
        # A right/bottom edge on a seam of a bezel-free design ends the previous
        # panel: keep it there instead of swallowing the new bezel.
        return origin - t_bezel
    if offset < panel:
        return origin + _scaled(offset, panel, t_panel)
    return origin + t_panel + _scaled(offset - panel, bezel, t_bezel)


def fit_layout_to_wall(layout: Layout, wall: WallShape) -> Layout:
    """Redraw a layout for a wall of the same grid but other panel sizes or bezels.

    Each tile edge keeps its panel and its relative place on that panel, so
    tiles aligned to panels stay aligned, neighbours stay gap-free, and a tile
    spanning a seam grows by the bezel behind which its middle hides.

    Raises:
        LayoutInvalid: the wall has other rows or cols.

    Examples:
        >>> from layouts.presets import preset_layout
        >>> layout = preset_layout("1x1", WallShape(rows=1, cols=2))
        >>> wide = WallShape(rows=1, cols=2, panel_w_px=3840, bezel_h_px=12)
        >>> fit_layout_to_wall(layout, wide).tiles[0].rect
        TileRect(x=0, y=0, w=7692, h=1080)
    """
    if layout.for_wall.shape() == wall.shape():
        return layout
    src = layout.for_wall
    if (src.rows, src.cols) != (wall.rows, wall.cols):
        issue = LayoutIssue(
            Severity.ERROR,
            IssueCode.WALL_SHAPE_MISMATCH,
            f"layout is for a {src.cols}x{src.rows} wall,"
            f" this wall is {wall.cols}x{wall.rows} (cols x rows)",
            "for_wall",
        )
        raise LayoutInvalid(layout.id, [issue])
    xs = ((src.panel_w_px, src.bezel_h_px), (wall.panel_w_px, wall.bezel_h_px))
    ys = ((src.panel_h_px, src.bezel_v_px), (wall.panel_h_px, wall.bezel_v_px))
    tiles = []
    for tile in layout.tiles:
        r = tile.rect
        x1, x2 = _map_edge(r.x, *xs, end=False), _map_edge(r.x + r.w, *xs, end=True)
        y1, y2 = _map_edge(r.y, *ys, end=False), _map_edge(r.y + r.h, *ys, end=True)
        rect = TileRect(x=x1, y=y1, w=x2 - x1, h=y2 - y1)
        tiles.append(tile.model_copy(update={"rect": rect}))
    return layout.model_copy(update={"tiles": tuple(tiles), "for_wall": wall.shape()})

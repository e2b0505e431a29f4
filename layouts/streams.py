"""Which of a camera's streams a tile or viewer takes (S4): one rule, pure.

The smallest stream whose picture covers the tile as drawn wins (Milestone's
adaptive streaming), so a wall of small tiles pulls sub streams and stays
within the decode budget. The wall render and the live relay both ask here.
"""

from __future__ import annotations

from typing import Final, Literal

from layouts.content import CameraContent, StreamPref, TourContent
from layouts.schema import Tile

StreamRole = Literal["main", "sub"]
"""A camera stream: the full-size ``main`` or the small ``sub``."""

# Resolution assumed for a sub stream that has not been opened yet: sub
# streams are usually 640x360 to 704x576 (D1).
ASSUMED_SUB_WH: Final = (704, 576)


def choose_stream(
    preference: StreamPref,
    has_sub: bool = True,
    tile_wh: tuple[int, int] | None = None,
    sub_wh: tuple[int, int] | None = None,
    *,
    device_px_per_canvas_px: float = 1.0,
) -> StreamRole:
    """Choose ``"main"`` or ``"sub"`` for a tile.

    Args:
        preference: an explicit ``main`` or ``sub`` is honoured when the
            camera has that stream; ``auto`` picks by size.
        has_sub: whether the camera has a sub stream.
        tile_wh: the tile's size in canvas px, if known (unknown: ``sub``).
        sub_wh: the sub stream's picture size, px (704x576 when unknown).
        device_px_per_canvas_px: display pixels per canvas pixel (e.g. 0.5
            for a half-size preview page).

    Returns:
        ``"sub"`` when the sub stream is at least as large as the tile as
        drawn on both axes, else ``"main"``.

    Examples:
        >>> choose_stream(StreamPref.AUTO, True, (480, 270), (640, 360))
        'sub'
        >>> choose_stream(StreamPref.AUTO, True, (1920, 1080), (640, 360))
        'main'
        >>> choose_stream(StreamPref.AUTO, tile_wh=(960, 540))
        'main'
        >>> choose_stream(StreamPref.AUTO, tile_wh=(960, 540),
        ...               device_px_per_canvas_px=0.5)
        'sub'
        >>> choose_stream(StreamPref.SUB, False)
        'main'
    """
    if not has_sub or preference is StreamPref.MAIN:
        return "main"
    if preference is StreamPref.SUB or tile_wh is None:
        return "sub"
    width, height = sub_wh if sub_wh and sub_wh[0] > 0 else ASSUMED_SUB_WH
    need_w = tile_wh[0] * device_px_per_canvas_px
    need_h = tile_wh[1] * device_px_per_canvas_px
    return "sub" if need_w <= width and need_h <= height else "main"


def stream_for_tile(
    tile: Tile,
    *,
    sub_wh: tuple[int, int] = ASSUMED_SUB_WH,
    device_px_per_canvas_px: float = 1.0,
) -> StreamRole | None:
    """Return the stream a camera or tour tile pulls, ``None`` for other content.

    Examples:
        >>> from layouts.schema import TileRect
        >>> tile = Tile(id="c", rect=TileRect(x=0, y=0, w=1920, h=1080),
        ...             content=CameraContent(camera_id="demo-1"))
        >>> stream_for_tile(tile)
        'main'
    """
    content = tile.content
    if isinstance(content, CameraContent):
        preference = content.stream
    elif isinstance(content, TourContent):
        preference = StreamPref.AUTO
    else:
        return None
    return choose_stream(
        preference,
        tile_wh=(tile.rect.w, tile.rect.h),
        sub_wh=sub_wh,
        device_px_per_canvas_px=device_px_per_canvas_px,
    )

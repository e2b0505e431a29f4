"""Pure I420 drawing of a composed panel: tiles, titles, markers, borders."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from layouts.rects import Rect

Plane = npt.NDArray[np.uint8]
Yuv = tuple[int, int, int]
# BT.601 limited-range colours (Y, U, V)
BLACK: Yuv = (16, 128, 128)
GREY: Yuv = (50, 128, 128)
RED: Yuv = (82, 90, 240)
GREEN: Yuv = (145, 54, 34)
TEXT_Y = 235


@dataclass(frozen=True, slots=True)
class ComposedTile:
    """What one panel draws of one tile.

    Attributes:
        panel_rect: where to draw, panel-local px (x, y, w, h).
        crop: the part of the tile shown here, tile-local px (spanning tiles).
        title: drawn ASCII-safe in a title bar; None for no title bar.
        camera_id: the camera shown; None for other content (grey placeholder).
        alarm: draw a red alarm border.
        tile_wh: the whole tile's size, px; None if the crop is the whole tile.
            The picture is stretched to fill the whole tile.
    """

    panel_rect: Rect
    crop: Rect
    title: str | None = None
    camera_id: str | None = None
    alarm: bool = False
    tile_wh: tuple[int, int] | None = None


def ascii_title(title: str | None, camera_id: str | None) -> str | None:
    """The title as cv2 can draw it: its ASCII part, else the camera id.

    Examples:
        >>> ascii_title("东门 Gate 3", "cam-3"), ascii_title("东门广场", "cam-3")
        ('Gate 3', 'cam-3')
    """
    if not title:
        return None
    for text in (title, camera_id or ""):
        kept = " ".join("".join(c if " " < c < "\x7f" else " " for c in text).split())
        if any(c.isalnum() for c in kept):
            return kept
    return None


@functools.lru_cache(maxsize=512)
def _text_mask(text: str, height_px: int) -> Plane:
    """White-on-black luma mask of ``text``, about ``height_px`` tall (cached)."""
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, height_px / 30.0
    thickness = max(1, round(scale * 2))
    (w, h), base = cv2.getTextSize(text, font, scale, thickness)
    mask = np.zeros((h + base + 4, w + 4), np.uint8)
    cv2.putText(mask, text, (2, h + 2), font, scale, 255, thickness, cv2.LINE_AA)
    out: Plane = (mask.astype(np.uint16) * TEXT_Y // 255).astype(np.uint8)
    out.flags.writeable = False
    return out


class Canvas:
    """An I420 picture (PyAV's layout) with plane views and drawing primitives."""

    def __init__(self, width: int, height: int) -> None:
        self.buf: Plane = np.empty((height * 3 // 2, width), np.uint8)
        q = height // 4
        self.y = self.buf[:height]
        self.u = self.buf[height : height + q].reshape(height // 2, width // 2)
        self.v = self.buf[height + q :].reshape(height // 2, width // 2)
        self.rect = Rect(0, 0, width, height)

    def _planes(self, r: Rect) -> tuple[Plane, Plane, Plane]:
        cy, cx = slice(r.y // 2, (r.y2 + 1) // 2), slice(r.x // 2, (r.x2 + 1) // 2)
        return self.y[r.y : r.y2, r.x : r.x2], self.u[cy, cx], self.v[cy, cx]

    def paint(self, r: Rect, clip: Rect, colour: Yuv) -> None:
        """Fill ``r`` ∩ ``clip`` with a colour."""
        if (part := r.intersection(clip)) is not None:
            for plane, value in zip(self._planes(part), colour, strict=True):
                plane[:] = value

    def dim(self, r: Rect, clip: Rect, alpha: float) -> None:
        """Darken ``r`` ∩ ``clip`` to ``alpha`` of its brightness and colour."""
        if (part := r.intersection(clip)) is not None:
            y, u, v = self._planes(part)
            y[:] = cv2.convertScaleAbs(y, alpha=alpha)
            for c in (u, v):
                c[:] = cv2.convertScaleAbs(c, alpha=alpha, beta=128 * (1 - alpha))

    def stamp(self, mask: Plane, x: int, y: int, clip: Rect) -> None:
        """Lighten the luma with a text mask placed at (x, y), clipped."""
        h, w = mask.shape
        if (part := Rect(x, y, w, h).intersection(clip)) is not None:
            region = self.y[part.y : part.y2, part.x : part.x2]
            m = mask[part.y - y : part.y2 - y, part.x - x : part.x2 - x]
            np.maximum(region, m, out=region)

    def blit(self, frame: Any, tile: ComposedTile, vis: Rect) -> None:
        """Scale the tile's crop of a decoded frame into ``vis`` (panel px)."""
        if frame.format.name not in ("yuv420p", "yuvj420p"):
            frame = frame.reformat(format="yuv420p")
        tw, th = tile.tile_wh or (tile.crop.w, tile.crop.h)
        pr, crop = tile.panel_rect, tile.crop
        fw, fh = frame.width, frame.height
        # visible panel span -> tile-local span -> frame px
        kx, ky = crop.w / pr.w * fw / tw, crop.h / pr.h * fh / th
        x0 = crop.x * fw / tw + (vis.x - pr.x) * kx
        y0 = crop.y * fh / th + (vis.y - pr.y) * ky
        src = (x0, y0, x0 + vis.w * kx, y0 + vis.h * ky)
        for i, dst in enumerate(self._planes(vis)):
            sub = 1 if i == 0 else 2
            plane = frame.planes[i]
            ph, pw = -(-fh // sub), -(-fw // sub)
            data = np.frombuffer(plane, np.uint8)[: plane.line_size * ph]
            pix = data.reshape(ph, plane.line_size)[:, :pw]
            sx0 = min(int(src[0] / sub), pw - 1)
            sy0 = min(int(src[1] / sub), ph - 1)
            sx1 = max(sx0 + 1, min(math.ceil(src[2] / sub), pw))
            sy1 = max(sy0 + 1, min(math.ceil(src[3] / sub), ph))
            part = pix[sy0:sy1, sx0:sx1]
            dh, dw = dst.shape
            out = cv2.resize(part, (dw, dh), dst=dst, interpolation=cv2.INTER_LINEAR)
            if out is not dst:  # pragma: no cover - cv2 wrote elsewhere
                dst[:] = out


class Feed(NamedTuple):
    """What a tile shows of its camera: the newest picture and its state."""

    frame: Any  # the newest av.VideoFrame, or None
    live: bool
    status: str  # shown on the tile when not live


def _whole_tile(tile: ComposedTile) -> Rect:
    """The whole tile in panel px (extends past the panel for spanning tiles)."""
    tw, th = tile.tile_wh or (tile.crop.w, tile.crop.h)
    sx, sy = tile.panel_rect.w / tile.crop.w, tile.panel_rect.h / tile.crop.h
    x, y = tile.panel_rect.x - tile.crop.x * sx, tile.panel_rect.y - tile.crop.y * sy
    return Rect(round(x), round(y), round(tw * sx), round(th * sy))


def draw_panel(
    canvas: Canvas, tiles: Sequence[ComposedTile], feeds: dict[str, Feed]
) -> None:
    """Compose one panel picture: video, lost state, title, marker, alarm."""
    canvas.paint(canvas.rect, canvas.rect, BLACK)
    unit = max(8, canvas.rect.h // 36)  # 30 px at 1080p
    for tile in tiles:
        vis = tile.panel_rect.intersection(canvas.rect)
        if vis is None or tile.crop.is_empty:
            continue
        full = _whole_tile(tile)
        feed = feeds.get(tile.camera_id or "")
        frame = None if feed is None else feed.frame
        if frame is not None:
            canvas.blit(frame, tile, vis)
        else:
            canvas.paint(vis, vis, GREY)
        live = feed is not None and feed.live and frame is not None
        if tile.camera_id is not None and not live:
            if frame is not None:
                canvas.dim(vis, vis, 0.4)  # the last picture, dimmed
            mask = _text_mask(feed.status if feed else "NO CAMERA", unit)
            mx = full.x + (full.w - mask.shape[1]) // 2
            canvas.stamp(mask, mx, full.y + (full.h - mask.shape[0]) // 2, vis)
        title = ascii_title(tile.title, tile.camera_id)
        if title:
            canvas.dim(Rect(full.x, full.y, full.w, unit + 6), vis, 0.35)
            canvas.stamp(_text_mask(title, unit * 2 // 3), full.x + 8, full.y + 4, vis)
        if tile.camera_id is not None:
            dot = Rect(full.x2 - unit - 4, full.y + 6, unit - 6, unit - 6)
            canvas.paint(dot, vis, GREEN if live else RED)
        if tile.alarm:
            t = max(4, unit // 4)
            for edge in (
                Rect(full.x, full.y, full.w, t),
                Rect(full.x, full.y2 - t, full.w, t),
                Rect(full.x, full.y, t, full.h),
                Rect(full.x2 - t, full.y, t, full.h),
            ):
                canvas.paint(edge, vis, RED)

"""Detection event snapshots: drawn per event, one JPEG on disk kept with its record.

An event record survives a restart in the store; its picture must too, or the
alarm an officer opens tomorrow has no evidence. Files are written atomically
(temporary file, then rename) off the event loop, named by the event id, and
deleted when their record is pruned. A small in-memory cache serves the
newest pictures (the ones the wall and console ask for) without disk reads.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Collection, Sequence
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.types import Detection

__all__ = ["EventSnapshots", "draw_snapshot"]

log = logging.getLogger(__name__)

_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MEMORY_CACHE = 32  # newest JPEGs also kept in memory, about 50-150 kB each


def draw_snapshot(
    frame_bgr: NDArray[np.uint8],
    detections: Sequence[Detection],
    polygon_px: Sequence[tuple[float, float]],
    caption: str,
) -> bytes:
    """A JPEG of the frame with the zone outlined and every box labelled.

    Args:
        frame_bgr: (H, W, 3) uint8 BGR picture (not modified).
        detections: Boxes in the frame's pixels.
        polygon_px: Zone vertices (x, y) in the frame's pixels.
        caption: Text drawn at the top-left.

    Returns:
        JPEG bytes.
    """
    image = frame_bgr.copy()
    pts = np.asarray(polygon_px, np.int32).reshape(-1, 1, 2)
    cv2.polylines(image, [pts], isClosed=True, color=(0, 215, 255), thickness=2)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for d in detections:
        x1, y1, x2, y2 = (round(v) for v in d.xyxy)
        colour = (0, 200, 0) if d.label == "person" else (0, 0, 230)
        cv2.rectangle(image, (x1, y1), (x2, y2), colour, 2)
        text = f"{d.label} {d.score:.2f}"
        cv2.putText(image, text, (x1, max(12, y1 - 4)), font, 0.45, colour, 1)
    cv2.putText(image, caption, (8, 22), font, 0.6, (255, 255, 255), 2)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(data.tobytes())


class EventSnapshots:
    """JPEGs of detection events in one directory (or in memory only).

    Args:
        directory: Where the files go; None keeps the newest ``MEMORY_CACHE``
            pictures in memory only (nothing survives a restart).
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self.write_errors = 0

    def _path(self, event_id: str) -> Path | None:
        if self.directory is None or not _SAFE_ID.match(event_id):
            return None  # never a path built from an unexpected id
        return self.directory / f"{event_id}.jpg"

    def _remember(self, event_id: str, jpeg: bytes) -> None:
        self._cache[event_id] = jpeg
        self._cache.move_to_end(event_id)
        while len(self._cache) > MEMORY_CACHE:
            self._cache.popitem(last=False)

    async def put(self, event_id: str, jpeg: bytes) -> None:
        """Keep an event's picture (a failed write is logged, never raised)."""
        self._remember(event_id, jpeg)
        path = self._path(event_id)
        if path is None:
            return
        try:
            await asyncio.to_thread(_write_atomically, path, jpeg)
        except OSError as err:  # a full disk must not stop detection
            self.write_errors += 1
            log.error("snapshot %s not saved: %s", event_id, err)

    async def get(self, event_id: str) -> bytes | None:
        """An event's picture, or None if there is none."""
        if (cached := self._cache.get(event_id)) is not None:
            return cached
        path = self._path(event_id)
        if path is None:
            return None
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, event_id: str) -> None:
        """Forget an event's picture (its record was pruned)."""
        self._cache.pop(event_id, None)
        if (path := self._path(event_id)) is not None:
            await asyncio.to_thread(path.unlink, True)

    async def keep_only(self, event_ids: Collection[str]) -> int:
        """Delete files of events that are no longer stored; returns how many."""
        if self.directory is None:
            return 0
        directory, keep = self.directory, set(event_ids)

        def sweep() -> int:
            directory.mkdir(parents=True, exist_ok=True)
            removed = 0
            for path in directory.iterdir():
                stale_tmp = path.name.endswith(".tmp")
                if stale_tmp or (path.suffix == ".jpg" and path.stem not in keep):
                    path.unlink(missing_ok=True)
                    removed += 1
            return removed

        return await asyncio.to_thread(sweep)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)

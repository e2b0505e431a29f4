"""Frame-number barcode burnt into ``latency_main.h264`` and its reader.

The latency clip made by ``scripts/make_media.py`` carries, in every frame, the
frame's index in the clip (0 .. N-1) as a machine-readable barcode. The RTSP
test server logs the wall-clock time at which it sends each frame number, so a
receiver that decodes the barcode can compute the glass-to-glass latency of the
frame it is showing.

Geometry, in pixels of the reference 1280x720 frame (all constants below):

* The whole frame is mid-grey (``BACKGROUND_LEVEL`` = 128 in R, G and B).
* Two rows of ``NUM_CELLS`` = 16 square cells of ``CELL_SIZE`` = 48 px, with no
  gap between cells, start at ``ORIGIN_X``, ``ORIGIN_Y`` = (32, 32). The
  barcode therefore covers x 32..800 and y 32..128, and the grey background
  around it is the quiet zone.
* Row 0 (y 32..80) is the fixed sync row: cell ``i`` is white (255) for even
  ``i`` and black (0) for odd ``i`` (``SYNC_PATTERN``: W B W B ...).
* Row 1 (y 80..128) is the data row: cell ``i`` holds bit ``i`` of the frame
  number, least significant bit first (cell 0 is bit 0); white (255) is 1 and
  black (0) is 0.
* The rest of the frame is free for human-readable decoration (the clip prints
  the number as text and moves a box below the barcode); nothing else may be
  drawn inside the barcode rectangle.

The reader samples the central half (``SAMPLE_FRACTION``) of every cell, takes
the midpoint between the mean white and mean black sync cells as the threshold,
and rejects the frame (returns ``None``) when the sync row does not match, the
contrast is too low, or a data cell is ambiguous. Coordinates scale with the
frame size, so a frame resized from 1280x720 (e.g. a sub-stream or a wall tile)
still decodes as long as each cell keeps a few pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

REF_WIDTH = 1280
"""Width of the reference frame the geometry is given in."""
REF_HEIGHT = 720
"""Height of the reference frame the geometry is given in."""
BACKGROUND_LEVEL = 128
"""Grey level of the background (and quiet zone)."""
CELL_SIZE = 48
"""Side of one square cell, in reference pixels."""
NUM_CELLS = 16
"""Cells per row, i.e. number of bits in the frame number."""
ORIGIN_X = 32
"""Left edge of both rows, in reference pixels."""
ORIGIN_Y = 32
"""Top edge of the sync row, in reference pixels."""
SYNC_ROW_Y = ORIGIN_Y
"""Top edge of the sync row."""
DATA_ROW_Y = ORIGIN_Y + CELL_SIZE
"""Top edge of the data row."""
SYNC_PATTERN: tuple[int, ...] = tuple(1 - (i % 2) for i in range(NUM_CELLS))
"""Sync row bits, 1 = white: white on even cells, black on odd cells."""
SAMPLE_FRACTION = 0.5
"""Fraction of the cell side, centred, that the reader averages."""
MIN_CONTRAST = 64.0
"""Minimum difference between mean white and mean black sync cells."""
MAX_FRAME_NUMBER = (1 << NUM_CELLS) - 1
"""Largest frame number the barcode can carry."""

WHITE = 255
BLACK = 0


def draw_barcode(frame_rgb: npt.NDArray[np.uint8], number: int) -> None:
    """Draws the sync and data rows for ``number`` into a reference-size frame.

    Args:
        frame_rgb: Frame of shape (720, 1280, 3), modified in place.
        number: Frame number to encode, 0 .. ``MAX_FRAME_NUMBER``.

    Raises:
        ValueError: If the number does not fit or the frame has the wrong shape.
    """
    if not 0 <= number <= MAX_FRAME_NUMBER:
        raise ValueError(f"frame number {number} does not fit in {NUM_CELLS} bits")
    if frame_rgb.shape[:2] != (REF_HEIGHT, REF_WIDTH):
        raise ValueError(f"frame must be {REF_WIDTH}x{REF_HEIGHT}")
    for i in range(NUM_CELLS):
        x0 = ORIGIN_X + i * CELL_SIZE
        sync = WHITE if SYNC_PATTERN[i] else BLACK
        frame_rgb[SYNC_ROW_Y : SYNC_ROW_Y + CELL_SIZE, x0 : x0 + CELL_SIZE] = sync
        bit = WHITE if (number >> i) & 1 else BLACK
        frame_rgb[DATA_ROW_Y : DATA_ROW_Y + CELL_SIZE, x0 : x0 + CELL_SIZE] = bit


def _cell_means(
    luma: npt.NDArray[np.float64], row_y: int, sx: float, sy: float
) -> list[float]:
    margin = CELL_SIZE * (1.0 - SAMPLE_FRACTION) / 2.0
    means: list[float] = []
    for i in range(NUM_CELLS):
        x0 = ORIGIN_X + i * CELL_SIZE
        xa = round((x0 + margin) * sx)
        xb = max(xa + 1, round((x0 + CELL_SIZE - margin) * sx))
        ya = round((row_y + margin) * sy)
        yb = max(ya + 1, round((row_y + CELL_SIZE - margin) * sy))
        means.append(float(luma[ya:yb, xa:xb].mean()))
    return means


def read_barcode(frame_rgb: npt.NDArray[Any]) -> int | None:
    """Decodes the frame number from a frame of the latency clip.

    Args:
        frame_rgb: Decoded frame, shape (height, width, 3) in RGB or BGR order
            (the barcode is grey-scale, so the order does not matter), or a
            (height, width) luma plane. Any size with the 16:9 reference
            layout works; 1280x720 is the native size.

    Returns:
        The frame number, or ``None`` if the frame carries no valid barcode.
    """
    if frame_rgb.ndim not in (2, 3):
        return None
    height, width = frame_rgb.shape[:2]
    if width < REF_WIDTH // 8 or height < REF_HEIGHT // 8:
        return None
    sx = width / REF_WIDTH
    sy = height / REF_HEIGHT
    # Only the barcode rectangle is converted, which keeps this cheap per frame.
    bottom = min(height, round((DATA_ROW_Y + CELL_SIZE) * sy) + 1)
    right = min(width, round((ORIGIN_X + NUM_CELLS * CELL_SIZE) * sx) + 1)
    region = frame_rgb[:bottom, :right].astype(np.float64)
    luma = region.mean(axis=2) if region.ndim == 3 else region
    sync = _cell_means(luma, SYNC_ROW_Y, sx, sy)
    whites = [m for m, b in zip(sync, SYNC_PATTERN, strict=True) if b]
    blacks = [m for m, b in zip(sync, SYNC_PATTERN, strict=True) if not b]
    white_level = sum(whites) / len(whites)
    black_level = sum(blacks) / len(blacks)
    contrast = white_level - black_level
    if contrast < MIN_CONTRAST:
        return None
    threshold = (white_level + black_level) / 2.0
    margin = contrast / 4.0
    # Every sync cell must be clearly on its expected side of the threshold.
    if min(whites) < threshold + margin or max(blacks) > threshold - margin:
        return None
    number = 0
    for i, mean in enumerate(_cell_means(luma, DATA_ROW_Y, sx, sy)):
        if abs(mean - threshold) < margin:
            return None
        if mean > threshold:
            number |= 1 << i
    return number

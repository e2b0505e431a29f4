"""Anchor points of anchor-free YOLO heads: one per cell of each stride's grid."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["DEFAULT_STRIDES", "anchor_grid"]

DEFAULT_STRIDES = (8, 16, 32)


def anchor_grid(
    input_wh: tuple[int, int], strides: tuple[int, ...] = DEFAULT_STRIDES
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Cell indices and strides of every anchor, in the heads' output order.

    For each stride, cells run row by row (y outer, x inner), as the YOLOX and
    YOLOv8 heads flatten their feature maps.

    Args:
        input_wh: Network input (width, height) in pixels.
        strides: Downsampling factor of each head level.

    Returns:
        ``grid_xy`` (A, 2) cell column/row indices and ``stride`` (A, 1) pixels.

    Examples:
        >>> grid, stride = anchor_grid((32, 16), (16,))
        >>> grid.tolist(), stride.ravel().tolist()
        ([[0.0, 0.0], [1.0, 0.0]], [16.0, 16.0])
        >>> anchor_grid((416, 416))[0].shape
        (3549, 2)
    """
    width, height = input_wh
    grids = []
    steps = []
    for stride in strides:
        rows, cols = height // stride, width // stride
        y, x = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        grids.append(np.stack((x, y), axis=2).reshape(-1, 2))
        steps.append(np.full((rows * cols, 1), stride))
    return (
        np.concatenate(grids).astype(np.float32),
        np.concatenate(steps).astype(np.float32),
    )

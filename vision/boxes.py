"""Box maths on (N, 4) numpy arrays: conversions, IoU, clipping and NMS.

All boxes are float arrays in pixels with the origin at the top-left corner.
``xyxy`` is (x_min, y_min, x_max, y_max); ``cxcywh`` is (centre x, centre y,
width, height). Functions never modify their inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ScoredBoxes",
    "box_area",
    "class_aware_nms",
    "clip_xyxy",
    "cxcywh_to_xyxy",
    "iou_matrix",
    "nms",
]

FloatArray = NDArray[np.float32]
IndexArray = NDArray[np.intp]


@dataclass(frozen=True, slots=True, eq=False)
class ScoredBoxes:
    """Candidate boxes of one image, before or after NMS.

    Attributes:
        xyxy: (N, 4) float32 boxes in pixels.
        scores: (N,) float32 confidences 0-1.
        class_ids: (N,) intp class indices.
    """

    xyxy: FloatArray
    scores: FloatArray
    class_ids: IndexArray

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def take(self, index: IndexArray | NDArray[np.bool_]) -> ScoredBoxes:
        """Return the subset selected by an index or boolean mask, in that order."""
        return ScoredBoxes(self.xyxy[index], self.scores[index], self.class_ids[index])

    @staticmethod
    def empty() -> ScoredBoxes:
        """Return a set of zero boxes."""
        return ScoredBoxes(
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.intp),
        )


def cxcywh_to_xyxy(cxcywh: NDArray[np.floating]) -> FloatArray:
    """Convert centre/size boxes to corner boxes.

    Args:
        cxcywh: (N, 4) boxes as (centre x, centre y, width, height).

    Returns:
        (N, 4) float32 boxes as (x_min, y_min, x_max, y_max).

    Examples:
        >>> cxcywh_to_xyxy(np.array([[10, 20, 4, 6]])).tolist()
        [[8.0, 17.0, 12.0, 23.0]]
    """
    boxes = np.asarray(cxcywh, dtype=np.float32)
    half = boxes[:, 2:4] / 2
    return np.concatenate((boxes[:, 0:2] - half, boxes[:, 0:2] + half), axis=1)


def box_area(xyxy: NDArray[np.floating]) -> FloatArray:
    """Area of each box in square pixels; inverted boxes count as zero.

    Examples:
        >>> box_area(np.array([[0, 0, 2, 3], [5, 5, 4, 4]])).tolist()
        [6.0, 0.0]
    """
    boxes = np.asarray(xyxy, dtype=np.float32)
    wh = np.clip(boxes[:, 2:4] - boxes[:, 0:2], 0, None)
    area: FloatArray = (wh[:, 0] * wh[:, 1]).astype(np.float32)
    return area


def iou_matrix(
    a_xyxy: NDArray[np.floating], b_xyxy: NDArray[np.floating]
) -> FloatArray:
    """Intersection over union of every box in ``a`` with every box in ``b``.

    Args:
        a_xyxy: (N, 4) boxes.
        b_xyxy: (M, 4) boxes.

    Returns:
        (N, M) float32 IoU values in 0-1; 0 where both boxes are empty.

    Examples:
        >>> a = np.array([[0, 0, 2, 2]])
        >>> b = np.array([[1, 0, 3, 2], [0, 0, 2, 2], [5, 5, 6, 6]])
        >>> [[round(v, 3) for v in row] for row in iou_matrix(a, b).tolist()]
        [[0.333, 1.0, 0.0]]
    """
    a = np.asarray(a_xyxy, dtype=np.float32)
    b = np.asarray(b_xyxy, dtype=np.float32)
    top_left = np.maximum(a[:, None, 0:2], b[None, :, 0:2])
    bottom_right = np.minimum(a[:, None, 2:4], b[None, :, 2:4])
    wh = np.clip(bottom_right - top_left, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    out: FloatArray = np.zeros_like(inter, dtype=np.float32)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def clip_xyxy(xyxy: NDArray[np.floating], image_wh: tuple[int, int]) -> FloatArray:
    """Clip boxes to the image rectangle [0, width] x [0, height].

    Examples:
        >>> clip_xyxy(np.array([[-5, 10, 700, 90]]), (640, 80)).tolist()
        [[0.0, 10.0, 640.0, 80.0]]
    """
    boxes = np.array(xyxy, dtype=np.float32)
    width, height = image_wh
    np.clip(boxes[:, 0::2], 0, width, out=boxes[:, 0::2])
    np.clip(boxes[:, 1::2], 0, height, out=boxes[:, 1::2])
    return boxes


def nms(
    xyxy: NDArray[np.floating],
    scores: NDArray[np.floating],
    iou_threshold: float,
    max_keep: int | None = None,
) -> IndexArray:
    """Greedy non-maximum suppression, class-agnostic.

    Boxes are visited from the highest score down; each kept box suppresses every
    remaining box whose IoU with it exceeds ``iou_threshold``. The IoU of one kept
    box against all remaining boxes is computed in one vectorised step. Ties in
    score keep the earlier index (stable sort).

    Args:
        xyxy: (N, 4) boxes.
        scores: (N,) scores.
        iou_threshold: Suppress when IoU is strictly greater than this (0-1).
        max_keep: Stop after this many boxes; ``None`` keeps all survivors.

    Returns:
        Indices into the inputs of the kept boxes, highest score first.

    Examples:
        >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]])
        >>> nms(boxes, np.array([0.9, 0.8, 0.7]), 0.5).tolist()
        [0, 2]
        >>> nms(boxes, np.array([0.9, 0.8, 0.7]), 0.9).tolist()
        [0, 1, 2]
    """
    boxes = np.asarray(xyxy, dtype=np.float32)
    order = np.argsort(-np.asarray(scores, dtype=np.float32), kind="stable")
    keep: list[int] = []
    limit = len(order) if max_keep is None else max_keep
    while order.size > 0 and len(keep) < limit:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        if rest.size == 0:
            break
        overlaps = iou_matrix(boxes[best : best + 1], boxes[rest])[0]
        order = rest[overlaps <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)


def class_aware_nms(
    candidates: ScoredBoxes, iou_threshold: float, max_keep: int | None = None
) -> ScoredBoxes:
    """NMS in which boxes of different classes never suppress each other.

    Each class's boxes are shifted by a class-specific offset larger than any
    coordinate, so one class-agnostic pass keeps classes apart (the offset
    trick used by YOLOX and torchvision's ``batched_nms``).

    Args:
        candidates: Boxes, scores and class ids of one image.
        iou_threshold: See :func:`nms`.
        max_keep: See :func:`nms`.

    Returns:
        The kept boxes, highest score first.

    Examples:
        >>> c = ScoredBoxes(
        ...     np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32),
        ...     np.array([0.9, 0.8], np.float32),
        ...     np.array([0, 1], np.intp),
        ... )
        >>> class_aware_nms(c, 0.5).class_ids.tolist()
        [0, 1]
    """
    if len(candidates) == 0:
        return candidates
    span = float(np.abs(candidates.xyxy).max()) + 1.0
    offsets = candidates.class_ids.astype(np.float32)[:, None] * span
    kept = nms(candidates.xyxy + offsets, candidates.scores, iou_threshold, max_keep)
    return candidates.take(kept)

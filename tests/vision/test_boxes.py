"""Box maths: conversions, IoU, clipping, greedy and class-aware NMS."""

from __future__ import annotations

import numpy as np
import pytest

from vision.boxes import (
    ScoredBoxes,
    box_area,
    class_aware_nms,
    clip_xyxy,
    cxcywh_to_xyxy,
    iou_matrix,
    nms,
)

Box = tuple[float, float, float, float]


@pytest.mark.parametrize(
    ("cxcywh", "xyxy"),
    [
        ((10, 20, 4, 6), (8, 17, 12, 23)),
        ((0, 0, 0, 0), (0, 0, 0, 0)),
        ((5.5, 5.5, 1, 3), (5, 4, 6, 7)),
    ],
)
def test_cxcywh_to_xyxy(cxcywh: Box, xyxy: Box) -> None:
    assert cxcywh_to_xyxy(np.array([cxcywh])).tolist() == [list(map(float, xyxy))]


def test_conversions_keep_an_empty_shape() -> None:
    assert cxcywh_to_xyxy(np.zeros((0, 4))).shape == (0, 4)
    assert box_area(np.zeros((0, 4))).shape == (0,)
    assert iou_matrix(np.zeros((0, 4)), np.zeros((3, 4))).shape == (0, 3)


@pytest.mark.parametrize(
    ("a", "b", "iou"),
    [
        ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
        ((0, 0, 10, 10), (5, 0, 15, 10), 50 / 150),
        ((0, 0, 10, 10), (10, 0, 20, 10), 0.0),  # touching edges
        ((0, 0, 10, 10), (2, 2, 4, 4), 4 / 100),  # nested
        ((0, 0, 10, 10), (20, 20, 30, 30), 0.0),
        ((0, 0, 0, 0), (0, 0, 0, 0), 0.0),  # empty boxes, no division by zero
    ],
)
def test_iou_table(a: Box, b: Box, iou: float) -> None:
    got = iou_matrix(np.array([a]), np.array([b]))
    assert got.shape == (1, 1)
    assert got[0, 0] == pytest.approx(iou, abs=1e-6)
    assert iou_matrix(np.array([b]), np.array([a]))[0, 0] == pytest.approx(
        iou, abs=1e-6
    )


@pytest.mark.parametrize(
    ("boxes", "scores", "threshold", "kept"),
    [
        # one duplicate suppressed, one separate box survives
        (
            [(0, 0, 10, 10), (1, 1, 11, 11), (20, 20, 30, 30)],
            [0.9, 0.8, 0.7],
            0.5,
            [0, 2],
        ),
        # order is by score, not by index
        ([(0, 0, 10, 10), (1, 1, 11, 11)], [0.3, 0.8], 0.5, [1]),
        # IoU exactly at the threshold is kept (suppress only when greater)
        ([(0, 0, 10, 10), (0, 0, 10, 5)], [0.9, 0.8], 0.5, [0, 1]),
        ([(0, 0, 10, 10), (0, 0, 10, 5)], [0.9, 0.8], 0.49, [0]),
        # chain: B suppressed by A, so C (overlapping only B) survives
        (
            [(0, 0, 10, 10), (6, 0, 16, 10), (12, 0, 22, 10)],
            [0.9, 0.8, 0.7],
            0.2,
            [0, 2],
        ),
        # equal scores: the earlier index wins
        ([(0, 0, 10, 10), (0, 0, 10, 10)], [0.5, 0.5], 0.5, [0]),
        ([], [], 0.5, []),
    ],
)
def test_nms_table(
    boxes: list[Box], scores: list[float], threshold: float, kept: list[int]
) -> None:
    xyxy = np.array(boxes, dtype=np.float32).reshape(-1, 4)
    assert nms(xyxy, np.array(scores), threshold).tolist() == kept


def test_nms_max_keep() -> None:
    boxes = np.array([(0, 0, 1, 1), (5, 5, 6, 6), (9, 9, 10, 10)], dtype=np.float32)
    assert nms(boxes, np.array([0.1, 0.9, 0.5]), 0.5, max_keep=2).tolist() == [1, 2]


def test_class_aware_nms_keeps_classes_apart() -> None:
    same_place = [(0, 0, 10, 10), (0, 0, 10, 10), (1, 1, 10, 10)]
    candidates = ScoredBoxes(
        np.array(same_place, np.float32),
        np.array([0.9, 0.8, 0.7], np.float32),
        np.array([0, 1, 0], np.intp),
    )
    kept = class_aware_nms(candidates, 0.5)
    assert kept.class_ids.tolist() == [0, 1]
    assert kept.scores.tolist() == pytest.approx([0.9, 0.8])
    assert len(class_aware_nms(ScoredBoxes.empty(), 0.5)) == 0


@pytest.mark.parametrize(
    ("box", "wh", "clipped"),
    [
        ((-5, 10, 700, 90), (640, 80), (0, 10, 640, 80)),
        ((1, 2, 3, 4), (640, 480), (1, 2, 3, 4)),
        ((-10, -10, -5, -5), (640, 480), (0, 0, 0, 0)),
    ],
)
def test_clip_table(box: Box, wh: tuple[int, int], clipped: Box) -> None:
    source = np.array([box], dtype=np.float32)
    assert clip_xyxy(source, wh).tolist() == [list(map(float, clipped))]
    assert source.tolist() == [list(map(float, box))]  # input untouched

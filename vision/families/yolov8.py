"""Ultralytics YOLOv8-format decoding: output (4 + C, A) per image, no objectness.

Rows 0-3 are box centre x, centre y, width and height in network-input pixels
(already decoded by the graph); rows 4.. are class scores. The image is
letterboxed in the centre.
"""

from __future__ import annotations

import numpy as np

from vision.boxes import ScoredBoxes, cxcywh_to_xyxy
from vision.families.decoder import ClassMask, Decoder, RawOutput, SizeWH
from vision.letterbox import LetterboxAlign

__all__ = ["Yolov8Decoder"]


class Yolov8Decoder(Decoder):
    """Decoder for YOLOv8/YOLO11 detection exports shaped (4 + C, A) per image.

    Score = best class score.

    Attributes:
        input_wh: Nominal network input (width, height) in pixels.
        num_classes: Number of class rows C.

    Examples:
        >>> dec = Yolov8Decoder((32, 32), 2, strides=(32,))
        >>> raw = np.array([[16], [16], [8], [4], [0.1], [0.6]], np.float32)
        >>> got = dec.candidates(raw, 0.25)
        >>> got.xyxy.tolist(), [round(s, 2) for s in got.scores.tolist()]
        ([[12.0, 14.0, 20.0, 18.0]], [0.6])
        >>> got.class_ids.tolist()
        [1]
    """

    @property
    def num_anchors(self) -> int:
        """Number of anchor columns A at the nominal size."""
        return self.anchors_for(self.input_wh)

    @property
    def align(self) -> LetterboxAlign:
        """Ultralytics letterboxes in the centre."""
        return "centre"

    def output_shape_for(self, input_wh: SizeWH) -> tuple[int, int]:
        """(4 + classes, anchors) for an input of ``input_wh`` pixels."""
        return 4 + self.num_classes, self.anchors_for(input_wh)

    def _decode(
        self, raw: RawOutput, min_score: float, mask: ClassMask, wh: SizeWH
    ) -> ScoredBoxes:
        class_scores = raw[4:]
        if mask is not None:
            class_scores = np.where(mask[:, None], class_scores, np.float32(0))
        best = class_scores.max(axis=0)
        cols = np.flatnonzero(best >= min_score)
        if cols.size == 0:
            return ScoredBoxes.empty()
        class_ids = class_scores[:, cols].argmax(axis=0).astype(np.intp)
        xyxy = cxcywh_to_xyxy(raw[0:4, cols].T)
        return ScoredBoxes(xyxy, best[cols].astype(np.float32), class_ids)

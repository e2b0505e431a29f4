"""Ultralytics YOLOv8-format decoding: output (4 + C, A) per image, no objectness.

Rows 0-3 are box centre x, centre y, width and height in network-input pixels
(already decoded by the graph); rows 4.. are class scores. The image is
letterboxed in the centre.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from vision.boxes import ScoredBoxes, cxcywh_to_xyxy
from vision.families.anchors import DEFAULT_STRIDES
from vision.letterbox import LetterboxAlign

__all__ = ["Yolov8Decoder"]


class Yolov8Decoder:
    """Decoder for YOLOv8/YOLO11 detection exports shaped (4 + C, A) per image.

    Attributes:
        input_wh: Nominal network input (width, height) in pixels.
        num_classes: Number of class rows C.
        num_anchors: Number of anchor columns A at the nominal size (one per
            cell of every stride).
    """

    def __init__(
        self,
        input_wh: tuple[int, int],
        num_classes: int,
        strides: tuple[int, ...] = DEFAULT_STRIDES,
    ) -> None:
        self.input_wh = input_wh
        self.num_classes = num_classes
        self._strides = strides
        self.num_anchors = self.output_shape_for(input_wh)[1]

    @property
    def align(self) -> LetterboxAlign:
        """Ultralytics letterboxes in the centre."""
        return "centre"

    @property
    def output_shape(self) -> tuple[int, int]:
        """(4 + classes, anchors) at the nominal input size."""
        return 4 + self.num_classes, self.num_anchors

    def output_shape_for(self, input_wh: tuple[int, int]) -> tuple[int, int]:
        """(4 + classes, anchors) for an input of ``input_wh`` pixels."""
        width, height = input_wh
        anchors = sum((width // s) * (height // s) for s in self._strides)
        return 4 + self.num_classes, anchors

    def candidates(
        self,
        output: NDArray[np.float32],
        score_threshold: float,
        class_mask: NDArray[np.bool_] | None = None,
        input_wh: tuple[int, int] | None = None,
    ) -> ScoredBoxes:
        """Decode one image; score = best class score.

        Args:
            output: (4 + C, A) predictions of one image.
            score_threshold: Minimum score, 0-1.
            class_mask: (C,) booleans of the classes to consider, or ``None``.
            input_wh: The input size the image was run at; ``None`` is the
                nominal size.

        Returns:
            Candidate boxes in network-input pixels.

        Raises:
            ValueError: If ``output`` does not have :attr:`output_shape`.

        Examples:
            >>> dec = Yolov8Decoder((32, 32), 2, strides=(32,))
            >>> raw = np.array([[16], [16], [8], [4], [0.1], [0.6]], np.float32)
            >>> got = dec.candidates(raw, 0.25)
            >>> got.xyxy.tolist(), [round(s, 2) for s in got.scores.tolist()]
            ([[12.0, 14.0, 20.0, 18.0]], [0.6])
            >>> got.class_ids.tolist()
            [1]
        """
        expected = self.output_shape_for(input_wh or self.input_wh)
        if output.shape != expected:
            raise ValueError(f"expected output {expected}, got {output.shape}")
        class_scores = output[4:]
        if class_mask is not None:
            class_scores = np.where(class_mask[:, None], class_scores, np.float32(0))
        best = class_scores.max(axis=0)
        cols = np.flatnonzero(best >= score_threshold)
        if cols.size == 0:
            return ScoredBoxes.empty()
        class_ids = class_scores[:, cols].argmax(axis=0).astype(np.intp)
        xyxy = cxcywh_to_xyxy(output[0:4, cols].T)
        return ScoredBoxes(xyxy, best[cols].astype(np.float32), class_ids)

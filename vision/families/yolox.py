"""YOLOX raw-grid decoding (Megvii YOLOX exported with ``decode_in_inference=False``).

Per anchor the network outputs (dx, dy, log w, log h, objectness, C class
probabilities); objectness and class columns are already sigmoid-activated.
Box centres are ``(dx + cell) * stride`` and sizes ``exp(log w) * stride``, in
network-input pixels. The image is letterboxed at the top-left corner.
"""

from __future__ import annotations

import numpy as np

from vision.boxes import ScoredBoxes, cxcywh_to_xyxy
from vision.families.decoder import ClassMask, Decoder, RawOutput, SizeWH
from vision.letterbox import LetterboxAlign

__all__ = ["YoloxDecoder"]

# exp() of a raw log-size beyond this would overflow float32 (exp(88.7)); real
# boxes are far smaller, garbage ones are clipped to the image later anyway.
_MAX_LOG_SIZE = 30.0


class YoloxDecoder(Decoder):
    """Decoder for YOLOX raw grid outputs shaped (A, 5 + C) per image.

    Score = objectness x best class probability.

    Attributes:
        input_wh: Nominal network input (width, height) in pixels.
        num_classes: Number of class columns C.

    Examples:
        >>> dec = YoloxDecoder((32, 32), 2, strides=(32,))
        >>> raw = np.array([[0.5, 0.5, 0.0, 0.0, 0.9, 0.2, 0.8]], np.float32)
        >>> got = dec.candidates(raw, 0.25)
        >>> got.xyxy.tolist(), [round(s, 2) for s in got.scores.tolist()]
        ([[0.0, 0.0, 32.0, 32.0]], [0.72])
        >>> got.class_ids.tolist()
        [1]
    """

    @property
    def align(self) -> LetterboxAlign:
        """YOLOX letterboxes at the top-left corner (padding right and bottom)."""
        return "top_left"

    def output_shape_for(self, input_wh: SizeWH) -> tuple[int, int]:
        """(anchors, 5 + classes) for an input of ``input_wh`` pixels."""
        return self.anchors_for(input_wh), 5 + self.num_classes

    def _decode(
        self, raw: RawOutput, min_score: float, mask: ClassMask, wh: SizeWH
    ) -> ScoredBoxes:
        grid_xy, strides = self._grid(wh)
        # Class probabilities are <= 1, so obj x cls >= t needs obj >= t: filter
        # on objectness first and touch only a few rows of the 85 columns.
        rows = np.flatnonzero(raw[:, 4] >= min_score)
        if rows.size == 0:
            return ScoredBoxes.empty()
        selected = raw[rows]
        class_probs = selected[:, 5:]
        if mask is not None:
            class_probs = np.where(mask, class_probs, np.float32(0))
        class_ids = class_probs.argmax(axis=1)
        best = class_probs[np.arange(rows.size), class_ids]
        scores = (selected[:, 4] * best).astype(np.float32)
        keep = scores >= min_score
        if not keep.any():
            return ScoredBoxes.empty()
        rows, selected = rows[keep], selected[keep]
        stride = strides[rows]
        centre = (selected[:, 0:2] + grid_xy[rows]) * stride
        size = np.exp(np.minimum(selected[:, 2:4], _MAX_LOG_SIZE)) * stride
        xyxy = cxcywh_to_xyxy(np.concatenate((centre, size), axis=1))
        return ScoredBoxes(xyxy, scores[keep], class_ids[keep].astype(np.intp))

"""YOLOX raw-grid decoding (Megvii YOLOX exported with ``decode_in_inference=False``).

Per anchor the network outputs (dx, dy, log w, log h, objectness, C class
probabilities); objectness and class columns are already sigmoid-activated.
Box centres are ``(dx + cell) * stride`` and sizes ``exp(log w) * stride``, in
network-input pixels. The image is letterboxed at the top-left corner.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from vision.boxes import ScoredBoxes, cxcywh_to_xyxy
from vision.families.anchors import DEFAULT_STRIDES, anchor_grid
from vision.letterbox import LetterboxAlign

__all__ = ["YoloxDecoder"]

# exp() of a raw log-size beyond this would overflow float32 (exp(88.7)); real
# boxes are far smaller, garbage ones are clipped to the image later anyway.
_MAX_LOG_SIZE = 30.0


class YoloxDecoder:
    """Decoder for YOLOX raw grid outputs shaped (A, 5 + C) per image.

    The anchor grid and strides are computed once per input size: a model with
    a dynamic input takes canvases smaller than its nominal size.

    Attributes:
        input_wh: Nominal network input (width, height) in pixels.
        num_classes: Number of class columns C.
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
        self._grids: dict[
            tuple[int, int], tuple[NDArray[np.float32], NDArray[np.float32]]
        ] = {}

    def _grid(
        self, input_wh: tuple[int, int]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        grid = self._grids.get(input_wh)
        if grid is None:
            # few sizes ever occur (one per camera aspect), so no eviction
            grid = self._grids[input_wh] = anchor_grid(input_wh, self._strides)
        return grid

    @property
    def align(self) -> LetterboxAlign:
        """YOLOX letterboxes at the top-left corner (padding right and bottom)."""
        return "top_left"

    @property
    def output_shape(self) -> tuple[int, int]:
        """(anchors, 5 + classes) at the nominal input size."""
        return self.output_shape_for(self.input_wh)

    def output_shape_for(self, input_wh: tuple[int, int]) -> tuple[int, int]:
        """(anchors, 5 + classes) for an input of ``input_wh`` pixels."""
        return int(self._grid(input_wh)[0].shape[0]), 5 + self.num_classes

    def candidates(
        self,
        output: NDArray[np.float32],
        score_threshold: float,
        class_mask: NDArray[np.bool_] | None = None,
        input_wh: tuple[int, int] | None = None,
    ) -> ScoredBoxes:
        """Decode one image; score = objectness x best class probability.

        Args:
            output: (A, 5 + C) raw predictions of one image.
            score_threshold: Minimum score, 0-1.
            class_mask: (C,) booleans of the classes to consider, or ``None``.
            input_wh: The input size the image was run at; ``None`` is the
                nominal size.

        Returns:
            Candidate boxes in network-input pixels.

        Raises:
            ValueError: If ``output`` does not have :attr:`output_shape`.

        Examples:
            >>> dec = YoloxDecoder((32, 32), 2, strides=(32,))
            >>> raw = np.array([[0.5, 0.5, 0.0, 0.0, 0.9, 0.2, 0.8]], np.float32)
            >>> got = dec.candidates(raw, 0.25)
            >>> got.xyxy.tolist(), [round(s, 2) for s in got.scores.tolist()]
            ([[0.0, 0.0, 32.0, 32.0]], [0.72])
            >>> got.class_ids.tolist()
            [1]
        """
        grid_xy, strides = self._grid(input_wh or self.input_wh)
        expected = (int(grid_xy.shape[0]), 5 + self.num_classes)
        if output.shape != expected:
            raise ValueError(f"expected output {expected}, got {output.shape}")
        # Class probabilities are <= 1, so obj x cls >= t needs obj >= t: filter
        # on objectness first and touch only a few rows of the 85 columns.
        rows = np.flatnonzero(output[:, 4] >= score_threshold)
        if rows.size == 0:
            return ScoredBoxes.empty()
        selected = output[rows]
        class_probs = selected[:, 5:]
        if class_mask is not None:
            class_probs = np.where(class_mask, class_probs, np.float32(0))
        class_ids = class_probs.argmax(axis=1)
        best = class_probs[np.arange(rows.size), class_ids]
        scores = (selected[:, 4] * best).astype(np.float32)
        keep = scores >= score_threshold
        if not keep.any():
            return ScoredBoxes.empty()
        rows, selected = rows[keep], selected[keep]
        stride = strides[rows]
        centre = (selected[:, 0:2] + grid_xy[rows]) * stride
        size = np.exp(np.minimum(selected[:, 2:4], _MAX_LOG_SIZE)) * stride
        xyxy = cxcywh_to_xyxy(np.concatenate((centre, size), axis=1))
        return ScoredBoxes(xyxy, scores[keep], class_ids[keep].astype(np.intp))

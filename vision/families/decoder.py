"""What every model family's decoder does: sizes, anchor grids, the shape check.

A family subclasses :class:`Decoder` and says where its images sit in the
letterbox (:attr:`Decoder.align`), what one image's output looks like at an
input size (:meth:`Decoder.output_shape_for`) and how a checked output becomes
boxes (``_decode``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from vision.boxes import ScoredBoxes
from vision.families.anchors import DEFAULT_STRIDES, anchor_grid
from vision.letterbox import LetterboxAlign

__all__ = ["AnchorGrid", "ClassMask", "Decoder", "RawOutput", "SizeWH"]

RawOutput = NDArray[np.float32]
"""One image's raw network output."""
ClassMask = NDArray[np.bool_] | None
"""(C,) booleans: only classes marked True count; ``None`` counts every class."""
SizeWH = tuple[int, int]
"""A network input (width, height) in pixels."""
AnchorGrid = tuple[NDArray[np.float32], NDArray[np.float32]]
"""Cell indices (A, 2) and strides (A, 1) of every anchor."""


class Decoder:
    """Decodes one image's raw network output into candidate boxes.

    The anchor grid is computed once per input size: a model with a dynamic
    input takes canvases smaller than its nominal size.

    Attributes:
        input_wh: Nominal network input (width, height) in pixels.
        num_classes: Number of classes C.
    """

    def __init__(
        self,
        input_wh: SizeWH,
        num_classes: int,
        strides: tuple[int, ...] = DEFAULT_STRIDES,
    ) -> None:
        self.input_wh = input_wh
        self.num_classes = num_classes
        self._strides = strides
        self._grids: dict[SizeWH, AnchorGrid] = {}

    def _grid(
        self, input_wh: SizeWH
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        grid = self._grids.get(input_wh)
        if grid is None:
            # few sizes ever occur (one per camera aspect), so no eviction
            grid = self._grids[input_wh] = anchor_grid(input_wh, self._strides)
        return grid

    def anchors_for(self, input_wh: SizeWH) -> int:
        """Number of anchors (one per cell of every stride) at an input size."""
        return int(self._grid(input_wh)[0].shape[0])

    @property
    def align(self) -> LetterboxAlign:
        """Letterbox placement the family was trained with."""
        raise NotImplementedError

    @property
    def output_shape(self) -> tuple[int, int]:
        """Shape of one image's output (without the batch) at the nominal size."""
        return self.output_shape_for(self.input_wh)

    def output_shape_for(self, input_wh: SizeWH) -> tuple[int, int]:
        """Shape of one image's output for an input of ``input_wh`` pixels."""
        raise NotImplementedError

    def candidates(
        self,
        output: RawOutput,
        score_threshold: float,
        class_mask: ClassMask = None,
        input_wh: SizeWH | None = None,
    ) -> ScoredBoxes:
        """Boxes (network-input pixels) scoring at least ``score_threshold``.

        Args:
            output: One image's raw output, shaped :attr:`output_shape` (or
                :meth:`output_shape_for` ``input_wh``).
            score_threshold: Minimum score, 0-1.
            class_mask: (C,) booleans; only classes marked True are considered.
                ``None`` considers every class.
            input_wh: The input size the image was run at (a dynamic-input
                model); ``None`` is the nominal size.

        Returns:
            Candidates before NMS, one per anchor at most (its best class).

        Raises:
            ValueError: If ``output`` does not have the expected shape.
        """
        wh = input_wh or self.input_wh
        expected = self.output_shape_for(wh)
        if output.shape != expected:
            raise ValueError(f"expected output {expected}, got {output.shape}")
        return self._decode(output, score_threshold, class_mask, wh)

    def _decode(
        self, raw: RawOutput, min_score: float, mask: ClassMask, wh: SizeWH
    ) -> ScoredBoxes:
        raise NotImplementedError

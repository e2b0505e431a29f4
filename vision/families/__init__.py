"""Model families: how each detector's raw output becomes candidate boxes.

One module per family. :func:`make_decoder` picks the decoder named by a
manifest's ``family``; the decoder also says how frames must be letterboxed.
"""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from vision.boxes import ScoredBoxes
from vision.families.yolov8 import Yolov8Decoder
from vision.families.yolox import YoloxDecoder
from vision.letterbox import LetterboxAlign

__all__ = ["Decoder", "Family", "Yolov8Decoder", "YoloxDecoder", "make_decoder"]

Family = Literal["yolox", "yolov8"]


class Decoder(Protocol):
    """Decodes one image's raw network output into candidate boxes."""

    @property
    def align(self) -> LetterboxAlign:
        """Letterbox placement the family was trained with."""
        ...

    @property
    def output_shape(self) -> tuple[int, int]:
        """Shape of one image's output (without the batch dimension)."""
        ...

    def output_shape_for(self, input_wh: tuple[int, int]) -> tuple[int, int]:
        """Shape of one image's output for an input of ``input_wh`` pixels."""
        ...

    def candidates(
        self,
        output: NDArray[np.float32],
        score_threshold: float,
        class_mask: NDArray[np.bool_] | None = None,
        input_wh: tuple[int, int] | None = None,
    ) -> ScoredBoxes:
        """Boxes (network-input pixels) scoring at least ``score_threshold``.

        Args:
            output: One image's raw output, shaped :attr:`output_shape`.
            score_threshold: Minimum score, 0-1.
            class_mask: (C,) booleans; only classes marked True are considered.
                ``None`` considers every class.
            input_wh: The input size the image was run at (a dynamic-input
                model); ``None`` is the nominal size.

        Returns:
            Candidates before NMS, one per anchor at most (its best class).
        """
        ...


def make_decoder(
    family: Family, input_wh: tuple[int, int], num_classes: int
) -> Decoder:
    """Build the decoder for a model family and input size.

    Args:
        family: The manifest's ``family``.
        input_wh: Network input (width, height) in pixels.
        num_classes: Number of labels in the manifest.

    Returns:
        A decoder with its grids precomputed for ``input_wh``.

    Examples:
        >>> make_decoder("yolox", (416, 416), 80).output_shape
        (3549, 85)
        >>> make_decoder("yolov8", (640, 640), 80).output_shape
        (84, 8400)
    """
    if family == "yolox":
        return YoloxDecoder(input_wh, num_classes)
    return Yolov8Decoder(input_wh, num_classes)

"""Model families: how each detector's raw output becomes candidate boxes.

One module per family, each a :class:`Decoder`. :func:`make_decoder` picks the
decoder named by a manifest's ``family``; the decoder also says how frames
must be letterboxed.
"""

from __future__ import annotations

from typing import Literal

from vision.families.decoder import Decoder
from vision.families.yolov8 import Yolov8Decoder
from vision.families.yolox import YoloxDecoder

__all__ = ["Decoder", "Family", "Yolov8Decoder", "YoloxDecoder", "make_decoder"]

Family = Literal["yolox", "yolov8"]


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

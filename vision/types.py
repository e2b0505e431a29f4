"""Value objects of detection: detections, model identity and per-frame results."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Detection", "FrameResult", "ModelIdentity", "xyxy_array"]


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    """Which model produced a detection (X5).

    Attributes:
        name: Model name from the manifest.
        version: Model revision from the manifest.
        sha256: SHA-256 of the weights as pinned in the manifest. A derived
            dynamic-batch file carries the same weights and the same identity.
    """

    name: str
    version: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Detection:
    """One detected object in one frame.

    Attributes:
        label: Class name from the manifest's ``labels``.
        class_id: Index of ``label`` in the model's outputs.
        score: Confidence 0-1 (objectness x class probability for YOLOX).
        xyxy: Box (x_min, y_min, x_max, y_max) in source-image pixels, origin
            top-left, clipped to the image.
    """

    label: str
    class_id: int
    score: float
    xyxy: tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class FrameResult:
    """Detections of one camera frame with their provenance.

    Attributes:
        camera_id: Camera the frame came from.
        detections: Objects found, highest score first.
        model: The model that found them.
        frame_age_s: Age of the frame when it was analysed (capture to result).
        frame_wh: Source frame (width, height) in pixels.
        captured_monotonic_s: Monotonic capture time of the frame.
    """

    camera_id: str
    detections: tuple[Detection, ...]
    model: ModelIdentity
    frame_age_s: float
    frame_wh: tuple[int, int]
    captured_monotonic_s: float


def xyxy_array(
    detections: tuple[Detection, ...] | list[Detection],
) -> NDArray[np.float32]:
    """Stack detection boxes into an (N, 4) array for vectorised zone maths.

    Args:
        detections: Detections in any order.

    Returns:
        float32 array of shape (N, 4), xyxy in source pixels; (0, 4) if empty.

    Examples:
        >>> d = Detection("person", 0, 0.9, (1.0, 2.0, 3.0, 4.0))
        >>> xyxy_array([d, d]).tolist()
        [[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]]
        >>> xyxy_array([]).shape
        (0, 4)
    """
    if not detections:
        return np.zeros((0, 4), dtype=np.float32)
    return np.asarray([d.xyxy for d in detections], dtype=np.float32)

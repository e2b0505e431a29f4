"""Motion gating: skip inference on a camera whose picture has not changed.

Most sky-net cameras watch still streets most of the time. Comparing a tiny
grey thumbnail of each analysed frame with the one the model last saw costs
microseconds; running the model costs about 10 ms per frame. When the picture
has not changed, the previous detections still describe it, so the rules step
on them instead (counts and dwell times go on). Two safeguards keep gating
honest: a camera is re-inferred at least every ``max_skip_s`` however still
it looks (slow changes such as dusk, or a person standing still while the
light changes, are caught), and the reference is the thumbnail of the last
*inferred* frame, so a slow drift accumulates until it crosses the threshold
instead of hiding under many small frame-to-frame steps.

Pure and synchronous: thumbnails are small grey ``uint8`` arrays (the frame
adapter makes them from the decoder's luma plane).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["MotionRule", "MotionState", "step_motion"]

THUMB_WH = (64, 36)
"""Thumbnail size (width, height): 16:9 at a scale where a person in a
typical street view still covers a few pixels."""


@dataclass(frozen=True, slots=True)
class MotionRule:
    """When a picture counts as changed.

    Attributes:
        pixel_delta: Grey-level difference (0-255) at which a thumbnail pixel
            counts as changed; above sensor noise and compression flicker.
        changed_fraction: Fraction of thumbnail pixels that must change.
        max_skip_s: Longest time between two inferences of a camera.
    """

    pixel_delta: int = 12
    changed_fraction: float = 0.002
    max_skip_s: float = 2.0


@dataclass(frozen=True, slots=True)
class MotionState:
    """Per camera: the thumbnail the model last saw and when.

    Attributes:
        reference: Thumbnail of the last inferred frame (None before the first).
        inferred_at_s: Time of that frame.
        skipped: Frames gated out so far.
    """

    reference: NDArray[np.uint8] | None = None
    inferred_at_s: float = float("-inf")
    skipped: int = 0


def step_motion(
    rule: MotionRule, state: MotionState, thumb: NDArray[np.uint8], t: float
) -> tuple[MotionState, bool]:
    """Decide whether a frame needs the model.

    Args:
        rule: The thresholds.
        state: The camera's gate state.
        thumb: The frame's grey thumbnail (any fixed size).
        t: The frame's time in seconds.

    Returns:
        The new state and True when the frame must be inferred.

    Examples:
        >>> still = np.full((36, 64), 80, np.uint8)
        >>> state, run = step_motion(MotionRule(), MotionState(), still, 0.0)
        >>> run
        True
        >>> state, run = step_motion(MotionRule(), state, still.copy(), 0.2)
        >>> run, state.skipped
        (False, 1)
        >>> moved = still.copy(); moved[10:20, 10:20] = 200
        >>> step_motion(MotionRule(), state, moved, 0.4)[1]
        True
        >>> step_motion(MotionRule(), state, still, 2.5)[1]  # max_skip_s passed
        True
    """
    ref = state.reference
    if (
        ref is None
        or ref.shape != thumb.shape
        or t - state.inferred_at_s >= rule.max_skip_s
    ):
        return MotionState(thumb, t, state.skipped), True
    # int16: uint8 subtraction would wrap around
    delta = np.abs(thumb.astype(np.int16) - ref.astype(np.int16))
    changed = np.count_nonzero(delta >= rule.pixel_delta)
    if changed >= max(1, rule.changed_fraction * thumb.size):
        return MotionState(thumb, t, state.skipped), True
    return MotionState(ref, state.inferred_at_s, state.skipped + 1), False

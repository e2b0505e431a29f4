"""Getting a batch of decoded frames ready for the model (detector prep thread).

Per frame: the BGR picture (kept for rules, overlays and snapshots), the
motion gate's verdict when gating is on, and one letterboxed tensor of the
frames the model must see. Runs on the detector's prep thread; the camera
state it reads and returns belongs to cameras that are busy with this batch,
so nothing else touches it meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from devices.cameras.decoder import DecodedFrame
from vision.motion import THUMB_WH, MotionRule, MotionState, step_motion
from vision.pipeline import DetectionPipeline, PreparedBatch

__all__ = ["PreparedFrames", "prepare_frames"]


@dataclass(frozen=True, slots=True, eq=False)
class PreparedFrames:
    """One batch's frames, ready.

    Attributes:
        bgrs: Every frame's BGR picture, in order.
        batch: The letterboxed frames that need the model (None if none does).
        gates: Every camera's new motion-gate state, in order.
        inferred: Per frame, whether it is in ``batch``.
    """

    bgrs: list[NDArray[np.uint8]]
    batch: PreparedBatch | None
    gates: list[MotionState]
    inferred: list[bool]


def prepare_frames(
    pipeline: DetectionPipeline,
    frames: Sequence[DecodedFrame],
    gates: Sequence[MotionState],
    gating: MotionRule | None,
) -> PreparedFrames:
    """Convert, gate and letterbox one batch of frames.

    Args:
        pipeline: The model's pre- and postprocessing.
        frames: Decoded frames, one per camera.
        gates: Each camera's motion-gate state.
        gating: The motion rule, or None when gating is off (every frame is
            inferred and the gate states are returned unchanged).

    Returns:
        The pictures, the batch and the new gate states.
    """
    bgrs = [np.asarray(f.frame.to_ndarray(format="bgr24"), np.uint8) for f in frames]
    if gating is None:
        return PreparedFrames(
            bgrs, pipeline.preprocess(bgrs), list(gates), [True] * len(bgrs)
        )
    stepped = []
    w, h = THUMB_WH
    for frame, gate in zip(frames, gates, strict=True):
        # from the luma plane: no colour conversion needed
        thumb = frame.frame.reformat(width=w, height=h, format="gray")
        grey = np.asarray(thumb.to_ndarray(), np.uint8)
        stepped.append(step_motion(gating, gate, grey, frame.received_monotonic_s))
    inferred = [run for _, run in stepped]
    moving = [bgr for bgr, run in zip(bgrs, inferred, strict=True) if run]
    batch = pipeline.preprocess(moving) if moving else None
    return PreparedFrames(bgrs, batch, [state for state, _ in stepped], inferred)

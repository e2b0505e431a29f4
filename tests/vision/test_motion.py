"""Motion gating: when a frame needs the model (pure tables)."""

from __future__ import annotations

import numpy as np
import pytest

from vision.motion import MotionRule, MotionState, step_motion

STILL = np.full((36, 64), 80, np.uint8)
RULE = MotionRule(pixel_delta=12, changed_fraction=0.002, max_skip_s=2.0)


def _with(delta: int, pixels: int) -> np.ndarray:
    out = STILL.copy()
    out.reshape(-1)[:pixels] = np.clip(80 + delta, 0, 255)
    return out


@pytest.mark.parametrize(
    ("thumb", "t", "runs", "why"),
    [
        (STILL, 0.2, False, "identical picture"),
        (_with(11, 2304), 0.2, False, "every pixel 11 levels brighter: below delta"),
        (_with(12, 5), 0.2, True, "5 pixels (0.2 %) changed by delta: enough"),
        (_with(12, 4), 0.2, False, "4 pixels (0.17 %) changed: too few"),
        (_with(-40, 50), 0.2, True, "darker counts too (no uint8 wrap-around)"),
        (STILL, 2.0, True, "max_skip_s since the last inference"),
        (STILL[:18], 0.2, True, "a new thumbnail size (stream changed)"),
    ],
)
def test_after_one_inferred_frame(
    thumb: np.ndarray, t: float, runs: bool, why: str
) -> None:
    state, first = step_motion(RULE, MotionState(), STILL, 0.0)
    assert first  # the first frame of a camera is always inferred
    after, run = step_motion(RULE, state, thumb, t)
    assert run is runs, why
    assert after.skipped == (0 if runs else 1)
    if runs:  # the inferred frame becomes the new reference
        assert after.reference is thumb and after.inferred_at_s == t
    else:
        assert after.reference is STILL and after.inferred_at_s == 0.0


def test_a_slow_drift_adds_up_against_the_last_inferred_frame() -> None:
    # +4 grey levels per frame never crosses delta frame-to-frame, but the
    # reference stays the last inferred picture, so the third step triggers
    state, _ = step_motion(RULE, MotionState(), STILL, 0.0)
    runs = []
    for i in range(1, 5):
        state, run = step_motion(RULE, state, _with(4 * i, 2304), 0.2 * i)
        runs.append(run)
    assert runs == [False, False, True, False]
    assert state.skipped == 3


def test_max_skip_forces_inference_of_a_still_picture_periodically() -> None:
    state, ran = MotionState(), []
    for i in range(50):  # 10 s at 5 fps
        state, run = step_motion(RULE, state, STILL, 0.2 * i)
        ran.append(run)
    assert [i for i, r in enumerate(ran) if r] == [0, 10, 20, 30, 40]
    assert state.skipped == 45

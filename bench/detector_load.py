"""Shared pieces of the detector benchmarks: the models, the clip's pictures, the
bare model's throughput and the detection settings they run the service with."""

from __future__ import annotations

import threading
import time
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from bench.harness import clip_path
from tests.support.rtsp_server import REPO_ROOT
from vision.onnx.session import ModelSession
from wall.config.settings import ModelSettings
from wall.detection.settings import DetectionSettings

MODELS = ModelSettings(
    manifests_dir=REPO_ROOT / "models", cache_dir=REPO_ROOT / "models" / ".cache"
)
"""The repository's manifests and weights cache."""

# one crowd zone over the whole 640x360 sub stream that never raises an alarm
_WHOLE_PICTURE = {
    "id": "all",
    "kind": "crowd",
    "polygon": [[0, 0], [640, 0], [640, 360], [0, 360]],
    "crowding": {"warn_ppm2": None, "warn_count": 1000},
}


def clip_frames(n: int) -> list[NDArray[np.uint8]]:
    """The first ``n`` pictures of the sub clip as BGR arrays."""
    frames: list[NDArray[np.uint8]] = []
    with av.open(str(clip_path("test_sub.h264"))) as container:
        for frame in container.decode(video=0):
            frames.append(np.asarray(frame.to_ndarray(format="bgr24"), np.uint8))
            if len(frames) == n:
                break
    return frames


def raw_fps(
    session: ModelSession, tensor: NDArray[np.float32], seconds: float, workers: int
) -> float:
    """Frames per second of back-to-back ``session.run`` calls on one batch,
    from ``workers`` threads at once (as the detector's worker pool calls it)."""
    session.run(tensor)  # warm
    counts = [0] * workers
    t0 = time.perf_counter()

    def worker(i: int) -> None:
        while time.perf_counter() - t0 < seconds:
            session.run(tensor)
            counts[i] += tensor.shape[0]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def crowd_settings(cameras: list[str], **overrides: Any) -> DetectionSettings:
    """Detection on ``cameras``, one silent whole-picture crowd zone each.

    Args:
        cameras: Camera ids.
        **overrides: Other ``detection:`` keys (analysis_fps, workers, ...).
    """
    return DetectionSettings.model_validate(
        {
            "enabled": True,
            "snapshots": False,
            **overrides,
            "cameras": {c: {"zones": [_WHOLE_PICTURE]} for c in cameras},
        }
    )

"""Running batches of frames through the model, off the event loop (HS8).

Conversion to BGR, the motion gate, letterbox (into the smallest
stride-aligned canvas when the model's input size is dynamic) and
postprocessing run on one prep thread; ``session.run`` alone in a pool of
``workers`` threads, each call single-threaded by default: parallel batches
keep the cores busy without onnxruntime's intra-op spin-waiting.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from devices.cameras.decoder import DecodedFrame
from vision.motion import MotionState
from vision.types import Detection
from wall.detection.camera_run import CameraRun
from wall.detection.frames import PreparedFrames, prepare_frames
from wall.detection.model import LoadedModel
from wall.detection.settings import DetectionSettings

__all__ = ["Analysed", "BatchRunner", "Chunk"]

Chunk = list[tuple[CameraRun, DecodedFrame]]
"""Due frames of a batch, one per camera."""
Analysed = tuple[
    tuple[CameraRun, DecodedFrame], NDArray[np.uint8], tuple[Detection, ...]
]
"""One frame of a batch with its BGR picture and its detections."""


class BatchRunner:
    """The model's thread pools and batch counters.

    Args:
        model: The opened model.
        settings: The ``detection:`` section (workers, motion gating).
    """

    def __init__(self, model: LoadedModel, settings: DetectionSettings) -> None:
        self.pipeline, self.session, self.settings = (
            model.pipeline,
            model.session,
            settings,
        )
        self._prep = ThreadPoolExecutor(1, thread_name_prefix="detector-prep")
        self._infer = ThreadPoolExecutor(
            settings.workers, thread_name_prefix="detector"
        )
        self.batches, self.inference_s = 0, 0.0
        self._closed = False

    async def aclose(self) -> None:
        """Join the pools (a batch in progress finishes first); idempotent."""
        if self._closed:
            return
        self._closed = True
        for pool in (self._prep, self._infer):
            await asyncio.to_thread(pool.shutdown, True)

    def _prepare(
        self, frames: list[DecodedFrame], gates: list[MotionState]
    ) -> PreparedFrames:
        """Prep thread: BGR, motion gate, and one letterboxed batch of the rest."""
        gating = self.settings.motion_gating
        rule = gating.rule() if gating.enabled else None
        return prepare_frames(self.pipeline, frames, gates, rule)

    def _run(self, tensor: NDArray[np.float32]) -> tuple[NDArray[np.float32], float]:
        """Inference thread: one batched run and nothing else (runs back to back)."""
        t0 = time.perf_counter()
        return self.session.run(tensor), time.perf_counter() - t0

    async def run(self, chunk: Chunk) -> list[Analysed]:
        """Prepare, infer and postprocess one batch; updates the motion gates.

        Raises:
            InferenceFailed: The model failed on the batch.
        """
        loop = asyncio.get_running_loop()
        frames = [f for _, f in chunk]
        gates = [cam.motion for cam, _ in chunk]
        ready = await loop.run_in_executor(self._prep, self._prepare, frames, gates)
        batch, inferred = ready.batch, []
        if batch is not None:
            out, seconds = await loop.run_in_executor(
                self._infer, self._run, batch.tensor
            )
            post = self.pipeline.postprocess
            inferred = await loop.run_in_executor(self._prep, post, out, batch.infos)
            self.batches += 1
            self.inference_s += seconds
        fresh = iter(inferred)
        results = []
        for (cam, _), gate, ran in zip(chunk, ready.gates, ready.inferred, strict=True):
            # an unchanged picture: the last detections still describe it
            results.append(next(fresh) if ran else cam.detections)
            cam.motion = gate
        return list(zip(chunk, ready.bgrs, results, strict=True))

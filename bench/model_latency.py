"""Raw model latency: YOLOX-Nano per batch size, thread count and worker count.

For the record (issue 4): the bare onnxruntime session of the default model
(the dynamic-batch file), nothing else running in this process. For each
configuration, ``session.run`` is called back to back on a batch of
letterboxed frames of the sub clip for ``SECONDS``, from W threads at once
(the detector's worker pool); every call's latency is kept. Each
configuration runs twice: on the full 416x416 square and on the 416x256
canvas that the service's default ``letterbox: fit`` gives these 16:9 frames
(rectangular inference, when the model's input size is dynamic).

Reported per configuration: latency p50 / p99 per call, frames per second,
frames per CPU-second, and the CPU it used. RATIO = frames/s of the
issue's reference configuration (2 intra-op threads, batch 4) / the issue's
figure for it (about 110 frames/s): how fast this machine was in this run,
for reading the other detector figures. There is no target.

Run: ``.venv/bin/python -m bench.model_latency``.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.cpu import CpuWindow
from bench.detector_load import clip_frames
from bench.harness import BenchResult, percentile, run_main
from tests.support.rtsp_server import REPO_ROOT
from vision.manifest import load_manifest
from vision.onnx.session import ModelSession, SessionOptions
from vision.pipeline import DetectionPipeline

SECONDS = 3.0
BATCHES = (1, 2, 4, 8)
# (intra-op threads, workers)
CONFIGS = ((1, 1), (2, 1), (1, 2))
REFERENCE = (2, 1, 4)  # threads, workers, batch: the "about 110 frames/s"
REFERENCE_FPS = 110.0
MANIFEST = REPO_ROOT / "models" / "yolox_nano.toml"
CACHE = REPO_ROOT / "models" / ".cache"


CANVASES = ("square", "fit")


def clip_tensor(batch: int, canvas: str) -> NDArray[np.float32]:
    """The first ``batch`` pictures of the sub clip, letterboxed."""
    pipeline = DetectionPipeline(load_manifest(MANIFEST), fit_canvas=canvas == "fit")
    return pipeline.preprocess(clip_frames(batch)).tensor


def measure(
    session: ModelSession, tensor: NDArray[np.float32], workers: int
) -> dict[str, Any]:
    """Back-to-back runs from ``workers`` threads; latencies and throughput."""
    session.run(tensor)  # warm
    latencies: list[list[float]] = [[] for _ in range(workers)]
    t0 = time.perf_counter()

    def worker(i: int) -> None:
        while time.perf_counter() - t0 < SECONDS:
            start = time.perf_counter()
            session.run(tensor)
            latencies[i].append(1000 * (time.perf_counter() - start))

    window = CpuWindow({"process": [os.getpid()]})
    window.start()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    window.stop()
    elapsed = time.perf_counter() - t0
    calls = [x for per in latencies for x in per]
    frames = len(calls) * tensor.shape[0]
    cores = window.cores("process")
    return {
        "p50_ms": percentile(calls, 50),
        "p99_ms": percentile(calls, 99),
        "fps": frames / elapsed,
        "cores": cores,
        "frames_per_cpu_s": frames / max(1e-9, window.cpu_s["process"]),
        "foreign_cores": window.foreign_cores,
    }


def run_all() -> dict[tuple[int, int, int, str], dict[str, Any]]:
    """Every configuration, one after the other."""
    manifest = load_manifest(MANIFEST)
    tensors = {(b, c): clip_tensor(b, c) for b in BATCHES for c in CANVASES}
    out: dict[tuple[int, int, int, str], dict[str, Any]] = {}
    for threads, workers in CONFIGS:
        session = ModelSession.open(
            manifest, CACHE, SessionOptions(intra_op_threads=threads)
        )
        for canvas in CANVASES if session.dynamic_size else CANVASES[:1]:
            for batch in BATCHES:
                tensor = tensors[batch, canvas]
                found = measure(session, tensor, workers)
                out[threads, workers, batch, canvas] = found
                print(
                    f"{canvas} {tensor.shape[3]}x{tensor.shape[2]} threads "
                    f"{threads} workers {workers} batch {batch}: "
                    f"p50 {found['p50_ms']:.1f} ms, p99 {found['p99_ms']:.1f} ms, "
                    f"{found['fps']:.1f} frames/s, {found['cores']:.2f} cores, "
                    f"{found['frames_per_cpu_s']:.1f} frames per CPU-second",
                    flush=True,
                )
    return out


async def run() -> BenchResult:
    """The benchmark."""
    found = await asyncio.to_thread(run_all)
    figures: dict[str, Any] = {}
    for (threads, workers, batch, canvas), f in found.items():
        key = f"{canvas}_t{threads}_w{workers}_b{batch}"
        figures |= {f"{key}_{k}": round(v, 2) for k, v in f.items()}
    ref = found[(*REFERENCE, "square")]["fps"]
    disturbed = [k for k, f in found.items() if f["foreign_cores"] > 0.15]
    notes = [
        "t = onnxruntime intra-op threads (spin-waiting off), w = concurrent "
        "calls (the detector's workers), b = frames per call; square = "
        "416x416, fit = 416x256 (16:9 frames, rectangular inference)"
    ]
    if disturbed:
        notes.append(f"other processes loaded the machine during {len(disturbed)} "
                     "configurations")  # fmt: skip
    return BenchResult(
        name="model_latency",
        ratio=ref / REFERENCE_FPS,
        ratio_label=(
            f"{ref:.1f} frames/s with 2 threads, batch 4 / the issue's "
            f"{REFERENCE_FPS:.0f} frames/s (this machine's speed in this run)"
        ),
        target_label="none (for the record)",
        passed=True,
        figures=figures,
        notes=notes,
    )


if __name__ == "__main__":
    run_main(run())

"""Pipeline efficiency: frames analysed by the whole detector vs raw onnxruntime.

Method (one run):

1. The RTSP test server serves ``/sub`` (640x360, 25 fps, High profile).
2. Limit: the default model (YOLOX-Nano, dynamic-batch file) in an
   onnxruntime session with T intra-op threads runs batches of
   ``BATCH`` letterboxed frames of the same clip back to back for ``RAW_S``;
   frames per second = the raw throughput. Measured before and after the
   pipeline window; the mean is the denominator.
3. Pipeline: the service's own parts in this process: ``CameraFleet`` with
   ``CAMERAS`` cameras on ``/sub`` (separate RTSP sessions) and
   ``DetectionService`` (same model, threads and batch) with one crowd zone per
   camera and ``analysis_fps`` above what the model can do, so the pipeline
   is saturated: decode sub stream → BGR → letterbox → batch across cameras →
   infer → postprocess → tracker, zone counts and rules. After a warm-up the
   analysed frames of all cameras are counted over ``WINDOW_S``.

Both steps run for T = 1 (the service default, the headline RATIO) and T = 2.

RATIO = pipeline frames/s / raw frames/s. Target >= 0.85. The RTSP server and
the decoders share the machine's two cores with inference: that cost is part
of the pipeline and is not subtracted.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from bench.harness import (
    FOREIGN_LOAD_WARN_CORES,
    BenchResult,
    CpuWindow,
    clip_path,
    foreign_load_note,
    rtsp_server,
    run_main,
)
from devices.config import CameraConfig, StreamPolicy
from devices.fleet import CameraFleet
from tests.support.rtsp_server import REPO_ROOT
from vision.manifest import load_manifest
from vision.pipeline import DetectionPipeline
from vision.session import ModelSession, SessionOptions
from wall.detection import DetectionService
from wall.detection_settings import DetectionSettings
from wall.event_bus import EventBus
from wall.settings import ModelSettings
from wall.store import SqliteStore

CAMERAS = 8
THREAD_COUNTS = (1, 2)  # 1 is the service default; the headline
BATCH = 4
RAW_S = 6.0
WARMUP_S = 6.0
WINDOW_S = 20.0
TARGET = 0.85
MODELS = ModelSettings(
    manifests_dir=REPO_ROOT / "models", cache_dir=REPO_ROOT / "models" / ".cache"
)


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
    session: ModelSession, tensor: NDArray[np.float32], seconds: float
) -> float:
    """Frames per second of back-to-back ``session.run`` calls on one batch."""
    session.run(tensor)
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        session.run(tensor)
        done += tensor.shape[0]
    return done / (time.perf_counter() - t0)


def settings_for(cameras: list[str], threads: int) -> DetectionSettings:
    zone = {
        "id": "all",
        "kind": "crowd",
        "polygon": [[0, 0], [640, 0], [640, 360], [0, 360]],
        "crowding": {"warn_ppm2": None, "warn_count": 1000},
    }
    return DetectionSettings.model_validate(
        {
            "enabled": True,
            "analysis_fps": 30,  # above the model's speed: saturated
            "batch_size": BATCH,
            "threads": threads,
            "snapshots": False,
            "cameras": {c: {"zones": [zone]} for c in cameras},
        }
    )


async def measure_pipeline(
    url: str, workdir: Path, threads: int
) -> tuple[dict[str, Any], list[str]]:
    """Analysed frames per second of the whole detector over ``WINDOW_S``."""
    names = [f"cam{i + 1}" for i in range(CAMERAS)]
    cameras = [
        CameraConfig.model_validate(
            {"id": c, "name": c, "streams": {"main": {"url": url}}}
        )
        for c in names
    ]
    async with (
        SqliteStore(workdir / "bench.sqlite3") as store,
        CameraFleet(cameras, StreamPolicy()) as fleet,
        DetectionService(
            settings_for(names, threads), MODELS, fleet, store, EventBus()
        ) as detection,
    ):
        if detection.state != "ok":
            raise RuntimeError(f"detector {detection.state}: {detection.reason}")
        await asyncio.sleep(WARMUP_S)
        runs = detection.cameras.values()
        analysed0 = [c.analysed for c in runs]
        stale0, batches0 = sum(c.stale for c in runs), detection.batches
        infer0 = detection.inference_s
        window = CpuWindow({"benchmark": [os.getpid()]})
        window.start()
        await asyncio.sleep(WINDOW_S)
        window.stop()
        analysed = [c.analysed - a for c, a in zip(runs, analysed0, strict=True)]
        stale = sum(c.stale for c in runs) - stale0
        batches = detection.batches - batches0
        infer_s = detection.inference_s - infer0
    figures = {
        "pipeline_fps": sum(analysed) / window.wall_s,
        "per_camera_fps": [round(a / window.wall_s, 2) for a in analysed],
        "mean_batch_size": sum(analysed) / max(1, batches),
        "stale_frames_skipped": stale,
        "run_ms_per_batch_in_pipeline": 1000 * infer_s / max(1, batches),
        "inference_thread_busy_fraction": infer_s / window.wall_s,
        "process_cores": window.cores("benchmark"),
        "machine_busy_cores": window.machine_cores,
        "foreign_load_cores": window.foreign_cores,
        "window_s": window.wall_s,
    }
    return figures, foreign_load_note("pipeline window", window)


async def measure_config(
    threads: int, url: str, tensor: NDArray[np.float32]
) -> tuple[float, dict[str, Any], list[str]]:
    """Raw, pipeline, raw again for one thread count; returns the ratio."""
    manifest = load_manifest(MODELS.manifests_dir / "yolox_nano.toml")
    options = SessionOptions(intra_op_threads=threads)
    session = await asyncio.to_thread(
        ModelSession.open, manifest, MODELS.cache_dir, options
    )
    raw_before = await asyncio.to_thread(raw_fps, session, tensor, RAW_S)
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        figures, notes = await measure_pipeline(url, Path(tmp), threads)
    raw_after = await asyncio.to_thread(raw_fps, session, tensor, RAW_S)
    raw = (raw_before + raw_after) / 2
    if abs(raw_before - raw_after) > 0.1 * raw:
        notes.append(
            f"threads {threads}: raw throughput moved between its two measurements "
            f"({raw_before:.1f} -> {raw_after:.1f} frames/s): the machine is noisy"
        )
    if figures["foreign_load_cores"] > FOREIGN_LOAD_WARN_CORES:
        notes.append(f"threads {threads}: other processes loaded the machine")
    figures = {
        "dynamic_batch": session.dynamic_batch,
        "raw_fps_before": raw_before,
        "raw_fps_after": raw_after,
        "raw_run_ms_per_batch": 1000 * BATCH / raw,
        **figures,
    }
    return figures["pipeline_fps"] / raw, figures, notes


async def run() -> BenchResult:
    """The benchmark."""
    tensor = (
        DetectionPipeline(load_manifest(MODELS.manifests_dir / "yolox_nano.toml"))
        .preprocess(clip_frames(BATCH))
        .tensor
    )
    ratios: dict[int, float] = {}
    figures: dict[str, Any] = {
        "model": "yolox_nano",
        "batch": BATCH,
        "cameras": CAMERAS,
    }
    notes: list[str] = []
    with rtsp_server({"/sub": "test_sub.h264"}) as server:
        for threads in THREAD_COUNTS:
            ratio, found, found_notes = await measure_config(
                threads, server.url("/sub"), tensor
            )
            ratios[threads] = ratio
            figures[f"threads_{threads}_ratio"] = ratio
            figures |= {f"threads_{threads}_{k}": v for k, v in found.items()}
            notes += found_notes
    head = THREAD_COUNTS[0]
    pipeline_fps = figures[f"threads_{head}_pipeline_fps"]
    raw = pipeline_fps / ratios[head]
    return BenchResult(
        name="pipeline_efficiency",
        ratio=ratios[head],
        ratio_label=(
            f"pipeline {pipeline_fps:.1f} frames/s over {CAMERAS} cameras / raw "
            f"onnxruntime {raw:.1f} frames/s (threads {head}, batch {BATCH})"
        ),
        target_label=f">= {TARGET}",
        passed=ratios[head] >= TARGET,
        figures=figures,
        notes=notes,
    )


if __name__ == "__main__":
    run_main(run())

"""Composite cost: CPU per composed 1080p15 panel of 9 sub-stream tiles vs their decode.

Method (one process, one run):

1. The RTSP test server serves ``/sub`` (640x360 H.264, 25 fps, 2 s GOP);
   nine cameras point at it (nine RTSP sessions, shared server media).
2. Decode-only: the nine sub streams are pulled and decoded by a
   :class:`~wall.walls.panels.compositor.DecoderPool` (exactly the decoders a
   panel uses);
   this process's CPU (``time.process_time``, every thread) is measured over
   ``WINDOW_S``. Measured before and after the composite window; the mean is
   the decode baseline.
3. Composite on: a :class:`~wall.walls.panels.compositor.PanelCompositor`
   composes the 3x3 panel (1920x1080, titles, markers, one alarm border) at
   15 fps from the same decoders, encodes it with libx264 (ultrafast,
   zerolatency, 1 thread) and one MPEG-TS client pulls it; CPU is measured the same way.

COMPOSITE = composite-on minus decode-only (compose + encode + mux), in cores.
RATIO = COMPOSITE / decode-only. Target: COMPOSITE <= 0.25 of a core per panel.
Panels per machine (2 cores) are reported both for panels that decode their
own nine cameras and for compose-only (decoders shared with other consumers).
The compositor thread's own CPU (``/proc/self/task``) cross-checks the
difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from bench.cameras import camera_configs
from bench.cpu import thread_cpu_seconds
from bench.harness import BenchResult, rtsp_server, run_main
from devices.cameras.camera import CameraStream
from devices.cameras.config import StreamPolicy, StreamRole
from devices.cameras.fleet import CameraFleet
from layouts.rects import Rect
from wall.walls.panels.compositor import (
    ComposedTile,
    DecoderPool,
    PanelCompositor,
    PanelSpec,
    mpegts_chunks,
)

CAMERAS = 9
NAMES = [f"c{i + 1}" for i in range(CAMERAS)]
FPS = 15.0
WARMUP_S = 3.0
WINDOW_S = 15.0
TARGET_CORES = 0.25
MACHINE_CORES = os.cpu_count() or 2
TILE_W, TILE_H = 640, 360


def tiles() -> list[ComposedTile]:
    return [
        ComposedTile(
            Rect((i % 3) * TILE_W, (i // 3) * TILE_H, TILE_W, TILE_H),
            Rect(0, 0, TILE_W, TILE_H),
            title=f"Camera {i + 1}",
            camera_id=f"c{i + 1}",
            alarm=i == 4,
        )
        for i in range(CAMERAS)
    ]


def thread_cpu(prefix: str) -> float:
    """CPU seconds of this process's threads whose name starts with ``prefix``."""
    per_task = thread_cpu_seconds(os.getpid())  # /proc/self/task/<tid>/stat
    return sum(
        per_task.get(t.native_id or -1, 0.0)
        for t in threading.enumerate()
        if t.name.startswith(prefix)
    )


async def cpu_window(seconds: float, *prefixes: str) -> dict[str, float]:
    """Cores used by the process (and by named threads) over ``seconds``."""
    c0, t0 = time.process_time(), time.monotonic()
    th0 = {p: thread_cpu(p) for p in prefixes}
    await asyncio.sleep(seconds)
    wall = time.monotonic() - t0
    out = {"process": (time.process_time() - c0) / wall, "wall_s": wall}
    for p in prefixes:
        out[p] = (thread_cpu(p) - th0[p]) / wall
    return out


async def poll_until(done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def ts_client(panel: PanelCompositor) -> AsyncIterator[list[int]]:
    """One MPEG-TS client draining the panel; yields [bytes received]."""
    received = [0]

    async def drain() -> None:
        async with contextlib.aclosing(mpegts_chunks(panel, "bench")) as chunks:
            async for chunk in chunks:
                received[0] += len(chunk)

    task = asyncio.create_task(drain(), name="bench ts client")
    try:
        yield received
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run() -> BenchResult:
    with rtsp_server({"/main": "test_main.h264", "/sub": "test_sub.h264"}) as srv:
        return await measure(srv.url("/main"), srv.url("/sub"))


@dataclass(frozen=True)
class CompositeWindow:
    """The composite-on window: cores, the panel's counters and its output."""

    cores: dict[str, float]
    stats: dict[str, float]
    fps: float
    bps: float


async def composite_window(
    pool: DecoderPool, lookup: Callable[[str], CameraStream | None]
) -> CompositeWindow:
    """Compose, encode and serve the panel to one client over ``WINDOW_S``."""
    spec = PanelSpec(fps=FPS, linger_s=0.5)
    async with PanelCompositor(
        tiles, lookup, spec, decoders=pool, label="bench"
    ) as panel:
        async with ts_client(panel) as received:
            await asyncio.sleep(WARMUP_S)
            f0, b0 = panel.stats().get("frames", 0.0), received[0]
            on = await cpu_window(WINDOW_S, "decoder ", "compositor ")
            stats = panel.stats()
            out_fps = (stats["frames"] - f0) / on["wall_s"]
            out_bps = 8 * (received[0] - b0) / on["wall_s"]
        await poll_until(lambda: not panel.running, 5.0)
    return CompositeWindow(on, stats, out_fps, out_bps)


async def measure(main_url: str, sub_url: str) -> BenchResult:
    """Decode-only, composite-on, then decode-only again (see the method)."""
    policy = StreamPolicy(idle_linger_s=1.0)
    async with (
        CameraFleet(camera_configs(NAMES, main_url, sub_url), policy) as fleet,
        DecoderPool() as pool,
    ):

        def lookup(camera_id: str) -> CameraStream | None:
            return fleet.cameras[camera_id].stream(StreamRole.SUB)

        decoders = [
            await pool.acquire(fleet.cameras[f"c{i + 1}"].stream(StreamRole.SUB))
            for i in range(CAMERAS)
        ]
        await poll_until(lambda: all(d.latest() for d in decoders), 20.0)
        await asyncio.sleep(WARMUP_S)
        decode1 = await cpu_window(WINDOW_S, "decoder ")
        on = await composite_window(pool, lookup)
        await asyncio.sleep(2.0)
        decode2 = await cpu_window(WINDOW_S, "decoder ")
        frames_decoded = sum(d.frames_decoded for d in decoders)
        for d in decoders:
            await pool.release(d)
    return result(decode1, decode2, on, frames_decoded)


def result(
    decode1: dict[str, float],
    decode2: dict[str, float],
    on: CompositeWindow,
    frames_decoded: int,
) -> BenchResult:
    """The RATIO and figures from the two decode-only windows and the composite."""
    decode = (decode1["process"] + decode2["process"]) / 2
    composite = on.cores["process"] - decode
    per_panel_total = on.cores["process"]
    ratio = composite / decode if decode > 0 else float("inf")
    stats = on.stats
    return BenchResult(
        name="composite_cost",
        ratio=ratio,
        ratio_label=(
            f"composite (compose+encode+mux) {composite:.3f} cores / decode of the"
            f" panel's {CAMERAS} sub streams {decode:.3f} cores, same run"
        ),
        target_label=f"composite <= {TARGET_CORES} of one core per panel",
        passed=composite <= TARGET_CORES,
        figures={
            "panel": f"1920x1080 @ {FPS:g} fps, {CAMERAS} tiles of {TILE_W}x{TILE_H}",
            "decode_only_cores_before": decode1["process"],
            "decode_only_cores_after": decode2["process"],
            "decode_threads_cores": (decode1["decoder "] + decode2["decoder "]) / 2,
            "composite_on_cores": on.cores["process"],
            "composite_cores": composite,
            "compositor_thread_cores": on.cores["compositor "],
            "compose_ms_per_frame": stats["compose_ms"],
            "encode_ms_per_frame": stats["encode_ms"],
            "output_fps": on.fps,
            "output_kbps": on.bps / 1000,
            "jobs_dropped": stats["jobs_dropped"],
            "frames_decoded_total": frames_decoded,
            "window_s": WINDOW_S,
            "machine_cores": MACHINE_CORES,
            "panels_per_machine_with_own_decodes": int(MACHINE_CORES / per_panel_total),
            "panels_per_machine_compose_only": int(MACHINE_CORES / composite),
        },
        notes=[
            "decode-only = RTSP pull + decode of the 9 sub streams (the process)",
            "panels per machine ignore the RTSP server (a separate process here)"
            " and any other service load",
        ],
    )


if __name__ == "__main__":
    run_main(run())

"""Relay cost: service CPU per relayed 1080p25 stream vs decoding that stream.

Method (one run):

1. The RTSP test server serves ``/main`` (1080p25 High, 2 s GOP).
2. ``citywall serve`` runs as its own process with ``CAMERAS`` camera entries
   that all point at ``/main`` (separate RTSP sessions, shared server media).
   The cameras are ``always_on`` so that the cost of pulling alone can be
   told apart from the cost of relaying.
3. Pull-only reference: the service's CPU while it pulls every camera with
   no viewer, over ``PULL_S`` (measured again, up to twice, when other
   processes loaded the machine during the window).
4. One headless Chromium page shows all cameras (``/live?stream=main``), i.e.
   one WebRTC viewer per camera. After every tile shows frames and a warm-up,
   the service's CPU (``/proc/<pid>/stat``, also split into the event-loop
   thread and the others) is measured over ``WINDOW_S``; the tiles' decoded
   frame counts prove that every stream really flows.
5. Limit: with the browser closed, ``ffmpeg -threads 1 -i <rtsp /main> -f null
   -`` decodes the same stream; its CPU is measured the same way over
   ``WINDOW_S``. For the analysis, ``CAMERAS`` ``ffmpeg -c copy`` processes
   demux the stream in the same window (what pulling alone can cost).

RATIO = (service CPU s/s / CAMERAS) / (ffmpeg CPU s/s). Target <= 0.25,
stretch <= 0.10.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.browser import browser_pids, chromium, hang_up, open_live_page, tile_stats
from bench.cpu import (
    FOREIGN_LOAD_WARN_CORES,
    CpuWindow,
    foreign_load_note,
    thread_cpu_seconds,
)
from bench.harness import FPS, BenchResult, FfmpegDecoder, rtsp_server, run_main
from bench.service_process import CameraSpec, ServiceProcess

CAMERAS = 4
PULL_S = 8.0
DISTURBED_RETRIES = 2
WARMUP_S = 5.0
WINDOW_S = 20.0
FFMPEG_WARMUP_S = 4.0
TARGET = 0.25
STRETCH = 0.10


def _frames(stats: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {cam: int(row["framesDecoded"]) for cam, row in stats.items()}


async def _wait_all_playing(page: Any, cameras: list[str], timeout_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        stats = await tile_stats(page)
        if all(stats.get(c, {}).get("framesDecoded", 0) > 0 for c in cameras):
            return
        await asyncio.sleep(0.25)
    raise RuntimeError(f"not every tile plays after {timeout_s:.0f} s: {stats}")


async def pull_only_window(service_pid: int) -> CpuWindow:
    """The service's CPU over ``PULL_S`` with no viewer, again if disturbed."""
    for _ in range(1 + DISTURBED_RETRIES):  # again if other load disturbed it
        pull = CpuWindow({"service": [service_pid]})
        pull.start()
        await asyncio.sleep(PULL_S)
        pull.stop()
        if pull.foreign_cores <= FOREIGN_LOAD_WARN_CORES:
            break
    return pull


@dataclass(frozen=True)
class RelayWindow:
    """What the relay window saw, at its start (``0``) and its end (``1``)."""

    window: CpuWindow
    tiles0: dict[str, dict[str, Any]]  # the page's WebRTC statistics per tile
    tiles1: dict[str, dict[str, Any]]
    sessions0: list[dict[str, Any]]  # the service's WebRTC sessions
    sessions1: list[dict[str, Any]]
    loop_s: float  # CPU seconds of the service's event-loop thread


async def relay_window(
    svc: ServiceProcess, cams: list[str], server_pid: int
) -> RelayWindow:
    """The service's CPU over ``WINDOW_S`` while one page shows every camera."""
    async with chromium() as (browser, driver_pid):
        page = await open_live_page(browser, svc.live_url(stream="main"))
        await _wait_all_playing(page, cams, 30.0)
        await asyncio.sleep(WARMUP_S)
        sessions0 = (await svc.get("/api/v1/webrtc"))["sessions"]
        before = await tile_stats(page)
        window = CpuWindow(
            {
                "service": [svc.pid],
                "rtsp_server": [server_pid],
                "chromium": browser_pids(driver_pid),
            }
        )
        threads0 = thread_cpu_seconds(svc.pid)
        window.start()
        await asyncio.sleep(WINDOW_S)
        window.stop()
        threads1 = thread_cpu_seconds(svc.pid)
        after = await tile_stats(page)
        sessions1 = (await svc.get("/api/v1/webrtc"))["sessions"]
        await hang_up(page, svc.token)
    loop_s = threads1.get(svc.pid, 0.0) - threads0.get(svc.pid, 0.0)
    return RelayWindow(window, before, after, sessions0, sessions1, loop_s)


def relay_figures(
    pull: CpuWindow, relay: RelayWindow, cams: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """Figures of the pull-only and relay windows; a note if a viewer fell behind."""
    window, before, after = relay.window, relay.tiles0, relay.tiles1
    notes: list[str] = []
    f0, f1 = _frames(before), _frames(after)
    viewer_fps = [(f1[c] - f0[c]) / window.wall_s for c in cams]
    drops0 = {s["session_id"]: s["dropped_packets"] for s in relay.sessions0}
    dropped = sum(
        s["dropped_packets"] - drops0.get(s["session_id"], 0) for s in relay.sessions1
    )
    if min(viewer_fps) < 0.95 * FPS:
        notes.append(f"INVALID: a viewer decoded below 95 % of {FPS:.0f} fps")
    loop_s = relay.loop_s
    figures = {
        "service_pull_only_cores": pull.cores("service"),
        "service_cores": window.cores("service"),
        "service_event_loop_thread_cores": loop_s / window.wall_s,
        "service_other_threads_cores": window.cores("service") - loop_s / window.wall_s,
        "rtsp_server_cores": window.cores("rtsp_server"),
        "chromium_cores": window.cores("chromium"),
        "window_s": window.wall_s,
        "foreign_load_cores_relay_window": window.foreign_cores,
        "viewer_fps": viewer_fps,
        "relay_dropped_packets_in_window": dropped,
        "plis_in_window": sum(
            after[c]["pliCount"] - before[c]["pliCount"] for c in cams
        ),
        "codec": "H.264 1080p25 (test_main.h264)",
    }
    return figures, notes


async def measure_relay(
    workdir: Path, url: str, server_pid: int
) -> tuple[dict[str, Any], list[str]]:
    """Service CPU idle and while relaying ``CAMERAS`` streams to Chromium."""
    cams = [f"cam{i + 1}" for i in range(CAMERAS)]
    specs = [CameraSpec(c, url, always_on=True) for c in cams]
    async with ServiceProcess(workdir, specs) as svc:
        await svc.wait_live(cams)
        await asyncio.sleep(2.0)
        pull = await pull_only_window(svc.pid)
        relay = await relay_window(svc, cams, server_pid)
    notes = foreign_load_note("pull-only window", pull)
    notes += foreign_load_note("relay window", relay.window)
    figures, invalid = relay_figures(pull, relay, cams)
    return figures, notes + invalid


async def measure_ffmpeg(url: str) -> tuple[dict[str, float], list[str]]:
    """CPU of ``ffmpeg -threads 1`` decoding the stream in real time.

    Alongside, ``CAMERAS`` ``ffmpeg -c copy`` processes only demux the same
    stream: the floor of what pulling a stream costs (for the analysis).
    """
    dec = FfmpegDecoder(url)
    copies = [FfmpegDecoder(url, copy=True) for _ in range(CAMERAS)]
    for proc in (dec, *copies):
        await proc.start()
    try:
        await asyncio.sleep(FFMPEG_WARMUP_S)
        window = CpuWindow(
            {"ffmpeg": [dec.pid], "ffmpeg_copy": [c.pid for c in copies]}
        )
        frames0 = dec.frames
        window.start()
        await asyncio.sleep(WINDOW_S)
        window.stop()
        frames1 = dec.frames
    finally:
        await asyncio.gather(*(p.stop() for p in (dec, *copies)))
    cores = window.cores("ffmpeg")
    fps = (frames1 - frames0) / window.wall_s
    figures = {
        "ffmpeg_decode_cores": cores,
        "ffmpeg_fps": fps,
        "ffmpeg_cpu_ms_per_frame": 1000 * cores / fps if fps else float("nan"),
        "ffmpeg_copy_demux_cores_per_stream": window.cores("ffmpeg_copy") / CAMERAS,
        "foreign_load_cores_ffmpeg_window": window.foreign_cores,
    }
    return figures, foreign_load_note("ffmpeg window", window)


async def run() -> BenchResult:
    """The whole benchmark."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-relay-") as tmp,
        rtsp_server({"/main": "test_main.h264"}) as server,
    ):
        url = server.url("/main")
        assert server.pid is not None
        relay, notes = await measure_relay(Path(tmp), url, server.pid)
        ref, ref_notes = await measure_ffmpeg(url)
        notes += ref_notes
    per_stream = relay["service_cores"] / CAMERAS
    loop = relay["service_event_loop_thread_cores"] / CAMERAS
    readers = relay["service_other_threads_cores"] / CAMERAS
    pulling = relay["service_pull_only_cores"] / CAMERAS
    copy = ref["ffmpeg_copy_demux_cores_per_stream"]
    decode = ref["ffmpeg_decode_cores"]
    ratio = per_stream / decode
    figures: dict[str, Any] = {
        "streams": CAMERAS,
        **relay,
        **ref,
        "relay_cores_per_stream": per_stream,
        "event_loop_thread_over_decode": loop / decode,
        "other_threads_over_decode": readers / decode,
        "other_threads_over_ffmpeg_copy_demux": readers / copy,
        "pull_only_cores_per_stream": pulling,
        "pull_only_over_ffmpeg_copy_demux": pulling / copy,
        "streams_per_core": 1.0 / per_stream,
        "streams_per_core_decoding": 1.0 / decode,
    }
    return BenchResult(
        name="relay_cost",
        ratio=ratio,
        ratio_label=(
            f"service CPU per relayed stream {per_stream:.4f} cores / ffmpeg "
            f"-threads 1 decode {decode:.4f} cores, same run"
        ),
        target_label=f"ratio <= {TARGET} (stretch {STRETCH})"
        + (" - stretch met" if ratio <= STRETCH else ""),
        passed=ratio <= TARGET and not any(n.startswith("INVALID") for n in notes),
        figures=figures,
        notes=notes,
    )


if __name__ == "__main__":
    run_main(run())

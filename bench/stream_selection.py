"""Stream selection: server CPU of a 24-tile wall, selection on vs all main streams.

Issue 3: "A 4x3 wall of 1080p panels showing 24 camera tiles: server CPU with
stream selection on vs all main streams; report both."

The wall, its 24-camera layout and each tile's stream come from
:mod:`bench.tile_plan`; the benchmark derives the choices at run time and the
figures report the counts it found.

Method (one run, the RTSP test server serving ``/main`` (1080p25 High) and
``/sub`` (640x360, 25 fps) throughout), for each of two configurations, one
after the other, each with a fresh fleet, relay and viewers:

(a) **selection on**: each tile's viewer offers exactly as the wall page does,
    with the tile's preference (``auto``) and its size in pixels, so the
    relay's own choice decides the stream;
(b) **all main**: every viewer asks for ``main``.

1. This process runs the service's own parts: ``CameraFleet`` with the 24
   cameras (main ``/main``, sub ``/sub``; separate RTSP sessions) and
   ``LiveViewRelay``. The streams the configuration will relay are opened
   together first, so that the first keyframes arrive in parallel rather than
   one offer at a time.
2. The viewers are 24 receive-only GStreamer webrtcbin peers in one child
   process (``tests/support/gst_webrtc_viewers.py``, nice 10) that never
   decode: they stand in for the display machines, which decode on their own hardware.
3. After ``WARMUP_S``, one CPU window of ``WINDOW_S``: the service (this
   process), the viewers' process and the RTSP server, with the machine's
   busy cores and the foreign load; measured again (up to
   ``DISTURBED_RETRIES`` times) when other processes loaded the machine.
   Over the window: frames each viewer received, frames and H.264 bytes the
   relay sent, and the streams the fleet was pulling.

RATIO = service cores with selection / service cores with all main. The issue
sets no numeric target ("report both"); the result is PASS when selection costs
no more than all main (ratio <= 1.0) and the relay sent every tile >= 95 %
of 25 fps in both configurations (what the lower-priority stand-in displays
received is reported next to it).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

from bench.cameras import camera_configs, camera_names
from bench.cpu import (
    FOREIGN_LOAD_WARN_CORES,
    CpuWindow,
    foreign_load_note,
    service_window,
    thread_cpu_seconds,
)
from bench.harness import FPS, BenchResult, rtsp_server, run_main
from bench.tile_plan import WALL, TilePlan, layout_summary, plan_tiles, wall_layout
from bench.viewers import ViewerProcess
from devices.cameras.camera import CameraStream
from devices.cameras.config import StreamPolicy, StreamRole
from devices.cameras.fleet import CameraFleet
from devices.cameras.health import StreamState
from devices.cameras.subscriber import PacketSubscriber
from layouts.content import StreamPref as StreamPreference
from wall.live.relay import LiveViewRelay
from wall.live.settings import WebRtcSettings

CAMERAS = 24
WARMUP_S = 5.0
WINDOW_S = 15.0
DISTURBED_RETRIES = 1
KEYFRAME_TIMEOUT_S = 10.0
VIEWER_NICE = 10
REALTIME = 0.95


# ---------------------------------------------------------------------------
# one configuration


@dataclass
class Measured:
    """One configuration's window."""

    config: str
    tiles: dict[str, int]
    pulled: dict[str, int]
    cores: dict[str, float]
    viewer_fps: list[float]
    relay_frames_per_s: float
    relay_min_session_fps: float
    relayed_mbit_s: float | None
    ingest_mbit_s: float
    notes: list[str]

    def row(self) -> str:
        """A line for the report."""
        cpu = ", ".join(f"{k} {v:.3f}" for k, v in self.cores.items())
        relayed = (
            f"{self.relayed_mbit_s:.1f}" if self.relayed_mbit_s is not None else "?"
        )
        return (
            f"{self.config}: tiles main {self.tiles['main']} / sub "
            f"{self.tiles['sub']}, pulled main {self.pulled['main']} / sub "
            f"{self.pulled['sub']}, viewers min {min(self.viewer_fps):.1f} fps "
            f"(relay sent min {self.relay_min_session_fps:.1f}), "
            f"relayed {relayed} Mbit/s, cores: {cpu}"
        )


async def _open_streams(
    streams: list[CameraStream],
) -> list[tuple[CameraStream, PacketSubscriber]]:
    """Start pulling every stream at once and wait for their first keyframes.

    The relay waits for a keyframe before it answers an offer, and the viewers
    offer one at a time; opening all streams first keeps the set-up short.
    """
    held = [(s, s.subscribe(name="bench warm-up", from_cache=False)) for s in streams]
    got = await asyncio.gather(*(s.wait_keyframe(KEYFRAME_TIMEOUT_S) for s in streams))
    missing = [str(s.key) for s, ok in zip(streams, got, strict=True) if not ok]
    if missing:
        for stream, sub in held:
            stream.unsubscribe(sub)
        raise RuntimeError(f"no keyframe in {KEYFRAME_TIMEOUT_S:.0f} s: {missing}")
    return held


def _relay_counters(relay: LiveViewRelay) -> dict[str, tuple[int, int]]:
    """Per session: frames and H.264 payload bytes the relay has sent so far."""
    return {
        str(d["session_id"]): (int(str(d["packets_sent"])), int(str(d["bytes_sent"])))
        for d in relay.sessions()
    }


@dataclass
class _Window:
    """One CPU window and the counters read at both of its ends."""

    cpu: CpuWindow
    elapsed_s: float
    viewer_frames: tuple[list[int], list[int]]
    relay_sent: tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]
    loop_cpu_s: float


async def _offer_all(
    selection: bool,
    plans: list[TilePlan],
    fleet: CameraFleet,
    relay: LiveViewRelay,
    viewers: ViewerProcess,
) -> list[str]:
    """Answer every viewer's offer; return the stream the relay chose for each."""
    wanted = [p.chosen if selection else StreamRole.MAIN for p in plans]
    held = await _open_streams(
        [
            fleet.cameras[p.camera_id].stream(r)
            for p, r in zip(plans, wanted, strict=True)
        ]
    )
    got: list[str] = []
    try:
        for plan in plans:
            offer = await viewers.recv()
            camera = fleet.cameras[plan.camera_id]
            if selection:
                # what the wall page sends: the tile's preference and size
                answer = await relay.offer(
                    camera, offer["sdp"], plan.preference, plan.tile_wh
                )
            else:
                answer = await relay.offer(camera, offer["sdp"], StreamPreference.MAIN)
            viewers.send({"sdp": answer.sdp})
            got.append(answer.stream)
        await viewers.recv()  # ready
    finally:
        for stream, sub in held:
            stream.unsubscribe(sub)
    return got


def _loop_thread_cpu_s() -> float:
    return thread_cpu_seconds(os.getpid()).get(os.getpid(), 0.0)


async def _window(
    relay: LiveViewRelay, viewers: ViewerProcess, server_pid: int
) -> _Window:
    """The CPU window, measured again if other load disturbed it."""
    for _ in range(1 + DISTURBED_RETRIES):
        f0, r0 = await viewers.frames(), _relay_counters(relay)
        t0 = time.monotonic()
        loop0 = _loop_thread_cpu_s()
        cpu = service_window(viewers.pid, server_pid)
        cpu.start()
        await asyncio.sleep(WINDOW_S)
        cpu.stop()
        loop1 = _loop_thread_cpu_s()
        f1, r1 = await viewers.frames(), _relay_counters(relay)
        elapsed = time.monotonic() - t0
        if cpu.foreign_cores <= FOREIGN_LOAD_WARN_CORES:
            break
    return _Window(cpu, elapsed, (f0, f1), (r0, r1), loop1 - loop0)


def _off_streams(selection: bool, plans: list[TilePlan], got: list[str]) -> list[str]:
    """A note naming the tiles where the relay chose another stream than wanted."""
    off = [
        p.tile_id
        for p, g in zip(plans, got, strict=True)
        if (p.chosen if selection else StreamRole.MAIN).value != g
    ]
    return [f"INVALID: the relay chose another stream for {off}"] if off else []


def _viewer_notes(
    config: str, viewer_fps: list[float], sessions: int, tiles: int
) -> list[str]:
    notes = []
    if len(viewer_fps) != tiles or sessions != tiles:
        notes.append(f"INVALID: {sessions} sessions, {len(viewer_fps)} viewers")
    slowest = min(viewer_fps, default=0.0)
    if slowest < REALTIME * FPS:
        notes.append(
            f"{config}: the slowest viewer received {slowest:.1f} fps, below "
            f"{REALTIME:.0%} of {FPS:.0f} fps"
        )
    return notes


def _cores(w: _Window) -> dict[str, float]:
    cores = {name: w.cpu.cores(name) for name in ("service", "viewers", "rtsp_server")}
    cores["service_event_loop_thread"] = w.loop_cpu_s / w.cpu.wall_s
    return cores | {"machine": w.cpu.machine_cores, "foreign": w.cpu.foreign_cores}


async def measure(
    selection: bool,
    plans: list[TilePlan],
    main_url: str,
    sub_url: str,
    server_pid: int,
) -> Measured:
    """One configuration: offers, warm-up, then the CPU window."""
    config = "selection" if selection else "all_main"
    names = [p.camera_id for p in plans]
    async with (
        CameraFleet(camera_configs(names, main_url, sub_url), StreamPolicy()) as fleet,
        LiveViewRelay(WebRtcSettings(max_viewers=256)) as relay,
        ViewerProcess(len(plans), nice=VIEWER_NICE) as viewers,
    ):
        got = await _offer_all(selection, plans, fleet, relay, viewers)
        await asyncio.sleep(WARMUP_S)
        w = await _window(relay, viewers, server_pid)
        live = [s for s in fleet.streams() if s.state is StreamState.LIVE]
        ingest_bps = sum(s.health().bitrate_bps for s in live)
        sessions = len(relay.sessions())
    (f0, f1), (r0, r1) = w.viewer_frames, w.relay_sent
    viewer_fps = [(b - a) / w.elapsed_s for a, b in zip(f0, f1, strict=True)]
    sent = {
        sid: [b - a for a, b in zip(r0[sid], r1[sid], strict=True)]
        for sid in r1
        if sid in r0
    }
    totals = [sum(d[i] for d in sent.values()) / w.elapsed_s for i in range(2)]
    return Measured(
        config=config,
        tiles={role: got.count(role) for role in ("main", "sub")},
        pulled={r.value: sum(s.key.role is r for s in live) for r in StreamRole},
        cores=_cores(w),
        viewer_fps=viewer_fps,
        relay_frames_per_s=totals[0],
        relay_min_session_fps=min(
            (d[0] / w.elapsed_s for d in sent.values()), default=0
        ),
        relayed_mbit_s=totals[1] * 8 / 1e6 if totals[1] else None,
        ingest_mbit_s=ingest_bps / 1e6,
        notes=_off_streams(selection, plans, got)
        + foreign_load_note(f"{config} window", w.cpu)
        + _viewer_notes(config, viewer_fps, sessions, len(plans)),
    )


# ---------------------------------------------------------------------------
# the benchmark


def _figures(m: Measured) -> dict[str, Any]:
    p = f"{m.config}_"
    return {
        f"{p}tiles_main": m.tiles["main"],
        f"{p}tiles_sub": m.tiles["sub"],
        f"{p}streams_pulled_main": m.pulled["main"],
        f"{p}streams_pulled_sub": m.pulled["sub"],
        f"{p}service_cores": m.cores["service"],
        f"{p}service_event_loop_thread_cores": m.cores["service_event_loop_thread"],
        f"{p}viewers_cores": m.cores["viewers"],
        f"{p}rtsp_server_cores": m.cores["rtsp_server"],
        f"{p}machine_busy_cores": m.cores["machine"],
        f"{p}foreign_load_cores": m.cores["foreign"],
        f"{p}viewer_fps_min": min(m.viewer_fps),
        f"{p}viewer_fps_mean": sum(m.viewer_fps) / len(m.viewer_fps),
        f"{p}relay_frames_per_s": m.relay_frames_per_s,
        # the relay's side of the viewer check: tells a server that falls
        # behind from stand-in displays that are starved of CPU
        f"{p}relay_sent_fps_min_per_session": m.relay_min_session_fps,
        f"{p}relayed_mbit_s": m.relayed_mbit_s,
        f"{p}ingest_mbit_s": m.ingest_mbit_s,
    }


async def run() -> BenchResult:
    """The benchmark."""
    plans = plan_tiles(wall_layout(camera_names(CAMERAS)))
    with rtsp_server({"/main": "test_main.h264", "/sub": "test_sub.h264"}) as server:
        assert server.pid is not None
        urls = server.url("/main"), server.url("/sub")
        results = []
        for selection in (True, False):
            m = await measure(selection, plans, *urls, server.pid)
            print(m.row(), flush=True)
            results.append(m)
    sel, main = results
    ratio = sel.cores["service"] / main.cores["service"]
    # the server's job is to send every tile its frames; the stand-in displays
    # share its two cores at a lower priority, so what they receive is reported
    realtime = all(m.relay_min_session_fps >= REALTIME * FPS for m in results)
    notes = [n for m in results for n in m.notes]
    figures: dict[str, Any] = {
        "wall": f"{WALL.cols}x{WALL.rows} panels of {WALL.panel_w_px}x"
        f"{WALL.panel_h_px} (canvas {WALL.canvas_w_px}x{WALL.canvas_h_px})",
        "camera_tiles": len(plans),
        "layout": "; ".join(layout_summary(plans)),
        "window_s": WINDOW_S,
        **_figures(sel),
        **_figures(main),
        "service_cores_saved": main.cores["service"] - sel.cores["service"],
    }
    if sel.relayed_mbit_s and main.relayed_mbit_s:
        figures["relayed_bitrate_ratio"] = sel.relayed_mbit_s / main.relayed_mbit_s
    figures["cores"] = os.cpu_count()
    return BenchResult(
        name="stream_selection",
        ratio=ratio,
        ratio_label=(
            f"service {sel.cores['service']:.3f} cores with stream selection "
            f"({sel.tiles['main']} main + {sel.tiles['sub']} sub tiles) / "
            f"{main.cores['service']:.3f} cores with all {len(plans)} on main, "
            "same run"
        ),
        target_label=(
            "no numeric target (issue 3: report both); ratio <= 1.0 and the relay "
            f"sends every tile >= {REALTIME:.0%} of {FPS:.0f} fps"
        ),
        passed=ratio <= 1.0
        and realtime
        and not any(n.startswith("INVALID") for n in notes),
        figures=figures,
        notes=notes,
    )


if __name__ == "__main__":
    run_main(run())

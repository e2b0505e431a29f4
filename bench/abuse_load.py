"""Live video and the API while one viewer token misbehaves (issue 10's load check).

Method (one run):

1. The RTSP test server serves ``/main`` (1080p25, 2 s GOP); ``citywall
   serve`` (own process) pulls it with ``always_on: true``.
2. Reference, same run, no load: ``TRIALS`` new headless Chromium viewers
   (admin token) on ``/live``, each timed from its SDP offer to its first
   displayed frame; and ``/healthz`` sampled every 20 ms for a few seconds.
3. Attack, from one *viewer* token on another loopback address
   (127.0.0.2): 64 crafted offers at once that carry ICE credentials and a
   fake DTLS fingerprint but no usable candidate (half with none, half with
   an unresolvable ``.local`` one), and 200 WebSocket clients on
   ``/api/v1/ws`` that stay connected and read. The offers that the service
   admits never connect.
4. Under that load, the same ``TRIALS`` browser viewers and ``/healthz``
   samples again.

RATIO = p95 offer→first frame under attack / p95 without it (same run).
Targets of the issue: every viewer under attack gets video within 2 s, and
``/healthz`` stays under 50 ms at p99.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from aiortc import RTCPeerConnection
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from bench.browser import chromium, open_live_page
from bench.cpu import CpuWindow, foreign_load_note
from bench.harness import CITYWALL, BenchResult, percentile, rtsp_server, run_main
from bench.service_process import CameraSpec, ServiceProcess

TRIALS = 8
CRAFTED_OFFERS = 64
WS_CLIENTS = 200
ATTACKER_ADDRESS = "127.0.0.2"
HEALTH_PERIOD_S = 0.02
HEALTH_WINDOW_S = 4.0
TARGET_FRAME_MS = 2000.0
TARGET_HEALTH_P99_MS = 50.0
FAKE_FINGERPRINT = "sha-256 " + ":".join(["AB"] * 32)


async def crafted_offer(local_candidate: bool) -> str:
    """A real browser-like offer stripped of every usable ICE candidate."""
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
    finally:
        await pc.close()
    sdp = re.sub(r"a=candidate:[^\r\n]*\r\n", "", sdp)
    sdp = re.sub(r"a=end-of-candidates\r\n", "", sdp)
    sdp = re.sub(r"a=fingerprint:[^\r\n]*", f"a=fingerprint:{FAKE_FINGERPRINT}", sdp)
    if local_candidate:
        name = f"{secrets.token_hex(8)}.local"
        line = f"a=candidate:1 1 udp 2122260223 {name} 50000 typ host\r\n"
        sdp = sdp.replace("a=mid:0\r\n", "a=mid:0\r\n" + line, 1)
    return sdp


async def mint_viewer_token(svc: ServiceProcess) -> str:
    """A viewer token for the attacker, minted by the CLI on the service's database."""
    proc = await asyncio.create_subprocess_exec(
        str(CITYWALL), "token", "create", "--role", "viewer", "--name", "attacker",
        "--config", str(svc.workdir / "citywall.yaml"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await proc.communicate()
    return out.decode().strip().splitlines()[-1]


async def send_crafted_offers(svc: ServiceProcess, token: str) -> dict[str, int]:
    """Post the crafted offers at once; counts of the answers by status."""
    offers = [await crafted_offer(i % 2 == 1) for i in range(CRAFTED_OFFERS)]
    transport = httpx.AsyncHTTPTransport(local_address=ATTACKER_ADDRESS)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=svc.base_url, transport=transport, timeout=30.0
    ) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/cameras/cam/webrtc",
                    json={"sdp": sdp, "type": "offer"},
                    headers=headers,
                )
                for sdp in offers
            ),
            return_exceptions=True,
        )
    counts: dict[str, int] = {}
    for answer in answers:
        key = str(answer.status_code) if isinstance(answer, httpx.Response) else "error"
        counts[key] = counts.get(key, 0) + 1
    return counts


async def _hold_socket(url: str, ready: asyncio.Event, tally: list[bool]) -> None:
    # a refused or dropped socket is a figure, not a crash of the benchmark
    try:
        async with connect(url, open_timeout=30) as ws:
            tally.append(True)
            if len(tally) >= WS_CLIENTS:
                ready.set()
            async for _ in ws:
                pass
    except (OSError, TimeoutError, WebSocketException):
        tally.append(False)
        if len(tally) >= WS_CLIENTS:
            ready.set()


@contextlib.asynccontextmanager
async def websocket_crowd(svc: ServiceProcess, token: str) -> AsyncIterator[int]:
    """``WS_CLIENTS`` event sockets held open; yields how many connected."""
    url = svc.base_url.replace("http", "ws") + f"/api/v1/ws?access_token={token}"
    ready = asyncio.Event()
    tally: list[bool] = []
    async with asyncio.TaskGroup() as tg:
        tasks = [
            tg.create_task(_hold_socket(url, ready, tally)) for _ in range(WS_CLIENTS)
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), 30.0)
        try:
            yield sum(tally)
        finally:
            for task in tasks:
                task.cancel()


async def health_samples(base_url: str, window_s: float) -> list[float]:
    """``/healthz`` round trips (ms), one every ``HEALTH_PERIOD_S``."""
    samples: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
        end = time.monotonic() + window_s
        while time.monotonic() < end:
            t0 = time.perf_counter()
            await client.get("/healthz")
            samples.append(1000 * (time.perf_counter() - t0))
            await asyncio.sleep(HEALTH_PERIOD_S)
    return samples


async def viewer_trials(browser: Any, svc: ServiceProcess) -> list[float]:
    """``TRIALS`` browser viewers; each one's offer → first displayed frame (ms)."""
    rows: list[float] = []
    for _ in range(TRIALS):
        page = await open_live_page(browser, svc.live_url("cam", "main"))
        try:
            await page.wait_for_function(
                "() => window.__bench.firstFrame !== null", timeout=15_000
            )
            marks: dict[str, float] = await page.evaluate("() => window.__bench.marks")
            first: dict[str, Any] = await page.evaluate(
                "() => window.__bench.firstFrame"
            )
            await page.evaluate("t => window.__bench.hangUp(t)", svc.token)
        finally:
            await page.close()
        rows.append(float(first["expectedDisplayTime"]) - marks["offer_post"])
    return rows


async def phase(browser: Any, svc: ServiceProcess) -> tuple[list[float], list[float]]:
    """Browser viewers and ``/healthz`` samples, measured side by side."""
    health = asyncio.create_task(health_samples(svc.base_url, HEALTH_WINDOW_S))
    frames = await viewer_trials(browser, svc)
    return frames, await health


async def run() -> BenchResult:
    """The whole benchmark."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-abuse-") as tmp,
        rtsp_server({"/main": "test_main.h264"}) as server,
    ):
        cams = [CameraSpec("cam", server.url("/main"), always_on=True)]
        async with ServiceProcess(Path(tmp), cams) as svc, chromium() as (browser, _):
            await svc.wait_live(["cam"])
            await asyncio.sleep(2.5)  # a whole GOP in the cache
            idle_frames, idle_health = await phase(browser, svc)
            token = await mint_viewer_token(svc)
            window = CpuWindow({"service": [svc.pid]})
            window.start()
            async with websocket_crowd(svc, token) as sockets:
                offers = await send_crafted_offers(svc, token)
                stuck = len((await svc.get("/api/v1/webrtc"))["sessions"])
                load_frames, load_health = await phase(browser, svc)
            window.stop()
    figures = {"ws_clients_connected": sockets, "crafted_offers_by_status": offers}
    figures["sessions_open_after_attack"] = stuck
    notes = foreign_load_note("attack phase", window)
    return result(idle_frames, idle_health, load_frames, load_health, figures, notes)


def result(
    idle_frames: list[float],
    idle_health: list[float],
    load_frames: list[float],
    load_health: list[float],
    figures: dict[str, Any],
    notes: list[str],
) -> BenchResult:
    """The RATIO and figures of both phases."""
    idle_p95 = percentile(idle_frames, 95)
    load_p95 = percentile(load_frames, 95)
    worst = max(load_frames)
    health_p99 = percentile(load_health, 99)
    figures |= {
        "offer_to_frame_ms_idle_p95": idle_p95,
        "offer_to_frame_ms_attack_p95": load_p95,
        "offer_to_frame_ms_attack_max": worst,
        "offer_to_frame_ms_attack_all": [round(v) for v in load_frames],
        "healthz_ms_idle_p99": percentile(idle_health, 99),
        "healthz_ms_attack_p50": percentile(load_health, 50),
        "healthz_ms_attack_p99": health_p99,
        "healthz_samples_attack": len(load_health),
    }
    passed = worst <= TARGET_FRAME_MS and health_p99 <= TARGET_HEALTH_P99_MS
    return BenchResult(
        name="abuse_load",
        ratio=load_p95 / idle_p95,
        ratio_label=(
            f"p95 offer->first frame under attack {load_p95:.0f} ms / without "
            f"attack {idle_p95:.0f} ms, same run"
        ),
        target_label=(
            f"slowest viewer {worst:.0f} ms <= {TARGET_FRAME_MS:.0f} ms and "
            f"/healthz p99 {health_p99:.1f} ms <= {TARGET_HEALTH_P99_MS:.0f} ms"
        ),
        passed=passed,
        figures=figures,
        notes=notes,
    )


if __name__ == "__main__":
    run_main(run())

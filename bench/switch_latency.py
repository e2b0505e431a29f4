"""Wall switch latency: API call → every one of 12 panel pages has applied it.

A 4x3 wall is opened as 12 pages (one per panel, as on a real wall with one
browser per panel); the duty officer's switch goes through the API and each
page acknowledges the revision it drew (``requestAnimationFrame`` after the
DOM update, epoch ms from the page's own clock, which is this machine's).

Target (issue 3): p95 ≤ 200 ms; the ratio is p95 over that limit. The same
run also measures the same switches with every camera tile a placeholder,
which isolates the display feed and the page's own rendering.

A camera tile of the new layout that shows the same camera and stream as a
tile of the old one takes over its playing session instead of negotiating a
new one (as a real wall does); the run reports how many sessions the pages
started and kept, since the six layouts share the demo's four cameras.
The pages are 320x180 and tell the service so; their camera tiles therefore
take sub streams, as any display drawing them that small would (a full-size
1920x1080 panel would take main streams for tiles larger than the sub
stream). The streams relayed at the end are reported.

Run: ``.venv/bin/python -m bench.switch_latency``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
from playwright.async_api import Browser, Page

from bench.cpu import CpuWindow, foreign_load_note
from bench.harness import BenchResult, percentile, run_main
from tests.support.browser import chromium
from tests.support.service import RunningService, running_service
from wall.config.settings import Settings
from wall.demo import demo_settings
from wall.platform.auth import Role

SWITCHES = 24
LIMIT_MS = 200.0
LAYOUTS = [
    "mixed_4x3",
    "flood_drought_4x3",
    "emergency_4x3",
    "grid_4x3",
    "urban_mgmt_4x3",
    "civil_air_defence_4x3",
]


async def _acks(
    client: httpx.AsyncClient, svc: RunningService, revision: int
) -> list[float]:
    async with asyncio.timeout(10):
        while True:
            r = await client.get("/api/v1/walls/main", headers=svc.auth())
            observed = r.json()["observed"]
            done = [
                datetime.fromisoformat(o["applied_at"]).timestamp() * 1000
                for o in observed
                if (o["applied_revision"] or 0) >= revision
            ]
            if len(done) == len(observed) == 12:
                return [float(x) for x in done]
            await asyncio.sleep(0.01)


async def _switch(
    client: httpx.AsyncClient, svc: RunningService, layout_id: str
) -> list[float]:
    t0_ms = time.time() * 1000
    r = await client.post(
        "/api/v1/walls/main/layout",
        json={"layout_id": layout_id},
        headers=svc.auth(Role.DUTY_OFFICER),
    )
    r.raise_for_status()
    return [at - t0_ms for at in await _acks(client, svc, int(r.json()["revision"]))]


async def _session_counts(pages: list[Page]) -> dict[str, int]:
    """Live sessions the pages started and kept across switches, summed."""
    total = {"started": 0, "kept": 0}
    for page in pages:
        counts = await page.evaluate("() => window.citywallWall.sessions")
        for key in total:
            total[key] += int(counts[key])
    return total


def wall_settings(workdir: Path, with_cameras: bool) -> Settings:
    """The demo's settings with its main wall only (and no cameras if asked)."""
    settings = demo_settings(workdir, 0, media_dir=Path("data/media"))
    walls = tuple(w for w in settings.walls if w.id == "main")
    update: dict[str, Any] = {"walls": walls}
    if not with_cameras:
        update["cameras"] = ()
    return settings.model_copy(update=update)


async def open_panels(browser: Browser, svc: RunningService) -> list[Page]:
    """One 320x180 page per panel of the 4x3 wall, each drawing revision 1."""
    # the wall's own display token: only it may report what was drawn
    display = await svc.runtime.store.create_token("bench-display", Role.VIEWER, "main")
    token = display.secret
    pages = []
    for row, col in itertools.product(range(3), range(4)):
        page = await browser.new_page(viewport={"width": 320, "height": 180})
        await page.goto(f"{svc.base_url}/wall/main?panel={row},{col}#token={token}")
        pages.append(page)
    for page in pages:
        await page.wait_for_function(
            "() => window.citywallWall.revision >= 1", timeout=15_000
        )
    return pages


@dataclass
class Switches:
    """Latencies of the switches, in ms."""

    samples: list[float] = field(default_factory=list)  # per page and switch
    spreads: list[float] = field(default_factory=list)  # first to last page
    parts: dict[str, list[float]] = field(
        default_factory=lambda: {"feed": [], "build": [], "paint": []}
    )


async def switch_all(svc: RunningService, pages: list[Page]) -> Switches:
    """``SWITCHES`` layout switches through the API, timed on every page."""
    out = Switches()
    async with httpx.AsyncClient(base_url=svc.base_url) as client:
        for i in range(SWITCHES):
            t0_ms = time.time() * 1000
            lat = await _switch(client, svc, LAYOUTS[(i + 1) % len(LAYOUTS)])
            out.samples.extend(lat)
            for page in pages:
                tm = await page.evaluate("() => window.citywallWall.timing")
                out.parts["feed"].append(tm["receivedMs"] - t0_ms)
                out.parts["build"].append(tm["builtMs"] - tm["receivedMs"])
                out.parts["paint"].append(tm["paintedMs"] - tm["builtMs"])
            out.spreads.append(max(lat) - min(lat))
            await asyncio.sleep(0.5)
    return out


async def measure(with_cameras: bool) -> dict[str, Any]:
    """Latencies of ``SWITCHES`` switches seen by 12 panel pages."""
    with TemporaryDirectory() as tmp:
        settings = wall_settings(Path(tmp), with_cameras)
        async with running_service(settings) as svc, chromium() as browser:
            pages = await open_panels(browser, svc)
            await asyncio.sleep(3.0)  # let camera tiles settle
            before = await _session_counts(pages)
            window = CpuWindow({"bench": [os.getpid()]})
            window.start()
            switches = await switch_all(svc, pages)
            window.stop()
            after = await _session_counts(pages)
            streams = Counter(str(d["stream"]) for d in svc.runtime.relay.sessions())
    parts, samples = switches.parts, switches.samples
    return {
        **{f"{k}_p95_ms": percentile(v, 95) for k, v in parts.items()},
        **{f"{k}_p50_ms": percentile(v, 50) for k, v in parts.items()},
        "streams_at_end": dict(sorted(streams.items())),
        "sessions_started": after["started"] - before["started"],
        "sessions_kept": after["kept"] - before["kept"],
        "machine_cores": window.machine_cores,
        "foreign_cores": window.foreign_cores,
        "notes": foreign_load_note(
            "with cameras" if with_cameras else "no cameras", window
        ),
        "samples": len(samples),
        "p50_ms": percentile(samples, 50),
        "p95_ms": percentile(samples, 95),
        "max_ms": max(samples),
        "spread_p95_ms": percentile(switches.spreads, 95),
    }


async def run() -> BenchResult:
    """Both configurations; the headline is with live camera tiles."""
    bare = await measure(with_cameras=False)
    live = await measure(with_cameras=True)
    ratio = live["p95_ms"] / LIMIT_MS
    return BenchResult(
        name="switch_latency",
        ratio=ratio,
        ratio_label="p95 switch latency to all 12 panel pages / 200 ms",
        target_label="p95 <= 200 ms (ratio <= 1)",
        passed=ratio <= 1.0,
        figures={
            "pages": 12,
            "switches": SWITCHES,
            "with_cameras_p50_ms": live["p50_ms"],
            "with_cameras_p95_ms": live["p95_ms"],
            "with_cameras_max_ms": live["max_ms"],
            "first_to_last_panel_p95_ms": live["spread_p95_ms"],
            "no_cameras_p50_ms": bare["p50_ms"],
            "no_cameras_p95_ms": bare["p95_ms"],
            **{
                f"with_cameras_{part}_{q}_ms": live[f"{part}_{q}_ms"]
                for part in ("feed", "build", "paint")
                for q in ("p50", "p95")
            },
            "with_cameras_streams_at_end": live["streams_at_end"],
            "with_cameras_sessions_started": live["sessions_started"],
            "with_cameras_sessions_kept": live["sessions_kept"],
            "with_cameras_machine_cores": live["machine_cores"],
            "with_cameras_foreign_cores": live["foreign_cores"],
            "no_cameras_foreign_cores": bare["foreign_cores"],
        },
        notes=[
            *live["notes"],
            *bare["notes"],
            "feed = API call until the page has the message; build = the page's DOM "
            "update; paint = until the next animation frame",
            "sessions_kept: camera tiles of the new layout that took over a playing "
            "session of the old one (same camera and stream) instead of a new one",
            "latency = page's epoch time at the frame after the DOM update minus the "
            "epoch time just before the API call (one machine, one clock)",
            "no_cameras: the same layouts with every camera tile a placeholder, i.e. "
            "the display feed and rendering alone",
        ],
    )


if __name__ == "__main__":
    run_main(run())

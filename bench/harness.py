"""Shared machinery of the benchmarks: results, the RTSP server, ffmpeg references.

* CPU accounting from ``/proc`` lives in :mod:`bench.cpu`, the service as its
  own process in :mod:`bench.service_process`.
* The RTSP test server is the real GStreamer one of ``tests/support``.
* Every benchmark returns a :class:`BenchResult` whose ``ratio`` compares the
  service with a limit measured in the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import time
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.support.rtsp_server import (
    DEFAULT_MEDIA_DIR,
    REPO_ROOT,
    MountSpec,
    RtspServer,
    ensure_media,
)

OUT_DIR = REPO_ROOT / "bench" / "out"
"""Where results (JSON) and logs go; ignored by git."""
CITYWALL = REPO_ROOT / ".venv" / "bin" / "citywall"
CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium (Playwright's own browser download does not work here)."""
FPS = 25.0
"""Frame rate of every test clip."""
RTSP_OPEN_OPTIONS = {
    "rtsp_transport": "tcp",
    "analyzeduration": "0",
    "probesize": "32",
}
"""The service's own RTSP open options (``devices/cameras/reader.py``)."""


# ---------------------------------------------------------------------------
# statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile ``q`` (0..100) of ``values``."""
    if not values:
        return float("nan")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


# ---------------------------------------------------------------------------
# results


@dataclass
class BenchResult:
    """The outcome of one benchmark.

    Attributes:
        name: benchmark module name.
        ratio: the headline ratio, service against the same-run limit.
        ratio_label: what ``ratio`` divides by what.
        target: the issue's target for ``ratio`` (or for the figure named in
            ``target_label``).
        target_label: the target in words.
        passed: whether the target is met.
        figures: every measured number, for BENCHMARKS.md and the JSON file.
        notes: free-form observations printed after the figures.
    """

    name: str
    ratio: float
    ratio_label: str
    target_label: str
    passed: bool
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def print(self) -> None:
        """Print the figures and the RATIO line."""
        print(f"\n=== {self.name} ===")
        for key, value in self.figures.items():
            print(f"  {key}: {_fmt(value)}")
        for note in self.notes:
            print(f"  note: {note}")
        verdict = "PASS" if self.passed else "FAIL"
        print(f"RATIO {self.name}: {self.ratio:.3f}  ({self.ratio_label})")
        print(f"TARGET {self.name}: {self.target_label} -> {verdict}", flush=True)

    def save(self) -> Path:
        """Write the result as JSON to ``bench/out/<name>.json``."""
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        path = OUT_DIR / f"{self.name}.json"
        data = asdict(self)
        data["machine"] = machine()
        data["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return path


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def machine() -> dict[str, str]:
    """A short description of the machine and the tools' versions."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "memory_gib": f"{mem_kb / 1024 / 1024:.1f}",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ffmpeg": _first_line(["ffmpeg", "-hide_banner", "-version"]),
        "pyav": _version("av"),
        "aiortc": _version("aiortc"),
        "chromium": _first_line([CHROMIUM, "--version"]),
    }


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def _first_line(cmd: list[str]) -> str:
    if shutil.which(cmd[0]) is None:
        return "missing"
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def run_main(coro: Coroutine[Any, Any, BenchResult]) -> None:
    """Entry point of ``python -m bench.<name>``: run, print, save."""
    result = asyncio.run(coro)
    result.print()
    print(f"(saved {result.save()})")


# ---------------------------------------------------------------------------
# child processes and the RTSP test server


async def reap(proc: asyncio.subprocess.Process, timeout_s: float) -> None:
    """Wait for a child that was asked to end; kill it after ``timeout_s``."""
    try:
        await asyncio.wait_for(proc.wait(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()


@contextlib.contextmanager
def rtsp_server(
    mounts: dict[str, str], latency_log: Path | None = None
) -> Iterator[RtspServer]:
    """The GStreamer RTSP server with ``mount path -> clip file`` mounts."""
    media = ensure_media(DEFAULT_MEDIA_DIR)
    specs = {path: MountSpec(file) for path, file in mounts.items()}
    with RtspServer(media, specs, latency_log=latency_log) as server:
        yield server


# ---------------------------------------------------------------------------
# ffmpeg reference decoders


class FfmpegDecoder:
    """``ffmpeg -threads 1 -i <rtsp> -f null -`` with a frame counter.

    The process reports its progress on stdout every ``stats_period_s``; the
    last ``frame=`` value is the decoded frame count. With ``copy=True`` it
    only demuxes (``-c copy``): the cost of pulling the stream without
    decoding it.
    """

    def __init__(
        self, url: str, stats_period_s: float = 0.1, copy: bool = False
    ) -> None:
        self.url = url
        self.stats_period_s = stats_period_s
        self.copy = copy
        self.frames = 0
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        """The ffmpeg process id."""
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        """Spawn ffmpeg (same RTSP options as the service, one decoder thread)."""
        opts = [x for k, v in RTSP_OPEN_OPTIONS.items() for x in (f"-{k}", v)]
        self.proc = await asyncio.create_subprocess_exec(
            "ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
            "-threads", "1", *opts, "-i", self.url,
            "-map", "0:v:0", *(["-c", "copy"] if self.copy else []),
            "-fps_mode", "passthrough",
            "-f", "null", "-stats_period", str(self.stats_period_s),
            "-progress", "pipe:1", "-",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read_progress())

    async def _read_progress(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            if line.startswith(b"frame="):
                with contextlib.suppress(ValueError):
                    self.frames = int(line[6:].strip())

    async def stop(self) -> None:
        """Terminate ffmpeg and wait for it."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await reap(self.proc, 5)
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


def ffmpeg_file_speed(path: Path, repeats: int = 3) -> float:
    """Frames per CPU second of ``ffmpeg -threads 1 -i <file> -f null -``.

    The best of ``repeats`` runs, from ffmpeg's own ``-benchmark`` CPU times.
    """
    best = 0.0
    for _ in range(repeats):
        proc = subprocess.run(
            [
                "ffmpeg", "-hide_banner", "-nostdin", "-benchmark", "-threads", "1",
                "-i", str(path), "-f", "null", "-progress", "pipe:1", "-",
            ],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        frames = [int(m) for m in re.findall(r"^frame=(\d+)$", proc.stdout, re.M)]
        cpu = re.search(r"utime=([\d.]+)s stime=([\d.]+)s", proc.stderr)
        if frames and cpu:
            seconds = float(cpu.group(1)) + float(cpu.group(2))
            best = max(best, frames[-1] / seconds)
    return best


def clip_path(name: str) -> Path:
    """A clip of the test media (generated if missing)."""
    return ensure_media(DEFAULT_MEDIA_DIR) / name

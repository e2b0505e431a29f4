"""Shared machinery of the benchmarks: processes, CPU accounting, results.

* CPU time comes from ``/proc/<pid>/stat`` (utime + stime of every thread of
  the process), sampled at the start and end of a measurement window.
* The RTSP test server is the real GStreamer one of ``tests/support``; the
  service runs as its own process (``citywall serve --config <tmp yaml>``) so
  its CPU is separable from the browser's and the benchmark's.
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
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

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
CLK_TCK = os.sysconf("SC_CLK_TCK")
RTSP_OPEN_OPTIONS = {
    "rtsp_transport": "tcp",
    "analyzeduration": "0",
    "probesize": "32",
}
"""The service's own RTSP open options (``devices/cameras/reader.py``)."""


# ---------------------------------------------------------------------------
# CPU accounting from /proc


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, all threads) a live process has used.

    Returns 0.0 if the process is gone.
    """
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # the command name may contain spaces and parentheses: split after the last
    fields = text.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and every descendant, living or reaped.

    Each live process counts its own time plus that of the children it has
    reaped (``cutime``/``cstime``), so processes that start or end inside a
    window are accounted for too.
    """
    total = 0.0
    for p in (pid, *descendants(pid)):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / CLK_TCK
    return total


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds per thread (task id) of a live process."""
    out: dict[int, float] = {}
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                out[int(task.name)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def parent_of(pid: int) -> int:
    """The parent process id (0 if ``pid`` is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(text.rsplit(")", 1)[1].split()[1])


def descendants(pid: int) -> list[int]:
    """Process ids of every live descendant of ``pid`` (not ``pid`` itself)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@dataclass
class CpuWindow:
    """CPU use of named process groups over one wall-clock window.

    Call :meth:`start` and :meth:`stop`; a group is a list of pids whose CPU
    seconds are summed (a process that exits inside the window loses its
    share, so only long-lived processes belong here). The window also records
    how busy the whole machine was (``/proc/stat``) and how much of that came
    from processes outside this benchmark (``foreign_cores``): other work on
    a shared machine disturbs the figures and is reported, not hidden.
    """

    groups: dict[str, list[int]]
    wall_s: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)
    machine_s: float = 0.0
    ours_s: float = 0.0
    _t0: float = 0.0
    _c0: dict[str, float] = field(default_factory=dict)
    _m0: float = 0.0
    _o0: float = 0.0

    def _sample(self) -> dict[str, float]:
        return {
            name: sum(cpu_seconds(p) for p in pids)
            for name, pids in self.groups.items()
        }

    def start(self) -> None:
        """Begin the window."""
        self._o0 = tree_cpu_seconds(os.getpid())
        self._m0 = machine_busy_seconds()
        self._c0 = self._sample()
        self._t0 = time.monotonic()

    def stop(self) -> None:
        """End the window and compute CPU seconds per group."""
        c1 = self._sample()
        self.wall_s = time.monotonic() - self._t0
        self.machine_s = machine_busy_seconds() - self._m0
        self.ours_s = tree_cpu_seconds(os.getpid()) - self._o0
        self.cpu_s = {name: c1[name] - self._c0[name] for name in self.groups}

    def cores(self, name: str) -> float:
        """CPU seconds per wall second of a group (1.0 = one core busy)."""
        return self.cpu_s[name] / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def machine_cores(self) -> float:
        """Busy cores of the whole machine during the window."""
        return self.machine_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def foreign_cores(self) -> float:
        """Busy cores of processes outside this benchmark (and the kernel)."""
        if self.wall_s <= 0:
            return 0.0
        return max(0.0, (self.machine_s - self.ours_s) / self.wall_s)


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (``/proc/stat``)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


FOREIGN_LOAD_WARN_CORES = 0.15
"""Other processes' load above which a window is flagged as disturbed."""


def foreign_load_note(what: str, window: CpuWindow) -> list[str]:
    """A note when other processes loaded the machine during a window."""
    if window.foreign_cores <= FOREIGN_LOAD_WARN_CORES:
        return []
    return [
        f"{what}: other processes on the machine used {window.foreign_cores:.2f} "
        f"cores during the window (machine busy {window.machine_cores:.2f} of "
        f"{os.cpu_count()} cores); figures are disturbed"
    ]


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
# the RTSP test server


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
# the service as a separate process


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class CameraSpec:
    """One camera entry of the service's config."""

    id: str
    url: str
    always_on: bool = False


class ServiceProcess:
    """``citywall serve --config <tmp yaml>`` in its own process.

    Args:
        workdir: a scratch folder (config, database, log).
        cameras: the cameras to configure.
        idle_linger_s: ``streams.idle_linger_s``.
    """

    def __init__(
        self,
        workdir: Path,
        cameras: Sequence[CameraSpec],
        idle_linger_s: float = 10.0,
    ) -> None:
        self.workdir = workdir
        self.cameras = list(cameras)
        self.idle_linger_s = idle_linger_s
        self.port = free_port()
        self.token = secrets.token_urlsafe(24)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "service.log"
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        """Process id of the running service."""
        assert self._proc is not None, "service not started"
        return self._proc.pid

    def auth(self) -> dict[str, str]:
        """The admin bearer header."""
        return {"Authorization": f"Bearer {self.token}"}

    def live_url(self, camera: str | None = None, stream: str = "main") -> str:
        """The live page for one camera (or all), logged in by fragment."""
        query = f"stream={stream}" + (f"&camera={camera}" if camera else "")
        return f"{self.base_url}/live?{query}&lang=en#token={self.token}"

    def _config(self) -> str:
        lines = [
            "api:",
            "  host: 127.0.0.1",
            f"  port: {self.port}",
            "storage:",
            f"  data_dir: {json.dumps(str(self.workdir / 'data'))}",
            "models:",
            f"  manifests_dir: {json.dumps(str(self.workdir / 'models'))}",
            f"  cache_dir: {json.dumps(str(self.workdir / 'models-cache'))}",
            "streams:",
            f"  idle_linger_s: {self.idle_linger_s}",
            "cameras:",
        ]
        for cam in self.cameras:
            lines += [
                f"  - id: {cam.id}",
                f"    name: {cam.id}",
                f"    always_on: {'true' if cam.always_on else 'false'}",
                "    streams:",
                f"      main: {{url: {json.dumps(cam.url)}}}",
            ]
        return "\n".join(lines) + "\n"

    async def __aenter__(self) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "citywall.yaml"
        config.write_text(self._config())
        env = dict(os.environ, CITYWALL_ADMIN_TOKEN=self.token)
        with self.log_path.open("wb") as log:
            self._proc = await asyncio.create_subprocess_exec(
                str(CITYWALL), "serve", "--config", str(config),
                cwd=self.workdir,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        try:
            await self._wait_ready(30.0)
        except BaseException:
            await self.stop()
            raise
        return self

    async def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self._proc is not None
                if self._proc.returncode is not None:
                    raise RuntimeError(
                        f"service exited ({self._proc.returncode}): {self.log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get("/healthz")
                    if r.status_code in (200, 503):
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"service not ready in {timeout_s:.0f} s: {self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the service's log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    async def get(self, path: str) -> Any:
        """GET an API path with the admin token; the JSON body."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5.0) as client:
            r = await client.get(path, headers=self.auth())
            r.raise_for_status()
            return r.json()

    async def stream_state(self, camera: str) -> str:
        """The main stream's health state of a camera."""
        body = await self.get(f"/api/v1/cameras/{camera}")
        state: str = body["streams"]["main"]["health"]["state"]
        return state

    async def wait_live(self, cameras: Sequence[str], timeout_s: float = 20.0) -> None:
        """Wait until every camera's main stream is live."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            states = [await self.stream_state(c) for c in cameras]
            if all(s == "live" for s in states):
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"cameras not live in {timeout_s:.0f} s: {states}")

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; idempotent."""
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        self._proc = None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


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
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
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

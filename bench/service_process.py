"""The service under test as its own process: ``citywall serve --config <tmp yaml>``.

Running it apart from the benchmark keeps its CPU separable from the browser's
and the benchmark's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx

from bench.harness import CITYWALL, reap
from tests.support.service import free_port


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
            await reap(proc, 10)
        self._proc = None

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

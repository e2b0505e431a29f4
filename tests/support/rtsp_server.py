"""Control of the real GStreamer RTSP test server from tests and benchmarks.

The server itself (``gst_rtsp_server.py`` next to this module) needs Debian's
system interpreter because the GStreamer ``gi`` bindings are not installable in
the virtual environment; :class:`RtspServer` starts it as a subprocess with that
interpreter, waits for its ``READY <port>`` line and stops it with SIGTERM.

Example:
    >>> media = ensure_media(REPO_ROOT / "data" / "media")
    >>> with RtspServer(media, {"/main": MountSpec("test_main.h264")}) as srv:
    ...     url = srv.url("/main")
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parents[2]
"""Root of the repository (derived from this file's location)."""
SERVER_SCRIPT = Path(__file__).resolve().with_name("gst_rtsp_server.py")
"""The GStreamer server script run by :class:`RtspServer`."""
MAKE_MEDIA_SCRIPT = REPO_ROOT / "scripts" / "make_media.py"
"""The clip generator run by :func:`ensure_media`."""
DEFAULT_MEDIA_DIR = REPO_ROOT / "data" / "media"
"""Where the test clips live by default."""
SYSTEM_PYTHON_ENV = "CITYWALL_GST_PYTHON"
"""Environment variable overriding the interpreter that runs the server."""
DEFAULT_SYSTEM_PYTHON = "/usr/bin/python3"
"""Debian's interpreter, the one that has the GStreamer ``gi`` bindings."""
TEST_CLIPS: tuple[str, ...] = (
    "test_main.h264",
    "test_sub.h264",
    "test_hevc.h265",
    "latency_main.h264",
)
"""Files produced by ``make_media.py test``; all required (H.265 needs libx265)."""
STOP_GRACE_S = 3.0
"""Seconds between SIGTERM and SIGKILL in :meth:`RtspServer.stop`."""


class RtspServerError(RuntimeError):
    """The test RTSP server or its media could not be provided."""


@dataclass(frozen=True)
class MountSpec:
    """What one RTSP mount serves.

    Attributes:
        file: Raw Annex-B ``.h264``/``.h265`` file, relative to the server's
            media folder (or absolute); looped forever.
        user: User required by RTSP Basic authentication, ``None`` if open.
        password: Password of ``user``.
    """

    file: str
    user: str | None = None
    password: str | None = None

    def __post_init__(self) -> None:
        if (self.user is None) != (self.password is None):
            raise ValueError("MountSpec needs both user and password, or neither")
        if self.user is not None and (not self.user or ":" in self.user):
            raise ValueError("user must be non-empty and must not contain ':'")
        if self.password == "":
            raise ValueError("password must be non-empty")


def system_python() -> str:
    """Returns the interpreter with GStreamer bindings.

    Raises:
        RtspServerError: If it does not exist, naming the Debian packages.
    """
    python = os.environ.get(SYSTEM_PYTHON_ENV, DEFAULT_SYSTEM_PYTHON)
    if shutil.which(python) is None:
        raise RtspServerError(
            f"{python} not found: install the Debian packages python3 python3-gi "
            "gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp (or set "
            f"{SYSTEM_PYTHON_ENV})"
        )
    return python


def ensure_media(
    media_dir: Path = DEFAULT_MEDIA_DIR,
    clips: tuple[str, ...] = ("test",),
) -> Path:
    """Generates the test clips into ``media_dir`` unless they are current.

    ``make_media.py`` is idempotent (it compares a JSON stamp per file), so
    this is cheap when the clips exist.

    Args:
        media_dir: Folder for the clips.
        clips: Clip or group names understood by ``make_media.py``.

    Returns:
        ``media_dir``.

    Raises:
        RtspServerError: If ffmpeg is missing or generation fails.
    """
    if shutil.which("ffmpeg") is None:
        raise RtspServerError("ffmpeg not found: install the Debian package 'ffmpeg'")
    proc = subprocess.run(
        [sys.executable, str(MAKE_MEDIA_SCRIPT), "--out", str(media_dir), *clips],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RtspServerError(
            f"make_media.py failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    for name in TEST_CLIPS:
        if "test" in clips and not (media_dir / name).is_file():
            # a missing prerequisite is an error, never a skipped test
            hint = " (its ffmpeg lacks libx265)" if name.endswith(".h265") else ""
            raise RtspServerError(
                f"make_media.py did not produce {name}{hint}: install an ffmpeg"
                " with libx264 and libx265 and run scripts/setup.sh"
            )
    return media_dir


def _kill(proc: subprocess.Popen[str]) -> None:
    """Last-resort cleanup used by ``weakref.finalize``."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()


class RtspServer:
    """A real RTSP server subprocess serving looped clips.

    The server listens on 127.0.0.1. With ``port=None`` the server binds a free
    port on first start (no race with other processes); :meth:`restart` reuses
    whatever port it got.

    Args:
        media_dir: Folder the mount files are relative to.
        mounts: Mount path (``"/main"``; a missing leading slash is added) to
            what it serves.
        port: TCP port for RTSP, or ``None`` for a free one.
        fps: Frame rate the clips are paced at.
        latency_log: If given, mounts whose file name starts with ``latency_``
            append ``frame_number wall_clock_time_ns`` lines to this file.
        host: Listen address.
    """

    def __init__(
        self,
        media_dir: Path,
        mounts: dict[str, MountSpec],
        port: int | None = None,
        *,
        fps: int = 25,
        latency_log: Path | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        if not mounts:
            raise ValueError("at least one mount is required")
        self.media_dir = Path(media_dir)
        self.mounts: dict[str, MountSpec] = {
            (path if path.startswith("/") else f"/{path}"): spec
            for path, spec in mounts.items()
        }
        self.fps = fps
        self.latency_log = latency_log
        self.host = host
        self._port = port
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None
        self._finalizer: (
            weakref.finalize[[subprocess.Popen[str]], RtspServer] | None
        ) = None

    # -- properties -----------------------------------------------------

    @property
    def port(self) -> int:
        """The RTSP port.

        Raises:
            RtspServerError: If a free port was requested and the server never
                started.
        """
        if self._port is None:
            raise RtspServerError("port unknown until the server has started")
        return self._port

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of the running server, else ``None``."""
        return self._proc.pid if self.running and self._proc is not None else None

    # -- URLs -------------------------------------------------------------

    def url(
        self, mount: str, user: str | None = None, password: str | None = None
    ) -> str:
        """Returns the ``rtsp://`` URL of a mount.

        Args:
            mount: Mount path, with or without the leading slash.
            user: User name to embed (percent-encoded).
            password: Password to embed (percent-encoded); needs ``user``.

        Returns:
            The URL.

        Raises:
            KeyError: If the mount is not served.
            ValueError: If a password is given without a user.
        """
        path = mount if mount.startswith("/") else f"/{mount}"
        if path not in self.mounts:
            raise KeyError(f"no mount {path}; served: {', '.join(self.mounts)}")
        if password is not None and user is None:
            raise ValueError("password given without user")
        auth = ""
        if user is not None:
            auth = quote(user, safe="")
            if password is not None:
                auth += ":" + quote(password, safe="")
            auth += "@"
        return f"rtsp://{auth}{self.host}:{self.port}{path}"

    # -- lifecycle --------------------------------------------------------

    def _command(self, python: str) -> list[str]:
        cmd = [
            python,
            str(SERVER_SCRIPT),
            "--port", str(self._port if self._port is not None else 0),
            "--address", self.host,
            "--fps", str(self.fps),
        ]  # fmt: skip
        for path, spec in self.mounts.items():
            file = self.media_dir / spec.file
            if not file.is_file():
                raise RtspServerError(f"media file for {path} missing: {file}")
            value = f"{path}={file.resolve()}"
            if spec.user is not None and spec.password is not None:
                value += f":{spec.user}:{spec.password}"
            cmd += ["--mount", value]
        if self.latency_log is not None:
            cmd += ["--latency-log", str(self.latency_log)]
        return cmd

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4000:]

    def start(self, timeout_s: float = 10) -> None:
        """Starts the server and waits until it listens.

        Binding a fixed port is retried until ``timeout_s`` (the previous
        instance may still be releasing it).

        Args:
            timeout_s: Seconds to wait for ``READY``.

        Raises:
            RtspServerError: If it is already running, exits, or is not ready in
                time; the message includes the server's stderr.
        """
        if self.running:
            raise RtspServerError("server already running")
        python = system_python()
        deadline = time.monotonic() + timeout_s
        while True:
            error = self._spawn_and_wait(python, deadline)
            if error is None:
                return
            retry = "cannot listen" in error and time.monotonic() < deadline - 0.2
            self.stop()
            if not retry:
                raise RtspServerError(error)
            time.sleep(0.2)

    def _spawn_and_wait(self, python: str, deadline: float) -> str | None:
        self._close_files()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._proc = proc = subprocess.Popen(
            self._command(python),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=REPO_ROOT,
        )
        self._finalizer = weakref.finalize(self, _kill, proc)
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return f"RTSP server not ready in time:\n{self._stderr_tail()}"
                if not selector.select(timeout=min(remaining, 0.1)):
                    if proc.poll() is not None:
                        return self._exit_message(proc)
                    continue
                line = proc.stdout.readline()
                if not line:
                    proc.wait()
                    return self._exit_message(proc)
                if line.startswith("READY "):
                    port = int(line.split()[1])
                    if self._port is not None and port != self._port:
                        return f"server bound {port}, expected {self._port}"
                    self._port = port
                    return None

    def _exit_message(self, proc: subprocess.Popen[str]) -> str:
        return (
            f"RTSP server exited with status {proc.returncode}:\n{self._stderr_tail()}"
        )

    def stop(self) -> None:
        """Stops the server: SIGTERM, then SIGKILL after 3 s. Idempotent."""
        proc = self._proc
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None
            self._proc = None

    def restart(self, timeout_s: float = 10) -> None:
        """Stops and starts the server again on the same port.

        Args:
            timeout_s: Seconds to wait for the new instance to listen.
        """
        if self._port is None:
            raise RtspServerError("cannot restart a server that never started")
        self.stop()
        self.start(timeout_s=timeout_s)

    def stderr_text(self) -> str:
        """Returns the tail of the server's stderr (for diagnostics)."""
        return self._stderr_tail()

    def _close_files(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def close(self) -> None:
        """Stops the server and releases its log file."""
        self.stop()
        self._close_files()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"RtspServer(port={self._port}, mounts={list(self.mounts)}, {state})"

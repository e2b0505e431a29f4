"""A real Mosquitto broker on 127.0.0.1 for tests (Debian package ``mosquitto``).

:class:`Mosquitto` writes a config into its own folder, starts
``/usr/sbin/mosquitto`` on a free loopback port, waits until the port accepts
connections, and can be stopped (SIGTERM, persisting sessions), killed
(SIGKILL) and restarted on the same port. With ``users`` it requires those
user names and passwords (a password file made with ``mosquitto_passwd``);
otherwise anonymous clients are allowed. Persistence is on, so a persistent
session (``clean_session=False``) and its queued QoS 1 messages survive an
orderly restart.

The ``mosquitto_broker`` fixture yields a started broker in the test's
temporary folder and stops it afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

MOSQUITTO = os.environ.get("CITYWALL_MOSQUITTO", "/usr/sbin/mosquitto")
"""The broker binary (override with ``CITYWALL_MOSQUITTO``)."""
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
"""The password-file tool of the same package."""
STOP_GRACE_S = 3.0
"""Seconds between SIGTERM and SIGKILL in :meth:`Mosquitto.stop`."""


class MosquittoError(RuntimeError):
    """The broker could not be provided."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Mosquitto:
    """A Mosquitto process listening on 127.0.0.1.

    Args:
        workdir: Folder for its config, password file, persistence and log.
        users: User name → password; ``None`` allows anonymous clients.
        port: TCP port, or ``None`` for a free one (kept across restarts).
    """

    def __init__(
        self,
        workdir: Path,
        users: Mapping[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        if shutil.which(MOSQUITTO) is None:
            raise MosquittoError(
                f"{MOSQUITTO} not found: install the Debian package 'mosquitto'"
            )
        self.workdir = workdir
        self.users = dict(users or {})
        self.port = port or _free_port()
        self.log_path = workdir / "mosquitto.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:<port>``."""
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def _write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence true",
            f"persistence_location {data}/",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            # as root, mosquitto would switch to the 'mosquitto' user and could
            # no longer read this folder; stay the user who started it
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
        ]
        if self.users:
            passwords = self.workdir / "passwd"
            passwords.write_text("")
            passwords.chmod(0o600)
            for user, password in self.users.items():
                subprocess.run(
                    [MOSQUITTO_PASSWD, "-b", str(passwords), user, password],
                    check=True,
                    capture_output=True,
                )
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        config = self.workdir / "mosquitto.conf"
        config.write_text("\n".join(lines) + "\n")
        return config

    def start(self, timeout_s: float = 5.0) -> None:
        """Start the broker and wait until it accepts TCP connections.

        Raises:
            MosquittoError: If it exits or does not listen in time.
        """
        if self.running:
            raise MosquittoError("broker already running")
        config = self._write_config()
        deadline = time.monotonic() + timeout_s
        while True:
            self._proc = subprocess.Popen(
                [MOSQUITTO, "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            while time.monotonic() < deadline:
                if _accepts(self.port):
                    return
                if self._proc.poll() is not None:
                    break
                time.sleep(0.02)
            err = self._stop_proc()
            if time.monotonic() >= deadline:
                raise MosquittoError(f"mosquitto not listening in time:\n{err}")
            time.sleep(0.2)  # the port may still be held by the last instance

    def _stop_proc(self, sig: signal.Signals = signal.SIGTERM) -> str:
        proc, self._proc = self._proc, None
        if proc is None:
            return ""
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr is not None:
            proc.stderr.close()
        return err[-2000:]

    def stop(self) -> None:
        """Orderly stop (SIGTERM: sessions are persisted). Idempotent."""
        self._stop_proc(signal.SIGTERM)

    def kill(self) -> None:
        """Abrupt stop (SIGKILL): nothing is persisted. Idempotent."""
        self._stop_proc(signal.SIGKILL)

    def restart(self, timeout_s: float = 5.0) -> None:
        """Stop (SIGTERM) and start again on the same port."""
        self.stop()
        self.start(timeout_s)

    def log_text(self) -> str:
        """The broker's log so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@pytest.fixture
def mosquitto_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A started anonymous broker, stopped after the test."""
    with Mosquitto(tmp_path / "mosquitto") as broker:
        yield broker

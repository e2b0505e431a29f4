"""`citywall demo`: the whole service with no external service at all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.service import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_with_embedded_defaults_and_prints_logins(
    tmp_path: Path, media_dir: Path
) -> None:
    # the demo clips are made by the set-up command, like a user's first run
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "make_media.py"),
            "--out",
            str(media_dir),
            "demo",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wall",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
            "--media-dir",
            str(media_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Uvicorn running" in line or "Application startup complete" in line:
                break
        text = "".join(lines)
        tokens = dict(
            re.findall(
                r"^\s{4}(admin|duty_officer|operator|grid_worker|viewer)\s+(\S+)$",
                text,
                re.M,
            )
        )
        assert set(tokens) == {
            "admin",
            "duty_officer",
            "operator",
            "grid_worker",
            "viewer",
        }
        assert f"http://127.0.0.1:{port}/live#token=" in text
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {tokens['viewer']}"}
        cams = httpx.get(f"{base}/api/v1/cameras", headers=headers, timeout=10).json()[
            "cameras"
        ]
        assert [c["id"] for c in cams] == ["demo-1", "demo-2", "demo-3", "demo-4"]
        assert all(set(c["streams"]) == {"main", "sub"} for c in cams)
        r = httpx.get(
            f"{base}/api/v1/cameras/demo-3/snapshot.jpg", headers=headers, timeout=15
        )
        assert r.status_code == 200 and r.content[:2] == b"\xff\xd8"
        assert httpx.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rest, _ = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
    # uvicorn re-raises the signal after a graceful shutdown
    assert proc.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in rest
    # the demo's tokens survive a restart (kept in the data folder, hashed in SQLite)
    assert (tmp_path / "data" / "demo-tokens.json").exists()


def test_token_create_cli_mints_a_working_token(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"storage: {{data_dir: {tmp_path / 'd'}}}\n", encoding="utf-8")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "wall",
            "token",
            "create",
            "--role",
            "duty_officer",
            "--name",
            "值班员",
            "--config",
            str(cfg),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    secret = out.stdout.strip()
    assert secret.startswith("cw_")
    db = (tmp_path / "d" / "citywall.sqlite3").read_bytes()
    assert secret.encode() not in db
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "wall",
            "token",
            "create",
            "--role",
            "mayor",
            "--name",
            "x",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0 and "invalid choice" in bad.stderr


def test_example_config_is_valid() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "wall",
            "check-config",
            str(ROOT / "config.example.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CAM_BZ_JBDD_001_PASSWORD": "x"},
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr

"""The demo: the whole service with embedded defaults and no external service.

Four cameras are played from looped video files made at set-up (main and
sub stream each), SQLite lives in a local data folder, and a token is
minted for every role.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import time
from pathlib import Path

from devices.cameras.config import CameraConfig
from wall.config.settings import ApiSettings, Settings, StorageSettings
from wall.platform.auth import Role
from wall.platform.store.sqlite import SqliteStore
from wall.walls.settings import ScheduleWindowSettings, WallSettings

REPO_DIR = Path(__file__).resolve().parents[1]
MEDIA_SCRIPT = REPO_DIR / "scripts" / "make_media.py"

# Four places in Bazhong's town centre (WGS-84), for the map and FOV linking.
_DEMO_CAMERAS = (
    ("demo-1", "巴州区 江北大道 与 回风路口", 106.7478, 31.8588, 45.0, "BZ-BZQ-001"),
    ("demo-2", "恩阳区 古镇 入口广场", 106.6355, 31.7862, 180.0, "BZ-EYQ-014"),
    ("demo-3", "巴河 南龛大桥 桥头", 106.7590, 31.8521, 270.0, "BZ-BZQ-027"),
    ("demo-4", "通江县 城区 滨河路", 107.2455, 31.9118, 90.0, "BZ-TJX-103"),
)


def ensure_media(media_dir: Path) -> None:
    """Make the demo clips if they are missing (needs ffmpeg)."""
    wanted = [
        media_dir / f"demo_cam{i}_{r}.ts" for i in range(1, 5) for r in ("main", "sub")
    ]
    if all(p.exists() for p in wanted):
        return
    if not MEDIA_SCRIPT.exists():
        raise SystemExit(
            f"demo media missing in {media_dir} and no media script to make it"
        )
    subprocess.run(
        [sys.executable, str(MEDIA_SCRIPT), "--out", str(media_dir), "demo"], check=True
    )


def demo_settings(
    data_dir: Path, port: int, host: str = "127.0.0.1", media_dir: Path | None = None
) -> Settings:
    """Settings of the demo site (media defaults to ``data_dir/media``)."""
    media = (media_dir or data_dir / "media").resolve()
    return Settings(
        api=ApiSettings(host=host, port=port),
        storage=StorageSettings(data_dir=data_dir),
        cameras=tuple(_demo_cameras(media)),
        walls=_DEMO_WALLS,
    )


def _demo_cameras(media: Path) -> Iterator[CameraConfig]:
    # each demo camera loops its own pair of generated files (main and sub)
    for i, (cid, name, lon, lat, heading, cell) in enumerate(_DEMO_CAMERAS, start=1):
        yield CameraConfig.model_validate(
            {
                "id": cid,
                "name": name,
                "location": {"lon": lon, "lat": lat},
                "heading_deg": heading,
                "hfov_deg": 90.0,
                "range_m": 120.0,
                "tags": ["demo", "天网"],
                "grid_cell": cell,
                "streams": {
                    role: {"url": f"file://{media}/demo_cam{i}_{role}.ts", "loop": True}
                    for role in ("main", "sub")
                },
            }
        )


_DEMO_WALLS = (
    WallSettings(
        id="main",
        name="指挥大厅主屏",
        rows=3,
        cols=4,
        default_layout="mixed_4x3",
        schedule=(
            ScheduleWindowSettings(
                name="夜间值守",
                layout_id="emergency_4x3",
                start=time(22),
                end=time(6),
            ),
        ),
    ),
    WallSettings(
        id="duty", name="值班席副屏", rows=2, cols=2, default_layout="mixed_2x2"
    ),
)


async def demo_tokens(settings: Settings) -> dict[str, str]:
    """A token per role and a display token per wall, reused across demo runs.

    They are kept in the data folder (0600).
    """
    path = settings.storage.data_dir / "demo-tokens.json"
    known: dict[str, str] = {}
    if path.exists():
        known = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    # a person per role, and a display bound to each wall: only a wall's own
    # display reports what it has drawn
    wanted: list[tuple[str, Role, str | None]] = [(r.value, r, None) for r in Role]
    wanted += [(f"display-{w.id}", Role.VIEWER, w.id) for w in settings.walls]
    async with SqliteStore(settings.storage.sqlite_path) as store:
        for key, role, wall_id in wanted:
            secret = known.get(key)
            if secret is not None and await store.find_token(secret) is not None:
                out[key] = secret
                continue
            issued = await store.create_token(f"demo-{key}", role, wall_id)
            out[key] = issued.secret
    path.write_text(json.dumps(out, indent=2), encoding="utf-8")
    os.chmod(path, 0o600)
    return out

"""Detection event pictures survive a restart and leave with their records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from wall.detection.core import DetectionChange, FrameContext
from wall.detection.events import DetectionEvents
from wall.detection.repository import SqliteDetectionRepository
from wall.detection.snapshots import EventSnapshots
from wall.platform.event_bus import EventBus
from wall.platform.store.sqlite import SqliteStore

PICTURE = np.full((360, 640, 3), 90, np.uint8)
ZONE = ((0.0, 0.0), (640.0, 0.0), (640.0, 360.0))
Kind = Literal["raised", "updated", "cleared"]
KINDS: tuple[Kind, ...] = ("raised", "updated", "cleared")


def _events(store: SqliteStore, directory: Path, max_events: int) -> DetectionEvents:
    return DetectionEvents(
        SqliteDetectionRepository(store),
        EventBus(),
        max_events=max_events,
        snapshots=True,
        update_interval_s=0.0,
        snapshot_dir=directory,
        alarms=None,
        mqtt=None,
        clock=lambda: 100.0,
        wall_clock=lambda: datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
    )


def _change(kind: Kind, at: float) -> DetectionChange:
    return DetectionChange(
        "crowding",
        kind,
        "kerb",
        "major",
        90.0,
        at,
        {
            "count": 31,
            "density_ppm2": None,
            "peak_count": 31,
            "peak_density_ppm2": None,
        },
    )


CONTEXT = FrameContext("gate", "公交站", ZONE, PICTURE, (), {"name": "yolox_nano"})


async def test_pictures_survive_a_restart_and_follow_their_records(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "snapshots"
    async with SqliteStore(tmp_path / "db.sqlite3") as store:
        events = _events(store, folder, max_events=2)
        await events.load()
        for i, kind in enumerate(KINDS):
            await events.emit(_change(kind, 91.0 + i), CONTEXT)
        ids = [e.id for e in events.events()]
    # the oldest record was pruned at the third event, and its picture with it
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{i}.jpg" for i in ids)
    async with SqliteStore(tmp_path / "db.sqlite3") as store:
        again = _events(store, folder, max_events=2)
        await again.load()
        jpeg = await again.snapshot(ids[0])
        assert jpeg is not None
        picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert picture is not None and picture.shape == PICTURE.shape
        assert await again.snapshot("det-00000001") is None  # pruned
        assert await again.snapshot("../db") is None  # never a path outside


async def test_a_lower_limit_after_a_restart_sweeps_the_extra_pictures(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "snapshots"
    async with SqliteStore(tmp_path / "db.sqlite3") as store:
        events = _events(store, folder, max_events=10)
        await events.load()
        for i in range(4):
            await events.emit(_change("updated", 91.0 + i), CONTEXT)
    (folder / "det-00000009.jpg.tmp").write_bytes(b"half a write")
    async with SqliteStore(tmp_path / "db.sqlite3") as store:
        fewer = _events(store, folder, max_events=2)
        await fewer.load()
        kept = [e.id for e in fewer.events()]
    assert sorted(p.stem for p in folder.iterdir()) == sorted(kept)
    assert len(kept) == 2


async def test_without_a_directory_only_the_newest_pictures_stay_in_memory() -> None:
    snaps = EventSnapshots(None)
    for i in range(40):
        await snaps.put(f"det-{i:08d}", bytes([i]))
    assert await snaps.get("det-00000039") == bytes([39])
    assert await snaps.get("det-00000000") is None
    assert await snaps.keep_only([]) == 0

"""Layout saves and deletes, and schedule windows, when the store refuses a write.

A layout and its audit line commit together or not at all, and the library
changes only after they did. A schedule window is recorded only after its
activation committed, so the next check tries it again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from layouts import Layout
from layouts.content import StreamPref
from layouts.streams import StreamRole
from tests.wall.platform.store_lock import locked_by_backup
from wall.platform.event_bus import EventBus
from wall.platform.store.migrations import StoreError
from wall.platform.store.sqlite import SqliteStore
from wall.walls.core.commands import Instant
from wall.walls.library import LayoutLibrary
from wall.walls.service import WallService
from wall.walls.settings import ScheduleWindowSettings, WallSettings
from wall.walls.store import SqliteLayouts, SqliteWallStates

# a Wednesday, 09:00 in Shanghai (the default schedule zone)
BEFORE = datetime(2025, 6, 4, 1, 0, tzinfo=UTC)
IN_WINDOW = datetime(2025, 6, 4, 3, 0, tzinfo=UTC)


class OfflineCameras:
    """The camera directory of a site whose four cameras are all offline."""

    def ids(self) -> Collection[str]:
        return ("demo-1", "demo-2", "demo-3", "demo-4")

    def online(self, camera_id: str) -> bool:
        return False

    def stream_role(
        self, camera_id: str, preference: StreamPref, drawn_wh: tuple[int, int]
    ) -> StreamRole:
        return "sub"


WALL = WallSettings(
    id="main",
    name="main",
    rows=3,
    cols=4,
    default_layout="mixed_4x3",
    schedule=(
        ScheduleWindowSettings(
            name="briefing",
            layout_id="flood_drought_4x3",
            start=time(10, 30),
            end=time(12, 0),
        ),
    ),
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite3"


@pytest.fixture
async def store(db: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(db, busy_timeout_s=0.2) as opened:
        yield opened


async def test_a_layout_save_or_delete_the_store_refuses_changes_nothing(
    store: SqliteStore, db: Path
) -> None:
    bus = EventBus()
    sub = bus.subscribe(frozenset({"layout.saved", "layout.deleted"}))
    library = LayoutLibrary(SqliteLayouts(store), bus, [WALL], OfflineCameras().ids)
    await library.load()
    before = dict(library.layouts)
    stored = await store.list_kv("layout:")
    layout = before["grid_4x3"]
    renamed = Layout.model_validate(layout.model_dump() | {"name": "renamed"})
    with locked_by_backup(db):
        with pytest.raises(StoreError):
            await library.save(renamed, "admin", create=False)
        with pytest.raises(StoreError):
            await library.delete("grid_4x3", "admin", shown_on=[])
    assert library.layouts == before
    assert await store.list_kv("layout:") == stored
    assert await store.list_audit() == ()
    bus.close()
    assert await sub.get() is None  # nothing was published

    await library.save(renamed, "admin", create=False)  # the lock is gone
    assert library.get("grid_4x3").name == "renamed"
    [entry] = await store.list_audit()
    assert (entry.action, entry.target) == ("layout.update", "layout:grid_4x3")


async def test_a_schedule_window_is_recorded_only_after_its_activation(
    store: SqliteStore, db: Path
) -> None:
    clock = [Instant(BEFORE, 1.0)]
    service = WallService(
        [WALL],
        SqliteWallStates(store),
        SqliteLayouts(store),
        EventBus(),
        OfflineCameras(),
        now=lambda: clock[0],
    )
    async with service:
        assert service.states["main"].active_layout_id == "mixed_4x3"
        clock[0] = Instant(IN_WINDOW, 2.0)
        with locked_by_backup(db), pytest.raises(StoreError):
            await service.timers.check_schedule(WALL, clock[0])
        assert service.states["main"].active_layout_id == "mixed_4x3"
        assert await store.get_kv("wall_window:main") is None
        # the next check (the store is back) enters the window after all
        await service.timers.check_schedule(WALL, clock[0])
        assert service.states["main"].active_layout_id == "flood_drought_4x3"
        assert await store.get_kv("wall_window:main") == "briefing"

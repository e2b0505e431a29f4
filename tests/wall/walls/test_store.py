"""The walls' repositories over the store's key-value rows (typed keys, same rows)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from layouts import load_builtin_layouts
from layouts.content import TileContent
from wall.platform.audit import AuditEntry
from wall.platform.store.sqlite import SqliteStore
from wall.walls.core.commands import ActivateLayout, Instant
from wall.walls.core.wall_state import WallState, apply
from wall.walls.repository import StoredStateUnreadable
from wall.walls.store import KeyKind, SqliteLayouts, SqliteWallStates, StoreKey


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wall_state:main", StoreKey(KeyKind.WALL_STATE, "main")),
        ("wall_window:duty", StoreKey(KeyKind.WALL_WINDOW, "duty")),
        ("layout:a:b", StoreKey(KeyKind.LAYOUT, "a:b")),
    ],
)
def test_keys_round_trip(text: str, expected: StoreKey) -> None:
    assert StoreKey.parse(text) == expected
    assert expected.text == text


@pytest.mark.parametrize("text", ["wall_state", "layout:", "tokens:1"])
def test_other_keys_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"walls key|KeyKind|not a valid"):
        StoreKey.parse(text)


async def test_states_windows_and_layouts_survive_a_reopen(tmp_path: Path) -> None:
    now = Instant(datetime(2026, 1, 1, tzinfo=UTC), 1.0)
    cmd = ActivateLayout(wall_id="main", layout_id="grid_4x3", actor="op")
    state: WallState[TileContent] = apply(WallState("main"), cmd, now).state
    layout = load_builtin_layouts()[0]
    async with SqliteStore(tmp_path / "s.db") as store:
        states, layouts = SqliteWallStates(store), SqliteLayouts(store)
        assert await states.load("main") is None
        assert await layouts.load_all() is None  # never stored: seed it
        await states.save(state, AuditEntry(actor="op", action="wall.activate"))
        await states.save_window("main", "night")
        await layouts.save(layout, AuditEntry(actor="op", action="layout.update"))
        await store.put_kv(StoreKey(KeyKind.WALL_STATE, "bad").text, {"format": 99})
    async with SqliteStore(tmp_path / "s.db") as store:
        states, layouts = SqliteWallStates(store), SqliteLayouts(store)
        assert await states.load("main") == state
        assert await states.load_window("main") == "night"
        assert await layouts.load_all() == [layout]
        with pytest.raises(StoredStateUnreadable):
            await states.load("bad")
        await layouts.delete(layout.id, AuditEntry(actor="op", action="layout.delete"))
        assert await layouts.load_all() is None
        actions = [e.action for e in await store.list_audit()]
        assert actions == ["layout.delete", "layout.update", "wall.activate"]

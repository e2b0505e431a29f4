"""The walls' repositories over the platform store's key-value rows (SQLite today).

Keys are typed (:class:`StoreKey`), not strings spelled at each use; the rows
are those of earlier versions (``wall_state:{id}``, ``wall_window:{id}``,
``layout:{id}``), so nothing migrates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from layouts import Layout, LayoutInvalid
from layouts.content import TileContent
from layouts.loader import parse_layout_data
from wall.platform.audit import AuditEntry
from wall.platform.store.protocols import AuditedRows
from wall.platform.store.sqlite.store import stored_keys
from wall.walls.codec import state_from_json, state_to_json
from wall.walls.core.wall_state import WallState
from wall.walls.repository import StoredStateUnreadable

log = logging.getLogger(__name__)


class KeyKind(StrEnum):
    """What a key-value row of the walls holds."""

    WALL_STATE = "wall_state"
    WALL_WINDOW = "wall_window"
    LAYOUT = "layout"


@dataclass(frozen=True, slots=True)
class StoreKey:
    """A typed key of the walls' key-value rows.

    Examples:
        >>> StoreKey(KeyKind.WALL_STATE, "main").text
        'wall_state:main'
        >>> StoreKey.parse("layout:grid_4x3")
        StoreKey(kind=<KeyKind.LAYOUT: 'layout'>, id='grid_4x3')
    """

    kind: KeyKind
    id: str

    @property
    def text(self) -> str:
        """The row's key."""
        return f"{self.kind.value}:{self.id}"

    @staticmethod
    def prefix(kind: KeyKind) -> str:
        """The key prefix of every row of ``kind``."""
        return f"{kind.value}:"

    @classmethod
    def parse(cls, text: str) -> StoreKey:
        """Read a row's key.

        Raises:
            ValueError: not a walls key.
        """
        kind, sep, ident = text.partition(":")
        if not sep or not ident:
            raise ValueError(f"not a walls key: {text!r}")
        return cls(KeyKind(kind), ident)


def layout_json(layout: Layout) -> dict[str, Any]:
    """The stored (and file) form of a layout."""
    data: dict[str, Any] = layout.model_dump(mode="json", exclude_none=True)
    return data


class SqliteWallStates:
    """:class:`~wall.walls.repository.WallStateRepository` over the store."""

    def __init__(self, store: AuditedRows) -> None:
        self._store = store

    async def load(self, wall_id: str) -> WallState[TileContent] | None:
        """The stored state, or None (see the Protocol)."""
        data = await self._store.get_kv(StoreKey(KeyKind.WALL_STATE, wall_id).text)
        if data is None:
            return None
        if not isinstance(data, dict):
            raise StoredStateUnreadable(f"wall state is a {type(data).__name__}")
        try:
            return state_from_json(data)
        except ValueError as err:
            raise StoredStateUnreadable(str(err)) from err

    async def save(self, state: WallState[TileContent], audit: AuditEntry) -> None:
        """Store a wall's state and its audit entry in one transaction."""
        key = StoreKey(KeyKind.WALL_STATE, state.wall_id)
        await self._store.write_audited(audit, put={key.text: state_to_json(state)})

    async def load_window(self, wall_id: str) -> str | None:
        """The schedule window the wall was last in."""
        value = await self._store.get_kv(StoreKey(KeyKind.WALL_WINDOW, wall_id).text)
        return value if isinstance(value, str) else None

    async def save_window(self, wall_id: str, name: str | None) -> None:
        """Remember the schedule window the wall is in."""
        await self._store.put_kv(StoreKey(KeyKind.WALL_WINDOW, wall_id).text, name)


class SqliteLayouts:
    """:class:`~wall.walls.repository.LayoutRepository` over the store."""

    def __init__(self, store: AuditedRows) -> None:
        self._store = store

    async def load_all(self) -> list[Layout] | None:
        """Every readable stored layout; an unreadable one is logged and skipped."""
        stored = await self._store.list_kv(StoreKey.prefix(KeyKind.LAYOUT))
        if not stored:
            return None
        layouts = []
        for key, data in stored.items():
            try:
                layouts.append(parse_layout_data(data, key))
            except LayoutInvalid as err:  # keep the rest: one bad record is not fatal
                log.error("stored layout %s is invalid: %s", key, err)
        return layouts

    async def seed(self, layout: Layout) -> None:
        """Store a shipped layout."""
        key = StoreKey(KeyKind.LAYOUT, layout.id)
        await self._store.put_kv(key.text, layout_json(layout))

    async def save(self, layout: Layout, audit: AuditEntry) -> None:
        """Store a layout and its audit entry in one transaction."""
        key = StoreKey(KeyKind.LAYOUT, layout.id)
        await self._store.write_audited(audit, put={key.text: layout_json(layout)})

    async def delete(self, layout_id: str, audit: AuditEntry) -> None:
        """Forget a layout and append its audit entry in one transaction."""
        key = StoreKey(KeyKind.LAYOUT, layout_id)
        await self._store.write_audited(audit, delete=[key.text])


def saved_layout_ids(database: Path) -> frozenset[str]:
    """Ids of the layouts in a database file (read-only, blocking; for the CLI).

    Config checks use them beside the shipped layouts: a wall's default
    layout may be one an admin saved through the API.
    """
    prefix = StoreKey.prefix(KeyKind.LAYOUT)
    return frozenset(StoreKey.parse(key).id for key in stored_keys(database, prefix))

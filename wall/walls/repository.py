"""What the walls capability keeps, as Protocols it owns (one class each per store).

A change and its audit entry (O2) are saved by one call, so they commit
together. SQLite implementations live in :mod:`wall.walls.store`; a
PostgreSQL one is one more class per Protocol, not edits in the service.
"""

from __future__ import annotations

from typing import Protocol

from layouts import Layout
from layouts.content import TileContent
from wall.platform.audit import AuditEntry
from wall.walls.core.wall_state import WallState


class StoredStateUnreadable(ValueError):
    """A stored wall state that cannot be read back (the wall starts fresh)."""


class WallStateRepository(Protocol):
    """Each wall's desired state and the schedule window it is in."""

    async def load(self, wall_id: str) -> WallState[TileContent] | None:
        """The stored state, or None for a wall never stored.

        Raises:
            StoredStateUnreadable: a record of an unknown format or malformed.
        """
        ...

    async def save(self, state: WallState[TileContent], audit: AuditEntry) -> None:
        """Store a wall's state and append its audit entry, all or nothing.

        Raises:
            StoreError: nothing was stored (the caller keeps its old state).
        """
        ...

    async def load_window(self, wall_id: str) -> str | None:
        """The schedule window the wall was last in (None: outside every one)."""
        ...

    async def save_window(self, wall_id: str, name: str | None) -> None:
        """Remember the schedule window the wall is in."""
        ...


class LayoutRepository(Protocol):
    """The layout library's records."""

    async def load_all(self) -> list[Layout] | None:
        """Every readable stored layout; None when the library was never stored."""
        ...

    async def seed(self, layout: Layout) -> None:
        """Store a shipped layout in an empty library (no audit entry)."""
        ...

    async def save(self, layout: Layout, audit: AuditEntry) -> None:
        """Store a layout (replacing one with its id) and its audit entry, together.

        Raises:
            StoreError: nothing was stored.
        """
        ...

    async def delete(self, layout_id: str, audit: AuditEntry) -> None:
        """Forget a layout (idempotent) and append its audit entry, together.

        Raises:
            StoreError: nothing was deleted.
        """
        ...

"""The wall commands as the API speaks them: by wall, tile and layout id."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import partial

from layouts import Layout
from layouts.content import TileContent
from wall.platform.errors import NotFound
from wall.walls.core.commands import (
    ActivateLayout,
    Cause,
    ClearTileOverride,
    Command,
    PushTile,
    RevertCause,
    TileBack,
)
from wall.walls.core.wall_state import Transition, WallState
from wall.walls.settings import WallSettings


class WallOperations(ABC):
    """Convenience commands over :meth:`execute` (the service implements it)."""

    states: dict[str, WallState[TileContent]]

    @property
    @abstractmethod
    def layouts(self) -> dict[str, Layout]:
        """Layouts by id."""

    @abstractmethod
    def wall(self, wall_id: str) -> WallSettings:
        """A wall's settings or :class:`NotFound`."""

    @abstractmethod
    async def execute(self, command: Command[TileContent]) -> Transition[TileContent]:
        """Apply a command to its wall."""

    async def activate(
        self,
        wall_id: str,
        layout_id: str,
        actor: str,
        cause: Cause = Cause.OPERATOR,
        cause_ref: str | None = None,
    ) -> Transition[TileContent]:
        """Switch a wall to a layout."""
        return await self.execute(
            ActivateLayout(
                wall_id=wall_id,
                layout_id=layout_id,
                actor=actor,
                cause=cause,
                cause_ref=cause_ref,
            )
        )

    async def push_tile(
        self, wall_id: str, tile_id: str, content: TileContent, actor: str
    ) -> Transition[TileContent]:
        """Put content into a tile of the wall's active layout (an override)."""
        push = partial(PushTile, content=content)
        return await self._on_tile(push, wall_id, tile_id, actor)

    async def clear_tile(
        self, wall_id: str, tile_id: str, actor: str
    ) -> Transition[TileContent]:
        """Drop a tile's override: it shows its layout's own content again."""
        return await self._on_tile(ClearTileOverride, wall_id, tile_id, actor)

    async def tile_back(
        self, wall_id: str, tile_id: str, actor: str
    ) -> Transition[TileContent]:
        """Restore a tile's previous content (W10)."""
        return await self._on_tile(TileBack, wall_id, tile_id, actor)

    async def _on_tile(
        self,
        command: Callable[..., Command[TileContent]],
        wall_id: str,
        tile_id: str,
        actor: str,
    ) -> Transition[TileContent]:
        # a tile command goes to the topmost layout on the wall that has the tile
        layout_id = self.layout_with_tile(wall_id, tile_id)
        return await self.execute(
            command(wall_id=wall_id, tile_id=tile_id, actor=actor, layout_id=layout_id)
        )

    async def revert(
        self, wall_id: str, cause_ref: str, actor: str
    ) -> Transition[TileContent]:
        """Revert what an activation with ``cause_ref`` put on the wall."""
        return await self.execute(
            RevertCause(wall_id=wall_id, cause_ref=cause_ref, actor=actor)
        )

    def layout_with_tile(self, wall_id: str, tile_id: str) -> str:
        """The topmost layout on the wall that has the tile.

        Raises:
            NotFound: unknown wall, or no layout on it has the tile.
        """
        self.wall(wall_id)
        screen = self.states[wall_id].screen
        for part in reversed(screen.parts):
            layout = self.layouts.get(part.layout_id)
            if layout is not None and any(t.id == tile_id for t in layout.tiles):
                return layout.id
        raise NotFound("tile_not_found", f"no tile {tile_id!r} on wall {wall_id!r}")

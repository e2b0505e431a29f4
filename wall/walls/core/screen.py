"""What a wall shows: layouts on panels and tile overrides with their memory (W3, W10).

Pure (HS1). A :class:`Screen` is a value: every change returns a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic

from wall.walls.core.commands import C

HISTORY_DEPTH = 8
"""Previous contents a tile remembers for "back" (W10, Genetec)."""


@dataclass(frozen=True, slots=True)
class Part:
    """One layout on a set of panels; an empty set means the whole wall."""

    layout_id: str
    panel_ids: frozenset[str] = frozenset()

    def covers(self, panel_id: str) -> bool:
        """Whether this part is on ``panel_id``."""
        return not self.panel_ids or panel_id in self.panel_ids

    def hides(self, other: Part) -> bool:
        """Whether this part covers every panel of ``other``."""
        if not self.panel_ids:
            return True
        return bool(other.panel_ids) and other.panel_ids <= self.panel_ids


@dataclass(frozen=True, slots=True)
class TileSlot(Generic[C]):
    """A tile's override and its memory; ``None`` is the layout's own content."""

    layout_id: str
    tile_id: str
    content: C | None = None
    history: tuple[C | None, ...] = ()


@dataclass(frozen=True, slots=True)
class Screen(Generic[C]):
    """Layouts by panel (later parts on top) plus tile overrides."""

    parts: tuple[Part, ...] = ()
    tiles: tuple[TileSlot[C], ...] = ()

    @property
    def layout_id(self) -> str | None:
        """The layout activated last, i.e. the one on top."""
        return self.parts[-1].layout_id if self.parts else None

    def layout_for_panel(self, panel_id: str) -> str | None:
        """The layout shown on one panel (W3)."""
        return next(
            (p.layout_id for p in reversed(self.parts) if p.covers(panel_id)), None
        )

    def shows(self, layout_id: str) -> bool:
        """Whether ``layout_id`` is on at least one panel."""
        return any(p.layout_id == layout_id for p in self.parts)

    def slot(self, layout_id: str, tile_id: str) -> TileSlot[C] | None:
        """The tile's override and memory, if it has any."""
        key = (layout_id, tile_id)
        return next((s for s in self.tiles if (s.layout_id, s.tile_id) == key), None)

    def overrides(self, layout_id: str | None) -> Mapping[str, C]:
        """Tile id → overriding content for one layout."""
        return MappingProxyType(
            {
                s.tile_id: s.content
                for s in self.tiles
                if s.layout_id == layout_id and s.content is not None
            }
        )

    def visible(self) -> tuple[tuple[Part, ...], tuple[tuple[str, str, C], ...]]:
        """What displays render: parts and overrides, without tile memory."""
        shown = tuple(
            (s.layout_id, s.tile_id, s.content)
            for s in self.tiles
            if s.content is not None
        )
        return self.parts, shown

    def with_part(self, part: Part) -> Screen[C]:
        """Activate ``part``: hidden parts go, and so do their and its overrides."""
        parts = (*(p for p in self.parts if not part.hides(p)), part)
        kept = {p.layout_id for p in parts[:-1]} - {part.layout_id}
        return Screen(parts, tuple(s for s in self.tiles if s.layout_id in kept))

    def over(self, under: Screen[C]) -> Screen[C]:
        """This screen laid over ``under``."""
        screen = under
        for part in self.parts:
            screen = screen.with_part(part)
        own = tuple(s for s in self.tiles if screen.shows(s.layout_id))
        return Screen(screen.parts, _sorted((*screen.tiles, *own)))

    def set_tile(self, layout_id: str, tile_id: str, content: C | None) -> Screen[C]:
        """Override a tile; the old content goes to its memory (W10)."""
        empty: TileSlot[C] = TileSlot(layout_id, tile_id)
        old = self.slot(layout_id, tile_id) or empty
        if old.content == content:
            return self
        history = (*old.history, old.content)[-HISTORY_DEPTH:]
        return self._with_slot(TileSlot(layout_id, tile_id, content, history))

    def back(self, layout_id: str, tile_id: str) -> Screen[C]:
        """Restore a tile's previous content; unchanged when it has none."""
        old = self.slot(layout_id, tile_id)
        if old is None or not old.history:
            return self
        return self._with_slot(
            TileSlot(layout_id, tile_id, old.history[-1], old.history[:-1])
        )

    def _with_slot(self, slot: TileSlot[C]) -> Screen[C]:
        key = (slot.layout_id, slot.tile_id)
        tiles = [s for s in self.tiles if (s.layout_id, s.tile_id) != key]
        if slot.content is not None or slot.history:
            tiles.append(slot)
        return Screen(self.parts, _sorted(tiles))


EMPTY_SCREEN: Screen[Any] = Screen()
"""A screen with nothing on it."""


def _sorted(
    tiles: tuple[TileSlot[C], ...] | list[TileSlot[C]],
) -> tuple[TileSlot[C], ...]:
    return tuple(sorted(tiles, key=lambda s: (s.layout_id, s.tile_id)))

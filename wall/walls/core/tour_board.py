"""Every touring tile of a wall on one clock: what it shows, when it switches (T2-T6).

Pure (HS1): the caller passes both clock readings and an ``online`` predicate.
The server runs one board per wall, so every display and composed panel of
the wall shows the same item at the same moment (T6); pages only draw it.

Every tour is anchored at the UTC epoch, as the pages anchored it before:
tiles running the same items switch together, and a restart keeps the phase.
Intervals run on the monotonic clock, so an NTP step never shortens a dwell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from layouts.tour_content import MIN_DWELL_S, TourContent
from wall.walls.core.commands import Instant
from wall.walls.core.tours import TourCursor, TourItem, TourStatus, TourView


@dataclass(frozen=True, slots=True)
class TileTour:
    """What one touring tile shows now.

    Attributes:
        tile_id: the tile, as in the wall render.
        status: playing, all sources offline, no items, or paused.
        camera_id: the camera on screen (``None`` unless playing or paused).
        next_camera_id: the camera of the next slot, to buffer ahead (T3);
            ``None`` when the tile will not switch.
        switch_at: when the next slot starts, UTC; ``None`` when it will not.
    """

    tile_id: str
    status: TourStatus
    camera_id: str | None = None
    next_camera_id: str | None = None
    switch_at: datetime | None = None


def tour_items(content: TourContent) -> tuple[TourItem[str], ...]:
    """The cursor's items of a tour tile: camera ids with their dwells.

    A dwell under the minimum (refused when a layout is saved) is held for
    the minimum rather than stopping the other tours.

    Examples:
        >>> from layouts.tour_content import TourItem as Item
        >>> tour = TourContent(items=(Item(camera_id="a"), Item(camera_id="b",
        ...                    dwell_s=5)), dwell_s=20)
        >>> [(i.content, i.dwell_s) for i in tour_items(tour)]
        [('a', 20.0), ('b', 5.0)]
    """
    return tuple(
        TourItem(item.camera_id, max(MIN_DWELL_S, content.dwell_of(item)))
        for item in content.items
    )


class TourBoard:
    """The cursors of one wall's touring tiles; time and cameras come in.

    Call :meth:`step` with the tiles that tour now; it starts, edits (T5)
    and forgets cursors to match and answers what each tile shows.
    """

    def __init__(self) -> None:
        self._tiles: dict[str, tuple[TourContent, TourCursor[str]]] = {}
        self._epoch_minus_monotonic_s: float | None = None

    def step(
        self,
        touring: Mapping[str, TourContent],
        now: Instant,
        online: Callable[[str], bool],
    ) -> tuple[dict[str, TileTour], float | None]:
        """Advance every touring tile to ``now``.

        Args:
            touring: tile id -> tour content of every tile touring now.
            now: both clock readings.
            online: whether a camera can be shown (T2).

        Returns:
            The state of each touring tile, and the seconds until one of them
            changes next (``None`` when no tile tours).
        """
        if self._epoch_minus_monotonic_s is None:
            self._epoch_minus_monotonic_s = now.utc.timestamp() - now.monotonic_s
        for tile_id in self._tiles.keys() - touring.keys():
            del self._tiles[tile_id]
        states: dict[str, TileTour] = {}
        waits: list[float] = []
        for tile_id, content in touring.items():
            view = self._cursor(tile_id, content, now).at(
                now.monotonic_s, lambda item: online(item.content)
            )
            self._tiles[tile_id] = (content, view.cursor)
            states[tile_id] = self._state(tile_id, view)
            if view.wait_s is not None:
                waits.append(view.wait_s)
        return states, min(waits, default=None)

    def _cursor(
        self, tile_id: str, content: TourContent, now: Instant
    ) -> TourCursor[str]:
        known = self._tiles.get(tile_id)
        if known is not None and known[0] == content:
            return known[1]
        items = tour_items(content)
        if known is not None and known[0].skip_offline == content.skip_offline:
            return known[1].with_items(items, now.monotonic_s)  # T5
        return TourCursor.start(
            items,
            now.monotonic_s,
            phase_s=now.monotonic_s + self._offset_s(),
            skip_offline=content.skip_offline,
        )

    def _offset_s(self) -> float:
        return self._epoch_minus_monotonic_s or 0.0

    def _state(self, tile_id: str, view: TourView[str]) -> TileTour:
        if view.status is TourStatus.PAUSED and view.item is not None:
            return TileTour(tile_id, view.status, view.item.content)
        if view.status is not TourStatus.PLAYING or view.item is None:
            return TileTour(tile_id, view.status)
        items, index, following = view.cursor.items, view.index, view.next_index
        if following is None or following == index or view.switch_at_s is None:
            return TileTour(tile_id, view.status, view.item.content)
        switch_at = datetime.fromtimestamp(view.switch_at_s + self._offset_s(), UTC)
        return TileTour(
            tile_id,
            view.status,
            view.item.content,
            items[following].content,
            switch_at,
        )

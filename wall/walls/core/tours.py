"""Tour cursor (轮巡): which item a touring tile shows, and when it switches (T1-T6).

Pure (HS1): the caller passes the monotonic time and an ``online`` predicate,
and keeps the returned cursor. A cursor advances slot by slot from the start
of its current slot, so two cursors started at the same instant stay in step
(T6) however often each is asked. The dwell rules (T1) live once, in
:mod:`layouts.tour_content`; the layout check also warns of unusual dwells.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Generic, TypeVar

from layouts.tour_content import DEFAULT_DWELL_S, MIN_DWELL_S

C = TypeVar("C")

DEFAULT_PREFETCH_S = 1.5
"""Start buffering the next item this long before its slot (T3)."""
ALL_OFFLINE_RECHECK_S = 5.0
"""Proposed default wait between checks while every item is offline (T2)."""


class DwellTooShort(ValueError):
    """A tour item dwell under :data:`MIN_DWELL_S` (T1).

    Attributes:
        dwell_s: the rejected dwell.
    """

    def __init__(self, dwell_s: float) -> None:
        super().__init__(f"dwell {dwell_s} s is under the {MIN_DWELL_S} s minimum")
        self.dwell_s = dwell_s


@dataclass(frozen=True, slots=True)
class TourItem(Generic[C]):
    """One source of a tour and how long it stays on screen."""

    content: C
    dwell_s: float = DEFAULT_DWELL_S

    def __post_init__(self) -> None:
        if not self.dwell_s >= MIN_DWELL_S:
            raise DwellTooShort(self.dwell_s)


class TourStatus(StrEnum):
    """What the touring tile shows."""

    PLAYING = "playing"
    PAUSED = "paused"
    ALL_OFFLINE = "all_offline"
    EMPTY = "empty"


Online = Callable[[TourItem[C]], bool]


@dataclass(frozen=True, slots=True)
class TourView(Generic[C]):
    """The answer of :meth:`TourCursor.at`; keep ``cursor`` for the next call.

    Attributes:
        cursor: the advanced cursor.
        status: playing, paused, all sources offline, or no items.
        index: the item on screen while playing or paused.
        next_index: the item to buffer for the next slot (T3).
        switch_at_s: monotonic time of the next switch.
        prefetch_at_s: monotonic time to start buffering ``next_index``.
        wait_s: seconds until the caller should ask again; ``None`` while
            paused or empty (only a command changes anything then). Never 0,
            so an all-offline tour cannot busy-loop (T2).
    """

    cursor: TourCursor[C]
    status: TourStatus
    index: int | None = None
    next_index: int | None = None
    switch_at_s: float | None = None
    prefetch_at_s: float | None = None
    wait_s: float | None = None

    @property
    def item(self) -> TourItem[C] | None:
        """The item on screen."""
        return None if self.index is None else self.cursor.items[self.index]


@dataclass(frozen=True, slots=True)
class TourCursor(Generic[C]):
    """Where a touring tile is: item index and the start of its slot.

    Attributes:
        items: the tour's items in order (shuffle them before, if wanted).
        index: the current (or, while waiting, the last) item.
        slot_start_s: monotonic start of the current slot.
        paused: pre-empted by an alarm (T4).
        waiting: every item was offline at the last call (T2).
        skip_offline: skip items the ``online`` predicate rejects.
        prefetch_s: buffering lead before a switch (T3).
    """

    items: tuple[TourItem[C], ...]
    index: int = 0
    slot_start_s: float = 0.0
    paused: bool = False
    waiting: bool = False
    skip_offline: bool = True
    prefetch_s: float = DEFAULT_PREFETCH_S

    @classmethod
    def start(
        cls,
        items: tuple[TourItem[C], ...],
        now_monotonic_s: float,
        *,
        phase_s: float = 0.0,
        skip_offline: bool = True,
        prefetch_s: float = DEFAULT_PREFETCH_S,
    ) -> TourCursor[C]:
        """Start a tour as if it had been running for ``phase_s`` seconds (T6).

        Tiles started at the same instant with the same phase stay in sync;
        a phase equal to the first dwell puts a tile one item ahead.
        """
        return cls(
            items,
            slot_start_s=now_monotonic_s - phase_s,
            skip_offline=skip_offline,
            prefetch_s=prefetch_s,
        )

    def at(self, now_monotonic_s: float, online: Online[C]) -> TourView[C]:
        """What to show at ``now_monotonic_s`` (T2, T3).

        An item that goes offline mid-slot is left at once; items are judged
        online or not at the time of the call.

        Examples:
            >>> tour = TourCursor.start((TourItem("a", 10), TourItem("b", 5)), 0.0)
            >>> view = tour.at(12.0, lambda item: True)
            >>> view.item.content, view.switch_at_s, view.prefetch_at_s
            ('b', 15.0, 13.5)
        """
        now = now_monotonic_s
        if not self.items:
            return TourView(self, TourStatus.EMPTY)
        if self.paused:
            return TourView(self, TourStatus.PAUSED, index=self.index)
        is_on = online if self.skip_offline else _always
        up = [i for i, item in enumerate(self.items) if is_on(item)]
        if not up:
            waiting = replace(self, waiting=True)
            return TourView(
                waiting, TourStatus.ALL_OFFLINE, wait_s=ALL_OFFLINE_RECHECK_S
            )
        cursor = self._advance(now, up)
        index, start = cursor.index, cursor.slot_start_s
        switch_at = start + self.items[index].dwell_s
        nxt = _following(index, up)
        prefetch_at = max(start, switch_at - self.prefetch_s) if nxt != index else None
        wake = (
            prefetch_at if prefetch_at is not None and prefetch_at > now else switch_at
        )
        return TourView(
            cursor,
            TourStatus.PLAYING,
            index=index,
            next_index=nxt,
            switch_at_s=switch_at,
            prefetch_at_s=prefetch_at,
            wait_s=wake - now,
        )

    def _advance(self, now: float, up: list[int]) -> TourCursor[C]:
        index, start = self.index % len(self.items), self.slot_start_s
        if self.waiting or index not in up:
            # Back from all-offline, or the item went down: switch right away.
            index = index if self.waiting and index in up else _following(index, up)
            return replace(self, index=index, slot_start_s=now, waiting=False)
        cycle_s = sum(self.items[i].dwell_s for i in up)
        if now - start >= cycle_s:
            # A whole cycle over the online items comes back to this item.
            start += (now - start) // cycle_s * cycle_s
        while now >= start + self.items[index].dwell_s:
            start += self.items[index].dwell_s
            index = _following(index, up)
        return replace(self, index=index, slot_start_s=start)

    def pause(self) -> TourCursor[C]:
        """Pause on the current item while an alarm holds the tile (T4)."""
        return replace(self, paused=True)

    def resume(self, now_monotonic_s: float, online: Online[C]) -> TourCursor[C]:
        """Resume at the item *after* the one that was pre-empted (T4)."""
        if not self.paused:
            return self
        is_on = online if self.skip_offline else _always
        up = [i for i, item in enumerate(self.items) if is_on(item)]
        if not up:
            return replace(self, paused=False, waiting=True)
        index = _following(self.index, up)
        return replace(self, index=index, slot_start_s=now_monotonic_s, paused=False)

    def with_items(
        self, items: tuple[TourItem[C], ...], now_monotonic_s: float
    ) -> TourCursor[C]:
        """Edit the tour while it runs (T5).

        The current item keeps its slot if it is still in the tour; if it
        was removed, the item that took its place (or the first) starts now.

        Examples:
            >>> a, b, c = (TourItem(x, 10) for x in "abc")
            >>> tour = TourCursor((a, b, c), index=1, slot_start_s=0.0)
            >>> moved = tour.with_items((a, c), 4.0)
            >>> moved.items[moved.index].content, moved.slot_start_s
            ('c', 4.0)
        """
        if not self.items or not items:
            return replace(self, items=items, index=0, slot_start_s=now_monotonic_s)
        current = self.items[self.index % len(self.items)]
        if self.index < len(items) and items[self.index] == current:
            return replace(self, items=items)
        if current in items:
            return replace(self, items=items, index=items.index(current))
        index = self.index if self.index < len(items) else 0
        return replace(self, items=items, index=index, slot_start_s=now_monotonic_s)


def _following(index: int, up: list[int]) -> int:
    """The first online index after ``index``, wrapping round."""
    return next((i for i in up if i > index), up[0])


def _always(_item: object) -> bool:
    return True

"""Rolling rainfall windows and the rainstorm warning signal (R7, domain §6).

Rain arrives as 5-minute slot amounts (mm), each keyed by its slot's start
(UTC, a multiple of 5 minutes). A window of H hours ending at ``end`` sums the
slots starting in ``[end - H, end)``. Missing slots are never filled in: the
sum covers the slots present and the window says it is incomplete. Its sum is
then a lower bound, so a signal it reaches stands; a higher signal may be
hidden in the gap, which ``complete`` tells.

Signals (China Meteorological Administration): blue ≥ 50 mm in 12 h, yellow
≥ 50 mm in 6 h, orange ≥ 50 mm in 3 h, red ≥ 100 mm in 3 h.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> end = datetime(2025, 7, 8, 12, tzinfo=UTC)
    >>> slots = {end - timedelta(minutes=5 * (n + 1)): 1.5 for n in range(36)}
    >>> a = rainstorm(slots, end)
    >>> a.signal.value if a.signal else None, a.window(3).total_mm, a.complete
    ('orange', 54.0, False)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

__all__ = [
    "SLOT",
    "WINDOW_HOURS",
    "RainWindow",
    "RainstormAssessment",
    "RainstormSignal",
    "rain_window",
    "rainstorm",
]

SLOT = timedelta(minutes=5)
"""Length of one rainfall slot."""
WINDOW_HOURS = (1, 3, 6, 12, 24)
"""The rolling windows computed, in hours."""


class RainstormSignal(StrEnum):
    """Rainstorm warning signal colour, mildest first."""

    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"


# most severe first: (signal, window hours, amount mm)
_SIGNALS = (
    (RainstormSignal.RED, 3, 100.0),
    (RainstormSignal.ORANGE, 3, 50.0),
    (RainstormSignal.YELLOW, 6, 50.0),
    (RainstormSignal.BLUE, 12, 50.0),
)


@dataclass(frozen=True, slots=True)
class RainWindow:
    """Rain over one rolling window.

    Attributes:
        hours: Window length.
        end: Window end (exclusive), UTC.
        total_mm: Sum of the slots present (never interpolated).
        slots_present: Slots with a value.
        slots_expected: Slots the window spans (12 per hour).
    """

    hours: int
    end: datetime
    total_mm: float
    slots_present: int
    slots_expected: int

    @property
    def complete(self) -> bool:
        """Every slot of the window has a value."""
        return self.slots_present == self.slots_expected

    @property
    def missing_slots(self) -> int:
        """Slots without a value."""
        return self.slots_expected - self.slots_present


@dataclass(frozen=True, slots=True)
class RainstormAssessment:
    """Every rolling window at one moment, and the signal they reach.

    Attributes:
        windows: The 1, 3, 6, 12 and 24 h windows, in that order.
        signal: The most severe signal reached, ``None`` for none.
    """

    windows: tuple[RainWindow, ...]
    signal: RainstormSignal | None

    @property
    def complete(self) -> bool:
        """The windows the signals use (3, 6, 12 h) have every slot."""
        return all(w.complete for w in self.windows if w.hours in (3, 6, 12))

    def window(self, hours: int) -> RainWindow:
        """The window of ``hours`` hours.

        Raises:
            KeyError: not one of :data:`WINDOW_HOURS`.
        """
        for w in self.windows:
            if w.hours == hours:
                return w
        raise KeyError(hours)


def _slot_aligned(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    utc = moment.astimezone(UTC)
    if utc.timestamp() % SLOT.total_seconds() != 0:
        raise ValueError(f"{what} {utc.isoformat()} is not on a 5-minute boundary")
    return utc


def _checked(slots: Mapping[datetime, float]) -> dict[datetime, float]:
    found: dict[datetime, float] = {}
    for start, mm in slots.items():
        if not math.isfinite(mm) or mm < 0:
            raise ValueError(f"slot {start.isoformat()}: rain must be finite, >= 0")
        found[_slot_aligned(start, "slot start")] = mm
    return found


def _window(slots: Mapping[datetime, float], end: datetime, hours: int) -> RainWindow:
    expected = hours * 12
    present = [
        mm
        for n in range(1, expected + 1)
        if (mm := slots.get(end - n * SLOT)) is not None
    ]
    return RainWindow(hours, end, math.fsum(present), len(present), expected)


def rain_window(
    slots: Mapping[datetime, float], end: datetime, hours: int
) -> RainWindow:
    """The rain of one window ending at ``end`` (R7).

    Args:
        slots: 5-minute amounts in mm by slot start (aware, on 5-min boundaries).
        end: Window end, exclusive, on a 5-minute boundary.
        hours: Window length (any whole number of hours).

    Raises:
        ValueError: a naive or misaligned time, or a negative or non-finite amount.
    """
    if hours < 1:
        raise ValueError("a window is at least 1 hour")
    return _window(_checked(slots), _slot_aligned(end, "window end"), hours)


def rainstorm(slots: Mapping[datetime, float], end: datetime) -> RainstormAssessment:
    """The rolling windows ending at ``end`` and the signal they reach (R7).

    Args:
        slots: As :func:`rain_window`.
        end: As :func:`rain_window`.

    Raises:
        ValueError: as :func:`rain_window`.
    """
    checked, end = _checked(slots), _slot_aligned(end, "window end")
    windows = tuple(_window(checked, end, h) for h in WINDOW_HOURS)
    by_hours = {w.hours: w for w in windows}
    signal = next(
        (s for s, hours, mm in _SIGNALS if by_hours[hours].total_mm >= mm), None
    )
    return RainstormAssessment(windows, signal)

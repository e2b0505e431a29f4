"""A settable UTC clock: the one thing tests may mock is time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SettableClock:
    """Returns ``now`` when called; tests move it with :meth:`advance`."""

    def __init__(self, start: datetime = datetime(2025, 6, 1, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative value)."""
        self.now += timedelta(seconds=seconds)

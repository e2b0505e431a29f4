"""The service's default wall clock; every user takes it as an injectable ``now``."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Default clock: the current time, timezone-aware UTC."""
    return datetime.now(UTC)

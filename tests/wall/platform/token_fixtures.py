"""The clock and token store the token tests share."""

from __future__ import annotations

from datetime import UTC, datetime

TOKENS_T0 = datetime(2025, 6, 1, tzinfo=UTC)
"""When the token tests' clock starts."""

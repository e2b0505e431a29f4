"""The wire format of every boundary: strict models, JSON values, timestamps.

One rule for time on the wire (REST, WebSocket and MQTT alike): RFC 3339 in
UTC with a ``Z`` suffix and millisecond precision, e.g.
``2026-12-04T18:53:45.123Z``. Fixed width, so clients may sort the text.
Pure (no clock reads): callers pass the moment.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, TypeAlias

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer

JsonValue: TypeAlias = (
    "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
)
"""A value that survives a JSON round trip."""


class WireModel(BaseModel):
    """Base of every pydantic model at a boundary: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def wire_time(moment: datetime) -> str:
    """A timezone-aware moment as wire text (RFC 3339, UTC, ``Z``, ms).

    Raises:
        ValueError: a naive datetime (its zone would be a guess).

    Examples:
        >>> from datetime import timedelta, timezone
        >>> wire_time(datetime(2026, 12, 4, 20, 53, 45, 123456,
        ...                    tzinfo=timezone(timedelta(hours=2))))
        '2026-12-04T18:53:45.123Z'
    """
    utc = _aware(moment)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_wire_time(text: str) -> datetime:
    """Read an RFC 3339 timestamp with a zone (``Z`` or an offset) as UTC.

    Raises:
        ValueError: text that is not RFC 3339 or has no zone.

    Examples:
        >>> parse_wire_time("2026-12-04T18:53:45.123Z").isoformat()
        '2026-12-04T18:53:45.123000+00:00'
    """
    return _aware(datetime.fromisoformat(text))


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timestamp {moment.isoformat()} has no zone (add Z)")
    return moment.astimezone(UTC)


WireTime = Annotated[
    datetime,
    AfterValidator(_aware),
    PlainSerializer(wire_time, return_type=str, when_used="json"),
]
"""A datetime field that goes on the wire as :func:`wire_time` text."""

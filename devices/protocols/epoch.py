"""Payload times to aware UTC datetimes, kept to the millisecond.

Every decoder resolves times through here, so one rule holds for all
formats: times are whole milliseconds (the wire format's precision), UTC and
timezone-aware, and a device timestamp is read as milliseconds unless it is
plainly in seconds (M1).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from devices.protocols.readings import DecodeError, json_type, shown

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECONDS = (10**9, 10**10)  # ten digits: 2001-09-09 to 2286-11-20
_MILLIS = (10**12, 10**13)  # thirteen digits: the same years in milliseconds
_MAX_MS = int((datetime(9999, 12, 31, tzinfo=UTC) - EPOCH).total_seconds()) * 1000
_MIN_MS = int((datetime(1, 1, 2, tzinfo=UTC) - EPOCH).total_seconds()) * 1000
_MAX_TEXT_CHARS = 40


def ms_to_datetime(ms: int, where: str) -> datetime:
    """An epoch-milliseconds instant as an aware UTC datetime.

    Raises:
        DecodeError: ``bad_time`` outside the years 1-9999.

    Examples:
        >>> ms_to_datetime(1751968800000, "ts")
        datetime.datetime(2025, 7, 8, 10, 0, tzinfo=datetime.timezone.utc)
    """
    if not _MIN_MS <= ms <= _MAX_MS:
        raise DecodeError("bad_time", f"{where}: time is outside the years 1-9999")
    return EPOCH + timedelta(milliseconds=ms)


def datetime_to_ms(at: datetime) -> int:
    """Epoch milliseconds of an aware datetime, sub-milliseconds dropped.

    Examples:
        >>> datetime_to_ms(datetime(2025, 7, 8, 10, 0, 0, 999, tzinfo=UTC))
        1751968800000
    """
    if at.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware")
    return (at - EPOCH) // timedelta(milliseconds=1)


def receive_time(received_at: datetime) -> datetime:
    """The receive time as readings carry it: UTC, whole milliseconds."""
    return EPOCH + timedelta(milliseconds=datetime_to_ms(received_at))


def device_ms(ts: object, where: str) -> int:
    """A device timestamp in epoch milliseconds (M1).

    Thirteen digits are milliseconds, taken as they are; ten digits are
    plainly seconds and are scaled, so they never land in 1970. Any other
    magnitude (0, 11 digits, microseconds) is ambiguous and refused.

    Raises:
        DecodeError: ``wrong_type`` unless a number, ``bad_time`` otherwise.

    Examples:
        >>> device_ms(1751968800123, "ts")
        1751968800123
        >>> device_ms(1751968800, "ts")
        1751968800000
    """
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        raise DecodeError(
            "wrong_type", f"{where}: time must be a number, got {json_type(ts)}"
        )
    if not math.isfinite(ts):
        raise DecodeError("non_finite", f"{where}: time {ts} is not a number")
    if _SECONDS[0] <= ts < _SECONDS[1]:
        ms = round(ts * 1000)
    elif _MILLIS[0] <= ts < _MILLIS[1]:
        ms = round(ts)
    else:
        ms = 0
    if not _MILLIS[0] <= ms < _MILLIS[1]:  # also when rounding ran over the end
        raise DecodeError(
            "bad_time",
            f"{where}: time {math.floor(ts)} is neither epoch seconds (10 digits)"
            " nor milliseconds (13 digits)",
        )
    return ms


def seconds_to_ms(seconds: float, where: str) -> int:
    """Seconds (SenML's unit, fractions allowed) as whole milliseconds.

    Raises:
        DecodeError: ``bad_time`` when the product is not finite.
    """
    ms = seconds * 1000
    if not math.isfinite(ms):
        raise DecodeError("bad_time", f"{where}: time is out of range")
    return round(ms)


def parse_rfc3339(text: str, where: str) -> datetime:
    """An RFC 3339 timestamp with its offset, as UTC milliseconds.

    Raises:
        DecodeError: ``bad_time`` when unreadable or without an offset.

    Examples:
        >>> parse_rfc3339("2025-07-08T18:00:00.250+08:00", "ts")
        datetime.datetime(2025, 7, 8, 10, 0, 0, 250000, tzinfo=datetime.timezone.utc)
    """
    if len(text) > _MAX_TEXT_CHARS or "T" not in text.upper():
        raise DecodeError(
            "bad_time", f"{where}: {shown(text)} is not an RFC 3339 date and time"
        )
    try:
        at = datetime.fromisoformat(text)
    except ValueError as err:
        raise DecodeError(
            "bad_time", f"{where}: {shown(text)} is not an RFC 3339 date and time"
        ) from err
    if at.tzinfo is None:
        raise DecodeError("bad_time", f"{where}: {shown(text)} has no UTC offset")
    try:
        return receive_time(at)
    except OverflowError as err:
        raise DecodeError("bad_time", f"{where}: time is out of range") from err


def format_rfc3339(at: datetime) -> str:
    """RFC 3339 UTC with milliseconds and ``Z``, as the wire writes it.

    Examples:
        >>> format_rfc3339(datetime(2025, 7, 8, 10, 0, 0, 250000, tzinfo=UTC))
        '2025-07-08T10:00:00.250Z'
    """
    utc = at.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"

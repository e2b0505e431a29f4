"""The normalised reading every payload decoder returns, and the decode error.

Every decoder in this package turns one MQTT payload into a tuple of
:class:`Reading` or raises :class:`DecodeError` with a reason from the closed
set :data:`REASONS`; the ingest path stores the reason with the raw bytes as a
dead letter (M4), so the reasons are stable names a dashboard can count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

Format = Literal["senml", "tb", "tb_gateway", "plain"]
"""The payload formats: SenML JSON, ThingsBoard device and gateway JSON, plain."""

TimeSource = Literal["device", "server"]
"""Whose clock gave ``observed_at``: the device's, or the server's receive time."""

Value = float | int | bool | str | None
"""An observed value: JSON's scalars (objects and arrays are refused)."""

Reason = Literal[
    "oversize",
    "bad_json",
    "not_object",
    "bad_shape",
    "empty",
    "non_finite",
    "out_of_bounds",
    "wrong_type",
    "bad_time",
    "no_station",
    "bad_station",
    "station_mismatch",
    "bad_element",
    "unknown_topic",
    "senml_two_values",
    "senml_no_value",
    "senml_bver_mixed",
    "senml_bad_name",
    "senml_must_understand",
]
"""Why a payload was refused; stable codes for dead letters and metrics."""

REASONS: frozenset[str] = frozenset(get_args(Reason))
"""Every :data:`Reason`, for checks and metric label sets."""

FORMATS: frozenset[str] = frozenset(get_args(Format))
"""Every :data:`Format`."""

_SHOWN_CHARS = 40


class DecodeError(Exception):
    """A payload that cannot become readings.

    Attributes:
        reason: one of :data:`REASONS`.
        message: what is wrong and where (record index, key), never the
            whole input.

    Examples:
        >>> err = DecodeError("bad_time", "record 2: 't' is not a number")
        >>> (err.reason, str(err))
        ('bad_time', "record 2: 't' is not a number")
    """

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        if reason not in REASONS:
            raise ValueError(f"unknown decode reason {reason!r}")
        self.reason: Reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Reading:
    """One observation as a decoder sees it (domain §2.3, before quality).

    Attributes:
        station: station id, from the topic or the payload.
        element: canonical element name (``water_level``, ``rain_5min``…).
        value: the observed value.
        unit: the unit the payload gave (SenML ``u``/``bu``, plain ``unit``),
            or None; conversion is the sensor configuration's job.
        observed_at: when it was observed, timezone-aware UTC, whole
            milliseconds.
        time_source: ``device`` when the payload carried an absolute time,
            ``server`` when it is (relative to) the receive time (M1, M6).
        source: the payload format it came in.
    """

    station: str
    element: str
    value: Value
    unit: str | None
    observed_at: datetime
    time_source: TimeSource
    source: Format


def in_time_order(readings: Iterable[Reading]) -> tuple[Reading, ...]:
    """The readings sorted by observed time (M2).

    Readings of the same instant follow by station and element, so the order
    does not depend on how a payload grouped them; true duplicates keep
    their payload order.

    Examples:
        >>> from datetime import UTC
        >>> late = datetime(2025, 7, 8, 10, 5, tzinfo=UTC)
        >>> early = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
        >>> def at(t: datetime) -> Reading:
        ...     return Reading("st1", "water_level", 1.0, "m", t, "device", "tb")
        >>> [r.observed_at.minute for r in in_time_order([at(late), at(early)])]
        [0, 5]
    """
    return tuple(sorted(readings, key=lambda r: (r.observed_at, r.station, r.element)))


def require_readings(readings: tuple[Reading, ...], what: str) -> tuple[Reading, ...]:
    """The readings, or ``empty`` if a payload held none (so it is seen, M4)."""
    if not readings:
        raise DecodeError("empty", f"{what} holds no readings")
    return readings


def shown(text: str) -> str:
    """A key or string from the payload, quoted and cut short for messages.

    Examples:
        >>> shown("waterLevel")
        "'waterLevel'"
        >>> len(shown("x" * 500)) < 50
        True
    """
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return repr(text[:_SHOWN_CHARS]) + "…"


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages.

    Examples:
        >>> [json_type(v) for v in (True, 1, 1.5, "a", None, [], {})]
        ['boolean', 'integer', 'number', 'string', 'null', 'array', 'object']
    """
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "array" if isinstance(value, list) else "object"

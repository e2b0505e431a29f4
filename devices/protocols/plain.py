"""The plain form: ``{"station", "element", "value", "ts"}`` or an array of them.

``station`` may be left out when the topic names it, and must match it when
both do. ``ts`` is optional (then the receive time, M1): a number read as
device ThingsBoard times are (milliseconds, or plainly seconds, M1), or an
RFC 3339 string with its UTC offset. ``unit`` is optional. Any other key is
refused, so a typo is not lost silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from devices.protocols.elements import canonical_element, checked_station, checked_value
from devices.protocols.epoch import (
    device_ms,
    format_rfc3339,
    ms_to_datetime,
    parse_rfc3339,
    receive_time,
)
from devices.protocols.readings import (
    DecodeError,
    Reading,
    TimeSource,
    in_time_order,
    json_type,
    require_readings,
    shown,
)

_KEYS = frozenset({"station", "element", "value", "ts", "unit"})
_REQUIRED = ("element", "value")


def decode_plain(
    document: object, station: str | None, received_at: datetime
) -> tuple[Reading, ...]:
    """Readings of a plain-form payload.

    Args:
        document: the parsed JSON: one object or an array of objects.
        station: the station the topic names, or None.
        received_at: when the payload arrived (aware).

    Raises:
        DecodeError: with the reason of the first fault found.

    Examples:
        >>> from datetime import UTC
        >>> now = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
        >>> doc = {"station": "bahe-01", "element": "waterLevel", "value": 3.2,
        ...        "ts": "2025-07-08T17:55:00+08:00", "unit": "m"}
        >>> r = decode_plain(doc, None, now)[0]
        >>> (r.station, r.element, r.value, r.unit, r.observed_at.minute)
        ('bahe-01', 'water_level', 3.2, 'm', 55)
    """
    if station is not None:
        station = checked_station(station, "topic")
    now = receive_time(received_at)
    if isinstance(document, list):
        readings = [
            _reading(item, station, now, f"item {index}")
            for index, item in enumerate(document)
        ]
    else:
        readings = [_reading(document, station, now, "payload")]
    return require_readings(in_time_order(readings), "the payload")


def _reading(
    item: object, topic_station: str | None, now: datetime, where: str
) -> Reading:
    if not isinstance(item, dict):
        raise DecodeError(
            "not_object", f"{where}: expected an object, got {json_type(item)}"
        )
    unknown = sorted(item.keys() - _KEYS)
    if unknown:
        raise DecodeError("bad_shape", f"{where}: unknown key {shown(unknown[0])}")
    missing = [key for key in _REQUIRED if key not in item]
    if missing:
        raise DecodeError("bad_shape", f"{where}: no {shown(missing[0])}")
    station = _station(item, topic_station, where)
    element = item["element"]
    if not isinstance(element, str):
        raise DecodeError(
            "wrong_type",
            f"{where}: 'element' must be a string, got {json_type(element)}",
        )
    element = canonical_element(element, where)
    value = checked_value(element, item["value"], f"{where} 'value'")
    unit = item.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise DecodeError(
            "wrong_type", f"{where}: 'unit' must be a string, got {json_type(unit)}"
        )
    at, time_source = _time(item, now, where)
    return Reading(station, element, value, unit, at, time_source, "plain")


def _station(item: Mapping[str, object], topic_station: str | None, where: str) -> str:
    named = item.get("station")
    if named is None:
        if topic_station is None:
            raise DecodeError(
                "no_station", f"{where}: no 'station' and the topic names none"
            )
        return topic_station
    if not isinstance(named, str):
        raise DecodeError(
            "wrong_type", f"{where}: 'station' must be a string, got {json_type(named)}"
        )
    station = checked_station(named, where)
    if topic_station is not None and station != topic_station:
        raise DecodeError(
            "station_mismatch",
            f"{where}: station {shown(station)} but the topic names"
            f" {shown(topic_station)}",
        )
    return station


def _time(
    item: Mapping[str, object], now: datetime, where: str
) -> tuple[datetime, TimeSource]:
    ts = item.get("ts")
    if ts is None:
        return now, "server"
    if isinstance(ts, str):
        return parse_rfc3339(ts, f"{where} 'ts'"), "device"
    return ms_to_datetime(device_ms(ts, f"{where} 'ts'"), where), "device"


def encode_plain(readings: Iterable[Reading]) -> bytes:
    """The plain-form array that decodes to these readings.

    Examples:
        >>> from datetime import UTC
        >>> at = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
        >>> volts = Reading("s1", "voltage", 12.1, "V", at, "device", "plain")
        >>> json.loads(encode_plain([volts]))[0]["ts"]
        '2025-07-08T10:00:00.000Z'
    """
    items: list[dict[str, object]] = []
    for reading in readings:
        item: dict[str, object] = {
            "station": reading.station,
            "element": reading.element,
            "value": reading.value,
        }
        if reading.unit is not None:
            item["unit"] = reading.unit
        if reading.time_source == "device":
            item["ts"] = format_rfc3339(reading.observed_at)
        items.append(item)
    return json.dumps(items).encode()

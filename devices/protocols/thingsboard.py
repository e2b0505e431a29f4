"""ThingsBoard device and gateway telemetry JSON (domain §4).

Device form, on a topic that names the station:

- ``{"k": v}`` or ``[{"k": v}, …]``: observed at the receive time (M1);
- ``{"ts": ms, "values": {"k": v}}`` or an array of these: the device's
  time, an offline batch when there are many (M1, M2).

Gateway form, on ``v1/gateway/telemetry``: ``{"Device A": [entry, …]}``
where each entry is either of the above and the device name is the
station. Keys become canonical elements (:mod:`devices.protocols.elements`);
a value must be a JSON scalar. Readings come back in time order (M2).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from devices.protocols.elements import canonical_element, checked_station, checked_value
from devices.protocols.epoch import (
    datetime_to_ms,
    device_ms,
    ms_to_datetime,
    receive_time,
)
from devices.protocols.readings import (
    DecodeError,
    Format,
    Reading,
    TimeSource,
    in_time_order,
    json_type,
    require_readings,
    shown,
)

_TIMED_KEYS = frozenset({"ts", "values"})


def decode_tb(
    document: object, station: str | None, received_at: datetime
) -> tuple[Reading, ...]:
    """Readings of a ThingsBoard device payload.

    Args:
        document: the parsed JSON.
        station: the station the topic names (None if it names none).
        received_at: when the payload arrived (aware).

    Raises:
        DecodeError: with the reason of the first fault found.

    Examples:
        >>> from datetime import UTC
        >>> now = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
        >>> [(r.element, r.value, r.time_source) for r in
        ...  decode_tb({"waterLevel": 3.2}, "bahe-01", now)]
        [('water_level', 3.2, 'server')]
        >>> seconds = {"ts": 1751968800, "values": {"wl": 3.3}}
        >>> decode_tb(seconds, "bahe-01", now)[0].observed_at
        datetime.datetime(2025, 7, 8, 10, 0, tzinfo=datetime.timezone.utc)
    """
    if station is None:
        raise DecodeError("no_station", "ThingsBoard device payload: no station")
    station = checked_station(station, "topic")
    now = receive_time(received_at)
    if isinstance(document, list):
        readings = [
            reading
            for index, entry in enumerate(document)
            for reading in _entry(entry, station, now, f"entry {index}", "tb")
        ]
    else:
        readings = _entry(document, station, now, "payload", "tb")
    return require_readings(in_time_order(readings), "the payload")


def decode_tb_gateway(document: object, received_at: datetime) -> tuple[Reading, ...]:
    """Readings of a ThingsBoard gateway payload; device names are stations.

    Raises:
        DecodeError: with the reason of the first fault found.

    Examples:
        >>> from datetime import UTC
        >>> now = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
        >>> doc = {"Device A": [{"ts": 1751968800000, "values": {"rainfall": 0.5}}]}
        >>> [(r.station, r.element) for r in decode_tb_gateway(doc, now)]
        [('Device A', 'rain_5min')]
    """
    if not isinstance(document, dict):
        raise DecodeError(
            "not_object",
            f"gateway payload must be an object of devices, got {json_type(document)}",
        )
    now = receive_time(received_at)
    readings: list[Reading] = []
    for device, entries in document.items():
        station = checked_station(device, "gateway")
        where = f"device {shown(device)}"
        if not isinstance(entries, list):
            raise DecodeError(
                "not_object",
                f"{where}: expected an array of entries, got {json_type(entries)}",
            )
        for index, entry in enumerate(entries):
            readings += _entry(
                entry, station, now, f"{where} entry {index}", "tb_gateway"
            )
    return require_readings(in_time_order(readings), "the payload")


def _entry(
    entry: object, station: str, now: datetime, where: str, source: Format
) -> list[Reading]:
    """The readings of one ``{"k": v}`` or ``{"ts", "values"}`` object."""
    if not isinstance(entry, dict):
        raise DecodeError(
            "not_object", f"{where}: expected an object, got {json_type(entry)}"
        )
    if _TIMED_KEYS & entry.keys():
        if entry.keys() != _TIMED_KEYS:
            raise DecodeError(
                "bad_shape", f"{where}: a timed entry has exactly 'ts' and 'values'"
            )
        values = entry["values"]
        if not isinstance(values, dict):
            raise DecodeError(
                "not_object",
                f"{where}: 'values' must be an object, got {json_type(values)}",
            )
        at = ms_to_datetime(device_ms(entry["ts"], f"{where} 'ts'"), where)
        return _readings(values, station, at, "device", where, source)
    return _readings(entry, station, now, "server", where, source)


def _readings(
    values: Mapping[str, object],
    station: str,
    at: datetime,
    time_source: TimeSource,
    where: str,
    source: Format,
) -> list[Reading]:
    found: dict[str, str] = {}
    readings: list[Reading] = []
    for key, raw in values.items():
        element = canonical_element(key, where)
        if element in found:
            raise DecodeError(
                "bad_shape",
                f"{where}: keys {shown(found[element])} and {shown(key)} both mean"
                f" {element}",
            )
        found[element] = key
        value = checked_value(element, raw, f"{where} key {shown(key)}")
        readings.append(Reading(station, element, value, None, at, time_source, source))
    return readings


def encode_tb(readings: Iterable[Reading]) -> bytes:
    """The device-form payload that decodes to these readings (one station).

    Server-time readings are written without ``ts``; device-time ones as
    ``{"ts", "values"}`` entries. Units are not carried by this format.

    Examples:
        >>> from datetime import UTC
        >>> at = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
        >>> encode_tb([Reading("s", "water_level", 3.2, None, at, "device", "tb")])
        b'{"ts": 1751968800000, "values": {"water_level": 3.2}}'
    """
    entries = _entries(readings)
    return json.dumps(entries[0] if len(entries) == 1 else entries).encode()


def encode_tb_gateway(readings: Iterable[Reading]) -> bytes:
    """The gateway-form payload that decodes to these readings."""
    by_station: dict[str, list[Reading]] = {}
    for reading in readings:
        by_station.setdefault(reading.station, []).append(reading)
    document = {station: _entries(group) for station, group in by_station.items()}
    return json.dumps(document).encode()


def _entries(readings: Iterable[Reading]) -> list[dict[str, object]]:
    """Entries grouping consecutive readings of one instant and clock."""
    entries: list[dict[str, object]] = []
    values: dict[str, object] = {}
    last: tuple[datetime, str] | None = None
    for reading in readings:
        server = reading.time_source == "server"
        if server and reading.element in _TIMED_KEYS:
            raise ValueError(f"{reading.element!r} cannot be a server-time key")
        key = (reading.observed_at, reading.time_source)
        if key != last or reading.element in values:
            values = {}
            last = key
            if server:
                entries.append(values)
            else:
                ms = datetime_to_ms(reading.observed_at)
                entries.append({"ts": ms, "values": values})
        values[reading.element] = reading.value
    return entries

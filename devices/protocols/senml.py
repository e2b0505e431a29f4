"""SenML JSON packs (RFC 8428) to readings.

A pack is an array of records. Base fields ``bn``, ``bt``, ``bu``, ``bv``,
``bs`` carry forward to later records until replaced; a record's name is
``bn + n``, its time ``bt + t``, its value ``bv + v`` and its sum ``bs + s``
(M5). A record holds exactly one of ``v``, ``vs``, ``vb``, ``vd`` unless it
has a sum ``s`` (M5); a record of base fields only sets bases. Every ``bver``
in a pack is the same (M5). A resolved time below 2**28 is seconds relative
to the receive time (negative: in the past), at or above it absolute epoch
seconds (M6). Fields ending in ``_`` must be understood (RFC 8428 §4.4), so a
pack holding one is refused; other unknown fields are ignored.

Names to stations and elements: when the topic names the station (the
default layout ``citywall/stations/<station>/senml``), the element is the
part of the resolved name after its last ``/`` or ``:`` (so a device may
keep a URN such as ``urn:dev:mac:0024be:`` as ``bn``); when it does not, the
name must be ``<station>/<element>`` or ``<station>:<element>``. A sum
becomes the element ``<element>_sum``; ``vd`` data stays its base64 text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from devices.protocols.elements import (
    ELEMENT_ALIASES,
    canonical_element,
    checked_station,
    checked_value,
)
from devices.protocols.epoch import (
    datetime_to_ms,
    ms_to_datetime,
    receive_time,
    seconds_to_ms,
)
from devices.protocols.readings import (
    DecodeError,
    Reading,
    TimeSource,
    Value,
    in_time_order,
    json_type,
    require_readings,
    shown,
)

RELATIVE_BELOW_S = 2**28
"""Resolved times below this many seconds are relative to the receive time."""

SUM_SUFFIX = "_sum"

_TEXT_FIELDS = frozenset({"bn", "bu", "n", "u", "vs", "vd"})
_NUMBER_FIELDS = frozenset({"bt", "bv", "bs", "v", "s", "t", "ut"})
_VALUE_FIELDS = ("v", "vs", "vb", "vd")
_RECORD_FIELDS = frozenset({"n", "u", "t", "ut", "s", *_VALUE_FIELDS})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9:./_-]*")
_SEPARATOR = re.compile(r"[/:]")


class _Bases:
    """The base fields in force while a pack is read, record by record."""

    def __init__(self) -> None:
        self.name = ""
        self.time_s: float = 0
        self.unit: str | None = None
        self.value: float | None = None
        self.sum: float | None = None
        self.version: int | None = None

    def update(self, record: Mapping[str, object], where: str) -> None:
        """Take the record's base fields, after their types were checked."""
        version = record.get("bver")
        if isinstance(version, int):
            if self.version is not None and version != self.version:
                raise DecodeError(
                    "senml_bver_mixed",
                    f"{where}: bver {version} after bver {self.version} in one pack",
                )
            self.version = version
        if "bn" in record:
            self.name = _text(record["bn"]) or ""
        self.time_s = _number(record.get("bt", self.time_s))
        self.unit = _text(record.get("bu", self.unit))
        if "bv" in record:
            self.value = _number(record["bv"])
        if "bs" in record:
            self.sum = _number(record["bs"])


def decode_senml(
    document: object, station: str | None, received_at: datetime
) -> tuple[Reading, ...]:
    """Readings of a SenML JSON pack.

    Args:
        document: the parsed JSON.
        station: the station the topic names, or None to take it from names.
        received_at: when the pack arrived (aware); relative times use it.

    Raises:
        DecodeError: with the reason of the first fault found.

    Examples:
        >>> from datetime import UTC
        >>> now = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
        >>> pack = [
        ...     {"bn": "urn:dev:mac:0024be:", "bt": 1751968800, "bu": "m",
        ...      "n": "waterLevel", "v": 3.2},
        ...     {"n": "waterLevel", "t": 300, "v": 3.4},
        ... ]
        >>> [(r.element, r.value, r.observed_at.minute) for r in
        ...  decode_senml(pack, "bahe-01", now)]
        [('water_level', 3.2, 0), ('water_level', 3.4, 5)]
        >>> a_minute_ago = [{"n": "wl", "t": -60, "v": 3.1}]
        >>> decode_senml(a_minute_ago, "bahe-01", now)[0].observed_at
        datetime.datetime(2025, 7, 8, 9, 59, tzinfo=datetime.timezone.utc)
    """
    if station is not None:
        station = checked_station(station, "topic")
    if not isinstance(document, list):
        raise DecodeError(
            "bad_shape", f"a SenML pack is a JSON array, got {json_type(document)}"
        )
    now_ms = datetime_to_ms(receive_time(received_at))
    bases = _Bases()
    readings: list[Reading] = []
    for index, record in enumerate(document):
        where = f"record {index}"
        checked = _checked_record(record, where)
        bases.update(checked, where)
        if _RECORD_FIELDS & checked.keys():
            readings += _resolve(checked, bases, station, now_ms, where)
    return require_readings(in_time_order(readings), "the pack")


def _checked_record(record: object, where: str) -> Mapping[str, object]:
    """The record if every field it has has its RFC 8428 type."""
    if not isinstance(record, dict):
        raise DecodeError(
            "not_object", f"{where}: a record is an object, got {json_type(record)}"
        )
    for field, value in record.items():
        wanted = _wanted_type(field)
        if wanted is None:
            continue
        ok = {
            "string": isinstance(value, str),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
        }[wanted]
        if not ok:
            raise DecodeError(
                "wrong_type",
                f"{where}: {shown(field)} must be a{'n' if wanted == 'integer' else ''}"
                f" {wanted}, got {json_type(value)}",
            )
    return record


def _wanted_type(field: str) -> str | None:
    if field.endswith("_"):
        raise DecodeError(
            "senml_must_understand",
            f"must-understand field {shown(field)} is not supported",
        )
    if field in _TEXT_FIELDS:
        return "string"
    if field in _NUMBER_FIELDS:
        return "number"
    return {"vb": "boolean", "bver": "integer"}.get(field)


def _resolve(
    record: Mapping[str, object],
    bases: _Bases,
    station: str | None,
    now_ms: int,
    where: str,
) -> list[Reading]:
    """The readings of one record: its value, its sum, or both."""
    present = [field for field in _VALUE_FIELDS if field in record]
    if len(present) > 1:
        raise DecodeError(
            "senml_two_values", f"{where}: two value fields ({', '.join(present)})"
        )
    if not present and "s" not in record:
        raise DecodeError("senml_no_value", f"{where}: no value field and no sum")
    name = bases.name + (_text(record.get("n")) or "")
    station, element = _split_name(name, station, where)
    at, time_source = _resolved_time(record, bases, now_ms, where)
    unit = _text(record.get("u", bases.unit))
    readings: list[Reading] = []
    if present:
        value = _value(record, present[0], bases, where)
        value = checked_value(element, value, where)
        readings.append(
            Reading(station, element, value, unit, at, time_source, "senml")
        )
    if "s" in record:
        total = _number(record["s"])
        if bases.sum is not None:  # only then: -0.0 + 0 would lose its sign
            total = _finite(total + bases.sum, where, "sum")
        summed = canonical_element(element + SUM_SUFFIX, where)
        checked = checked_value(summed, total, where)
        readings.append(
            Reading(station, summed, checked, unit, at, time_source, "senml")
        )
    return readings


def _split_name(name: str, station: str | None, where: str) -> tuple[str, str]:
    """(station, element) of a resolved name; see the module docstring."""
    if not _NAME.fullmatch(name):
        raise DecodeError(
            "senml_bad_name",
            f"{where}: name {shown(name)} is not a SenML name (RFC 8428 §4.5.1)",
        )
    cuts = [match.start() for match in _SEPARATOR.finditer(name)]
    head, tail = (name[: cuts[-1]], name[cuts[-1] + 1 :]) if cuts else ("", name)
    if station is None:
        if not head:
            raise DecodeError(
                "no_station",
                f"{where}: name {shown(name)} names no station and the topic neither",
            )
        station = checked_station(head, where)
    return station, canonical_element(tail, where)


def _resolved_time(
    record: Mapping[str, object], bases: _Bases, now_ms: int, where: str
) -> tuple[datetime, TimeSource]:
    """The record's time: relative to the receive time below 2**28 s (M6)."""
    seconds = _finite(bases.time_s + _number(record.get("t", 0)), where, "time")
    ms = seconds_to_ms(seconds, where)  # classified after rounding, as encoded
    if ms < RELATIVE_BELOW_S * 1000:
        return ms_to_datetime(now_ms + ms, where), "server"
    return ms_to_datetime(ms, where), "device"


def _value(
    record: Mapping[str, object], field: str, bases: _Bases, where: str
) -> Value:
    raw = record[field]
    if field != "v":
        return raw if isinstance(raw, str | bool) else None
    if bases.value is None:
        return _number(raw)
    return _finite(_number(raw) + bases.value, where, "value")


def _finite(number: float, where: str, what: str) -> float:
    if isinstance(number, float) and not math.isfinite(number):
        raise DecodeError("non_finite", f"{where}: the resolved {what} is not finite")
    return number


def _number(value: object) -> float:
    # types were checked by _checked_record; ints stay ints
    return value if isinstance(value, int | float) else 0


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def encode_senml(
    readings: Iterable[Reading], received_at: datetime, *, with_station: bool = False
) -> bytes:
    """A pack that decodes to these readings.

    Device times become absolute ``t``; server times ``t`` relative to
    ``received_at`` (omitted when zero). Names are the element, or
    ``<station>/<element>`` with ``with_station``; a numeric ``*_sum``
    element becomes a sum ``s``.

    Raises:
        ValueError: for a null value, which SenML cannot carry.

    Examples:
        >>> from datetime import UTC
        >>> at = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
        >>> level = Reading("s", "water_level", 3.2, "m", at, "device", "senml")
        >>> encode_senml([level], at)
        b'[{"n": "water_level", "u": "m", "v": 3.2, "t": 1751968800}]'
    """
    now_ms = datetime_to_ms(receive_time(received_at))
    return json.dumps([_record(r, now_ms, with_station) for r in readings]).encode()


def _record(reading: Reading, now_ms: int, with_station: bool) -> dict[str, object]:
    element, value = reading.element, reading.value
    field = _value_field(value)
    base = element.removesuffix(SUM_SUFFIX)
    if field == "v" and base != element and ELEMENT_ALIASES.get(base, base) == base:
        element, field = base, "s"
    record: dict[str, object] = {
        "n": f"{reading.station}/{element}" if with_station else element
    }
    if reading.unit is not None:
        record["u"] = reading.unit
    record[field] = value
    ms = datetime_to_ms(reading.observed_at)
    if reading.time_source == "server":
        ms -= now_ms
    elif ms < RELATIVE_BELOW_S * 1000:
        raise ValueError("an absolute SenML time cannot be before 2**28 s")
    if ms or reading.time_source == "device":
        record["t"] = ms // 1000 if ms % 1000 == 0 else ms / 1000
    return record


def _value_field(value: Value) -> str:
    if value is None:
        raise ValueError("SenML has no null value")
    if isinstance(value, bool):
        return "vb"
    return "vs" if isinstance(value, str) else "v"

"""Element and station names, and the values each element may carry.

Devices name the same quantity many ways (``waterLevel``, ``water_level``,
``wl``); the store knows one canonical name per quantity (domain §2.3). The
alias table below is data: a key found in it becomes its canonical name, any
other key passes through unchanged once it is a valid name. Canonical
elements that are measurements must carry a number, so ``"3.2"`` (a string
where a number belongs, M4) is refused rather than stored as text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from devices.protocols.readings import DecodeError, Value, json_type, shown

MAX_NAME_CHARS = 64
"""Longest station id or element name accepted."""

CANONICAL_ELEMENTS: Mapping[str, str] = {
    "water_level": "number",
    "rain_5min": "number",
    "rain_1h": "number",
    "rain_accum": "number",
    "soil_moisture_10cm": "number",
    "soil_moisture_20cm": "number",
    "soil_moisture_40cm": "number",
    "voltage": "number",
    "status_bits": "integer",
}
"""Canonical elements and the JSON type their value must have."""

ELEMENT_ALIASES: Mapping[str, str] = {
    "waterLevel": "water_level",
    "WaterLevel": "water_level",
    "wl": "water_level",
    # a gauge's bare "rainfall" is the amount of its 5-minute report
    "rainfall": "rain_5min",
    "rain": "rain_5min",
    "rain5min": "rain_5min",
    "rainfall5min": "rain_5min",
    "rain1h": "rain_1h",
    "rainfall1h": "rain_1h",
    "rainAccum": "rain_accum",
    "rainfallAccum": "rain_accum",
    "rainTotal": "rain_accum",
    "soilMoisture10cm": "soil_moisture_10cm",
    "soilMoisture20cm": "soil_moisture_20cm",
    "soilMoisture40cm": "soil_moisture_40cm",
    "batteryVoltage": "voltage",
    "battery_voltage": "voltage",
    "vbat": "voltage",
    "statusBits": "status_bits",
}
"""Common device keys and the canonical element each one means."""

_ELEMENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# letters and digits of any script; `_ . : -` and spaces only inside
_STATION = re.compile(r"[^\W_](?:[\w .:-]*[^\W_])?")
_INT64 = 2**63


def canonical_element(key: str, where: str) -> str:
    """The canonical name of a device key, or the key itself if valid.

    Args:
        key: the key or SenML name as the payload gave it.
        where: where it was found, for the message (``"record 2"``).

    Raises:
        DecodeError: ``bad_element`` unless the key is a letter, then
            letters, digits and ``_``, at most :data:`MAX_NAME_CHARS` long.

    Examples:
        >>> canonical_element("waterLevel", "key")
        'water_level'
        >>> canonical_element("air_temperature", "key")
        'air_temperature'
    """
    if len(key) > MAX_NAME_CHARS or not _ELEMENT.fullmatch(key):
        raise DecodeError(
            "bad_element",
            f"{where}: element {shown(key)} is not a name (a letter, then letters,"
            f" digits or '_', at most {MAX_NAME_CHARS})",
        )
    return ELEMENT_ALIASES.get(key, key)


def checked_station(station: str, where: str) -> str:
    """The station id if it is valid.

    A station id is 1-64 letters or digits (any script), with ``_ . : -``
    or spaces allowed inside: gateway device names such as ``Device A``
    are station ids.

    Raises:
        DecodeError: ``bad_station``.

    Examples:
        >>> checked_station("Device A", "gateway")
        'Device A'
        >>> checked_station("bahe-01", "topic")
        'bahe-01'
    """
    if len(station) > MAX_NAME_CHARS or not _STATION.fullmatch(station):
        raise DecodeError(
            "bad_station",
            f"{where}: station {shown(station)} is not an id (letters, digits,"
            f" '_ . : -' or spaces inside, at most {MAX_NAME_CHARS})",
        )
    return station


def checked_value(element: str, value: object, where: str) -> Value:
    """The value if it suits the element.

    Any JSON scalar suits an unknown element; a canonical measurement needs
    a number (booleans are not numbers), ``status_bits`` an integer.
    Integers must fit 64 bits.

    Raises:
        DecodeError: ``wrong_type`` or ``out_of_bounds``.

    Examples:
        >>> checked_value("water_level", 3, "key 'wl'")
        3
        >>> try:
        ...     checked_value("water_level", "3.2", "key 'wl'")
        ... except DecodeError as err:
        ...     print(err.reason, "-", err)
        wrong_type - key 'wl': water_level must be a number, got string
    """
    if not (value is None or isinstance(value, bool | int | float | str)):
        raise DecodeError(
            "wrong_type",
            f"{where}: a JSON {json_type(value)} is no observation (numbers, strings,"
            " booleans or null)",
        )
    wanted = CANONICAL_ELEMENTS.get(element)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if (wanted == "number" and not numeric) or (
        wanted == "integer" and (not numeric or isinstance(value, float))
    ):
        raise DecodeError(
            "wrong_type",
            f"{where}: {element} must be a{'n' if wanted == 'integer' else ''}"
            f" {wanted}, got {json_type(value)}",
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise DecodeError("non_finite", f"{where}: {value} is not a measurement")
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        raise DecodeError("out_of_bounds", f"{where}: integer does not fit 64 bits")
    return value

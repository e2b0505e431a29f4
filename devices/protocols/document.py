"""Payload bytes to a JSON document, refusing what Python's json lets through.

``json.loads`` accepts ``NaN`` and ``Infinity``, turns ``1e400`` into an
infinite float, keeps the last of two equal keys and raises ``ValueError``
on an integer of more than 4,300 digits. A sensor payload must be none of
these (M4), so each is refused here with its reason, once for every format.
"""

from __future__ import annotations

import json
import math

from devices.protocols.readings import DecodeError, shown

MAX_PAYLOAD_BYTES = 256 * 1024
"""Default ``max_payload``: larger payloads are refused unread (M4)."""

_MAX_INT_DIGITS = 40  # an int64 has 19; anything this long is no measurement


def parse_document(payload: bytes, max_payload: int = MAX_PAYLOAD_BYTES) -> object:
    """Parse one payload as strict JSON.

    Args:
        payload: the raw MQTT payload.
        max_payload: the size limit in bytes.

    Returns:
        The document: dicts, lists, str, int, float, bool and None.

    Raises:
        DecodeError: ``oversize``, ``bad_json`` (not UTF-8, not JSON, nested
            too deep, duplicate key, huge integer) or ``non_finite``.

    Examples:
        >>> parse_document(b'{"waterLevel": 3.2}')
        {'waterLevel': 3.2}
        >>> parse_document(b'{"v": NaN}')
        Traceback (most recent call last):
        ...
        devices.protocols.readings.DecodeError: NaN is not a number a sensor can report
    """
    if len(payload) > max_payload:
        raise DecodeError(
            "oversize",
            f"payload is {len(payload)} bytes, over the {max_payload}-byte limit",
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DecodeError(
            "bad_json", f"payload is not UTF-8 (byte {err.start})"
        ) from err
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as err:
        raise DecodeError("bad_json", f"payload is not JSON: {err}") from err
    except RecursionError as err:
        raise DecodeError("bad_json", "payload is nested too deeply") from err


def _refuse_constant(name: str) -> float:
    raise DecodeError("non_finite", f"{name} is not a number a sensor can report")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise DecodeError("non_finite", f"number {shown(text)} is out of float range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise DecodeError(
            "out_of_bounds", f"an integer of {len(text)} digits is no measurement"
        )
    return int(text)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found: dict[str, object] = {}
    for key, value in pairs:
        if key in found:
            raise DecodeError(
                "bad_json", f"key {shown(key)} appears twice in an object"
            )
        found[key] = value
    return found

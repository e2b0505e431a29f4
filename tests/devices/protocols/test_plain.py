"""The plain ``{"station", "element", "value", "ts"}`` form as tables (M1, M2, M4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devices.protocols.plain import decode_plain, encode_plain
from devices.protocols.readings import DecodeError, Reading

RECEIVED = datetime(2025, 7, 8, 10, 0, 30, tzinfo=UTC)
T0 = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
T0_MS = 1751968800000


def row(readings: tuple[Reading, ...]) -> list[tuple[object, ...]]:
    return [
        (r.station, r.element, r.value, r.unit, r.observed_at, r.time_source)
        for r in readings
    ]


@pytest.mark.parametrize(
    ("document", "station", "expected"),
    [
        pytest.param(
            {"station": "st1", "element": "waterLevel", "value": 3.2, "ts": T0_MS},
            None,
            [("st1", "water_level", 3.2, None, T0, "device")],
            id="m1-ms",
        ),
        pytest.param(
            {"station": "st1", "element": "wl", "value": 3.2, "ts": T0_MS // 1000},
            None,
            [("st1", "water_level", 3.2, None, T0, "device")],
            id="m1-seconds-scaled",
        ),
        pytest.param(
            {"element": "voltage", "value": 12.5, "unit": "V"},
            "st1",
            [("st1", "voltage", 12.5, "V", RECEIVED, "server")],
            id="m1-no-ts-and-station-from-topic",
        ),
        pytest.param(
            {
                "station": "st1",
                "element": "wl",
                "value": 3,
                "ts": "2025-07-08T18:00:00+08:00",
            },
            "st1",
            [("st1", "water_level", 3, None, T0, "device")],
            id="rfc3339-with-offset-and-matching-topic",
        ),
        pytest.param(
            [
                {
                    "station": "b",
                    "element": "wl",
                    "value": 2,
                    "ts": "2025-07-08T10:05:00Z",
                },
                {
                    "station": "a",
                    "element": "wl",
                    "value": 1,
                    "ts": "2025-07-08T10:00:00Z",
                },
                {"station": "a", "element": "note", "value": None, "ts": None},
            ],
            None,
            [
                ("a", "water_level", 1, None, T0, "device"),
                ("a", "note", None, None, RECEIVED, "server"),
                ("b", "water_level", 2, None, T0 + timedelta(minutes=5), "device"),
            ],
            id="m2-array-sorted",
        ),
    ],
)
def test_plain_payloads_decode(
    document: object, station: str | None, expected: list[tuple[object, ...]]
) -> None:
    assert row(decode_plain(document, station, RECEIVED)) == expected


GOOD = {"station": "st1", "element": "wl", "value": 3.2}


@pytest.mark.parametrize(
    ("document", "station", "reason", "words"),
    [
        pytest.param("x", None, "not_object", "got string", id="string"),
        pytest.param([GOOD, 3], None, "not_object", "item 1", id="item-not-object"),
        pytest.param([], None, "empty", "no readings", id="empty"),
        pytest.param(
            {**GOOD, "valu": 1}, None, "bad_shape", "unknown key 'valu'", id="typo"
        ),
        pytest.param(
            {"station": "st1", "value": 1},
            None,
            "bad_shape",
            "no 'element'",
            id="no-el",
        ),
        pytest.param(
            {"station": "st1", "element": "wl"},
            None,
            "bad_shape",
            "no 'value'",
            id="no-v",
        ),
        pytest.param(
            {"element": "wl", "value": 1},
            None,
            "no_station",
            "no 'station'",
            id="no-st",
        ),
        pytest.param(
            GOOD,
            "st2",
            "station_mismatch",
            "'st1' but the topic names 'st2'",
            id="mismatch",
        ),
        pytest.param(
            {**GOOD, "station": 7}, None, "wrong_type", "'station' must be", id="st-int"
        ),
        pytest.param(
            {**GOOD, "station": "a/b"}, None, "bad_station", "'a/b'", id="st-slash"
        ),
        pytest.param(
            {**GOOD, "element": 7}, None, "wrong_type", "'element' must be", id="el-int"
        ),
        pytest.param(
            {**GOOD, "element": "9x"}, None, "bad_element", "'9x'", id="el-digit"
        ),
        pytest.param(
            {**GOOD, "value": "3.2"},
            None,
            "wrong_type",
            "water_level must be",
            id="m4-str",
        ),
        pytest.param(
            {**GOOD, "value": [3.2]}, None, "wrong_type", "JSON array", id="list"
        ),
        pytest.param(
            {**GOOD, "unit": 1}, None, "wrong_type", "'unit' must be", id="unit-int"
        ),
        pytest.param({**GOOD, "ts": True}, None, "wrong_type", "boolean", id="ts-bool"),
        pytest.param({**GOOD, "ts": 12}, None, "bad_time", "neither", id="m1-ts-tiny"),
        pytest.param(
            {**GOOD, "ts": "2025-07-08T10:00:00"},
            None,
            "bad_time",
            "no UTC offset",
            id="naive",
        ),
        pytest.param(
            {**GOOD, "ts": "2025-07-08"}, None, "bad_time", "RFC 3339", id="date-only"
        ),
        pytest.param(
            {**GOOD, "ts": "yesterday T"}, None, "bad_time", "RFC 3339", id="words"
        ),
        pytest.param(
            {**GOOD, "ts": "T" * 1000}, None, "bad_time", "…", id="long-ts-cut"
        ),
    ],
)
def test_plain_payloads_refused_with_their_reason(
    document: object, station: str | None, reason: str, words: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_plain(document, station, RECEIVED)
    assert caught.value.reason == reason
    assert words in caught.value.message


def test_encoder_writes_rfc3339_for_device_times_only() -> None:
    device = Reading("st1", "water_level", 3.2, "m", T0, "device", "plain")
    server = Reading("st1", "voltage", 12, None, RECEIVED, "server", "plain")
    assert encode_plain([device, server]) == (
        b'[{"station": "st1", "element": "water_level", "value": 3.2, "unit": "m",'
        b' "ts": "2025-07-08T10:00:00.000Z"},'
        b' {"station": "st1", "element": "voltage", "value": 12}]'
    )

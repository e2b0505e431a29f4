"""ThingsBoard device and gateway JSON as tables (M1, M2, M4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devices.protocols.readings import DecodeError, Reading
from devices.protocols.thingsboard import (
    decode_tb,
    decode_tb_gateway,
    encode_tb,
    encode_tb_gateway,
)

RECEIVED = datetime(2025, 7, 8, 10, 0, 30, 123456, tzinfo=UTC)
RECEIVED_MS = datetime(2025, 7, 8, 10, 0, 30, 123000, tzinfo=UTC)  # kept to the ms
T0 = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
T0_MS = 1751968800000
T0_S = 1751968800


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0_S + seconds, tz=UTC)


def row(readings: tuple[Reading, ...]) -> list[tuple[object, ...]]:
    return [
        (r.station, r.element, r.value, r.observed_at, r.time_source) for r in readings
    ]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(
            {"waterLevel": 3.2},
            [("st1", "water_level", 3.2, RECEIVED_MS, "server")],
            id="m1-no-ts-is-receive-time",
        ),
        pytest.param(
            [{"wl": 3.2}, {"voltage": 12}],
            [
                ("st1", "voltage", 12, RECEIVED_MS, "server"),
                ("st1", "water_level", 3.2, RECEIVED_MS, "server"),
            ],
            id="m1-array-without-ts",
        ),
        pytest.param(
            {"ts": T0_MS + 250, "values": {"water_level": 3.2}},
            [("st1", "water_level", 3.2, at(0.25), "device")],
            id="m1-ms-as-is",
        ),
        pytest.param(
            {"ts": T0_S, "values": {"water_level": 3.2}},
            [("st1", "water_level", 3.2, T0, "device")],
            id="m1-ten-digit-seconds-scaled",
        ),
        pytest.param(
            {"ts": T0_S + 0.5, "values": {"water_level": 3.2}},
            [("st1", "water_level", 3.2, at(0.5), "device")],
            id="m1-fractional-seconds",
        ),
        pytest.param(
            [
                {"ts": T0_MS + 600_000, "values": {"wl": 3.4}},
                {"ts": T0_MS, "values": {"wl": 3.2}},
                {"ts": T0_MS + 300_000, "values": {"wl": 3.3, "rainfall": 0.5}},
            ],
            [
                ("st1", "water_level", 3.2, T0, "device"),
                ("st1", "rain_5min", 0.5, at(300), "device"),
                ("st1", "water_level", 3.3, at(300), "device"),
                ("st1", "water_level", 3.4, at(600), "device"),
            ],
            id="m2-offline-batch-sorted",
        ),
        pytest.param(
            {"door": "open", "pump": True, "note": None, "count": 7},
            [
                ("st1", "count", 7, RECEIVED_MS, "server"),
                ("st1", "door", "open", RECEIVED_MS, "server"),
                ("st1", "note", None, RECEIVED_MS, "server"),
                ("st1", "pump", True, RECEIVED_MS, "server"),
            ],
            id="unknown-keys-pass-through-any-scalar",
        ),
    ],
)
def test_device_payloads_decode(
    document: object, expected: list[tuple[object, ...]]
) -> None:
    assert row(decode_tb(document, "st1", RECEIVED)) == expected


@pytest.mark.parametrize(
    ("document", "station", "reason", "words"),
    [
        pytest.param({"wl": 1}, None, "no_station", "no station", id="no-station"),
        pytest.param({"wl": 1}, "st/1", "bad_station", "'st/1'", id="bad-station"),
        pytest.param({}, "st1", "empty", "no readings", id="empty-object"),
        pytest.param([], "st1", "empty", "no readings", id="empty-array"),
        pytest.param(3, "st1", "not_object", "got integer", id="number"),
        pytest.param([[{"wl": 1}]], "st1", "not_object", "entry 0", id="nested-array"),
        pytest.param(
            {"ts": T0_MS, "values": 3}, "st1", "not_object", "'values'", id="values-3"
        ),
        pytest.param(
            {"ts": T0_MS, "wl": 3}, "st1", "bad_shape", "exactly", id="ts-only"
        ),
        pytest.param({"values": {"wl": 3}}, "st1", "bad_shape", "exactly", id="no-ts"),
        pytest.param(
            {"ts": "1751968800000", "values": {"wl": 3}},
            "st1",
            "wrong_type",
            "'ts': time must be a number, got string",
            id="m4-ts-string",
        ),
        pytest.param(
            {"ts": True, "values": {"wl": 3}},
            "st1",
            "wrong_type",
            "boolean",
            id="ts-bool",
        ),
        pytest.param(
            {"ts": 0, "values": {"wl": 3}}, "st1", "bad_time", "neither", id="m1-ts-0"
        ),
        pytest.param(
            {"ts": 17519688000, "values": {"wl": 3}},
            "st1",
            "bad_time",
            "neither",
            id="m1-11-digits-ambiguous",
        ),
        pytest.param(
            {"ts": T0_MS * 1000, "values": {"wl": 3}},
            "st1",
            "bad_time",
            "neither",
            id="m1-microseconds",
        ),
        pytest.param(
            {"waterLevel": "3.2"},
            "st1",
            "wrong_type",
            "key 'waterLevel': water_level must be a number, got string",
            id="m4-string-where-number",
        ),
        pytest.param(
            {"wl": True}, "st1", "wrong_type", "got boolean", id="m4-bool-not-number"
        ),
        pytest.param({"statusBits": 1.5}, "st1", "wrong_type", "integer", id="bits"),
        pytest.param(
            {"cfg": {"a": 1}}, "st1", "wrong_type", "JSON object", id="object"
        ),
        pytest.param({"cfg": [1]}, "st1", "wrong_type", "JSON array", id="array-value"),
        pytest.param({"wl": 2**64}, "st1", "out_of_bounds", "64 bits", id="int65"),
        pytest.param({"bad key": 1}, "st1", "bad_element", "'bad key'", id="space"),
        pytest.param({"k" * 65: 1}, "st1", "bad_element", "at most 64", id="long-key"),
        pytest.param({"": 1}, "st1", "bad_element", "''", id="empty-key"),
        pytest.param(
            {"waterLevel": 1, "water_level": 2},
            "st1",
            "bad_shape",
            "both mean water_level",
            id="two-aliases",
        ),
    ],
)
def test_device_payloads_refused_with_their_reason(
    document: object, station: str | None, reason: str, words: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_tb(document, station, RECEIVED)
    assert caught.value.reason == reason
    assert words in caught.value.message


def test_gateway_form_names_stations_and_sorts_across_devices() -> None:
    document = {
        "Device A": [{"ts": T0_MS + 10_000, "values": {"waterLevel": 3.3}}],
        "巴河站": [{"ts": T0_MS, "values": {"rainfall": 0.5}}, {"voltage": 12.5}],
    }
    assert row(decode_tb_gateway(document, RECEIVED)) == [
        ("巴河站", "rain_5min", 0.5, T0, "device"),
        ("Device A", "water_level", 3.3, at(10), "device"),
        ("巴河站", "voltage", 12.5, RECEIVED_MS, "server"),
    ]
    assert {r.source for r in decode_tb_gateway(document, RECEIVED)} == {"tb_gateway"}


@pytest.mark.parametrize(
    ("document", "reason", "words"),
    [
        pytest.param([{"ts": T0_MS, "values": {}}], "not_object", "object of devices"),
        pytest.param({"Device A": {"wl": 1}}, "not_object", "'Device A': expected an"),
        pytest.param({"Device/A": [{"wl": 1}]}, "bad_station", "'Device/A'"),
        pytest.param({" Device": [{"wl": 1}]}, "bad_station", "' Device'"),
        pytest.param({"Device A": []}, "empty", "no readings"),
        pytest.param({"Device A": [{"wl": "x"}]}, "wrong_type", "'Device A' entry 0"),
    ],
)
def test_gateway_payloads_refused_with_their_reason(
    document: object, reason: str, words: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_tb_gateway(document, RECEIVED)
    assert caught.value.reason == reason
    assert words in caught.value.message


def test_encoders_write_what_decoders_read() -> None:
    readings = (
        Reading("st1", "water_level", 3.2, None, T0, "device", "tb"),
        Reading("st1", "voltage", 12.5, None, T0, "device", "tb"),
        Reading("st1", "water_level", 3.3, None, RECEIVED_MS, "server", "tb"),
    )
    assert encode_tb(readings) == (
        b'[{"ts": 1751968800000, "values": {"water_level": 3.2, "voltage": 12.5}},'
        b' {"water_level": 3.3}]'
    )
    gateway = encode_tb_gateway(r for r in readings)
    assert gateway.startswith(b'{"st1": [{"ts": 1751968800000')


def test_a_server_time_key_named_ts_cannot_be_encoded() -> None:
    reading = Reading("st1", "ts", 1, None, RECEIVED_MS, "server", "tb")
    with pytest.raises(ValueError, match="server-time key"):
        encode_tb([reading])

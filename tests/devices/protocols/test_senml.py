"""SenML JSON (RFC 8428) as tables: base fields, times, value fields (M5, M6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devices.protocols.readings import DecodeError, Reading
from devices.protocols.senml import decode_senml, encode_senml

RECEIVED = datetime(2025, 7, 8, 10, 0, 30, 500000, tzinfo=UTC)
T0 = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
T0_S = 1751968800
URN = "urn:dev:mac:0024befffe804ff1:"


def row(readings: tuple[Reading, ...]) -> list[tuple[object, ...]]:
    return [
        (r.station, r.element, r.value, r.unit, r.observed_at, r.time_source)
        for r in readings
    ]


def secs(seconds: float, base: datetime = T0) -> datetime:
    return base + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("pack", "station", "expected"),
    [
        pytest.param(
            [{"n": "water_level", "u": "m", "v": 3.2, "t": T0_S}],
            "st1",
            [("st1", "water_level", 3.2, "m", T0, "device")],
            id="one-record-absolute",
        ),
        pytest.param(
            [
                {"bn": URN, "bt": T0_S, "bu": "m", "n": "waterLevel", "v": 3.2},
                {"n": "waterLevel", "t": 300, "v": 3.4},
                {"n": "voltage", "u": "V", "t": 300, "v": 12.1},
            ],
            "st1",
            [
                ("st1", "water_level", 3.2, "m", T0, "device"),
                ("st1", "voltage", 12.1, "V", secs(300), "device"),
                ("st1", "water_level", 3.4, "m", secs(300), "device"),
            ],
            id="m5-bases-carry-forward-bn-n-bt-t",
        ),
        pytest.param(
            [{"bn": "st1/", "bv": 100, "n": "water_level", "v": 2, "t": T0_S}],
            "st1",
            [("st1", "water_level", 102, None, T0, "device")],
            id="m5-bv-plus-v",
        ),
        pytest.param(
            [
                {"bt": T0_S, "bv": 1.5},
                {"n": "wl", "v": 0.25},
                {"bv": 0},
                {"n": "wl", "v": 1},
            ],
            "st1",
            [
                ("st1", "water_level", 1.75, None, T0, "device"),
                ("st1", "water_level", 1, None, T0, "device"),
            ],
            id="base-only-records-set-bases",
        ),
        pytest.param(
            [{"n": "water_level", "v": 3.1}],
            "st1",
            [("st1", "water_level", 3.1, None, secs(30.5, T0), "server")],
            id="m6-no-time-is-receive-time",
        ),
        pytest.param(
            [{"n": "water_level", "v": 3.1, "t": -60}],
            "st1",
            [("st1", "water_level", 3.1, None, secs(-29.5), "server")],
            id="m6-negative-is-seconds-ago",
        ),
        pytest.param(
            [{"bt": 2**28 - 1, "n": "water_level", "v": 3.1}],
            "st1",
            [("st1", "water_level", 3.1, None, secs(30.5 + 2**28 - 1), "server")],
            id="m6-just-below-2-28-is-relative",
        ),
        pytest.param(
            [{"bt": 2**28, "n": "water_level", "v": 3.1}],
            "st1",
            [
                (
                    "st1",
                    "water_level",
                    3.1,
                    None,
                    datetime(1978, 7, 4, 21, 24, 16, tzinfo=UTC),
                    "device",
                )
            ],
            id="m6-2-28-is-absolute",
        ),
        pytest.param(
            [{"bt": T0_S, "t": 0.25, "n": "wl", "v": 3}],
            "st1",
            [("st1", "water_level", 3, None, secs(0.25), "device")],
            id="fractional-seconds",
        ),
        pytest.param(
            [
                {"n": "door", "vs": "open"},
                {"n": "pump", "vb": False},
                {"n": "img", "vd": "aGk"},
            ],
            "st1",
            [
                ("st1", "door", "open", None, secs(30.5), "server"),
                ("st1", "img", "aGk", None, secs(30.5), "server"),
                ("st1", "pump", False, None, secs(30.5), "server"),
            ],
            id="string-boolean-data-values",
        ),
        pytest.param(
            [{"bs": 100, "n": "rain", "s": 2.5, "u": "mm", "t": T0_S}],
            "st1",
            [("st1", "rain_5min_sum", 102.5, "mm", T0, "device")],
            id="m5-sum-without-value",
        ),
        pytest.param(
            [{"n": "rain", "v": 0.5, "s": 12.5, "t": T0_S}],
            "st1",
            [
                ("st1", "rain_5min", 0.5, None, T0, "device"),
                ("st1", "rain_5min_sum", 12.5, None, T0, "device"),
            ],
            id="m5-value-and-sum",
        ),
        pytest.param(
            [
                {"bn": "bahe-01/", "n": "wl", "v": 3, "t": T0_S},
                {"n": "voltage", "v": 12},
            ],
            None,
            [
                ("bahe-01", "water_level", 3, None, T0, "device"),
                ("bahe-01", "voltage", 12, None, secs(30.5), "server"),
            ],
            id="station-from-name",
        ),
        pytest.param(
            [
                {"bn": URN, "n": "wl", "v": 3, "t": T0_S, "bver": 10},
                {"n": "wl", "v": 4, "t": T0_S + 1, "bver": 10, "ut": 60, "x": 1},
            ],
            None,
            [
                ("urn:dev:mac:0024befffe804ff1", "water_level", 3, None, T0, "device"),
                (
                    "urn:dev:mac:0024befffe804ff1",
                    "water_level",
                    4,
                    None,
                    secs(1),
                    "device",
                ),
            ],
            id="urn-station-same-bver-unknown-field-ignored",
        ),
    ],
)
def test_packs_decode(
    pack: object, station: str | None, expected: list[tuple[object, ...]]
) -> None:
    assert row(decode_senml(pack, station, RECEIVED)) == expected


@pytest.mark.parametrize(
    ("pack", "station", "reason", "words"),
    [
        pytest.param(
            {"n": "wl", "v": 1}, "st1", "bad_shape", "JSON array", id="object"
        ),
        pytest.param([], "st1", "empty", "no readings", id="empty-pack"),
        pytest.param([{"bn": "x"}], "st1", "empty", "no readings", id="bases-only"),
        pytest.param([3], "st1", "not_object", "record 0", id="record-not-object"),
        pytest.param(
            [{"n": "wl", "v": 1, "vs": "1"}],
            "st1",
            "senml_two_values",
            "record 0: two value fields (v, vs)",
            id="m5-two-values",
        ),
        pytest.param(
            [{"n": "wl", "v": 1}, {"n": "wl", "vb": True, "vd": "aGk"}],
            "st1",
            "senml_two_values",
            "record 1",
            id="m5-two-values-second-record",
        ),
        pytest.param(
            [{"n": "wl", "u": "m"}],
            "st1",
            "senml_no_value",
            "no value field and no sum",
            id="m5-no-value",
        ),
        pytest.param(
            [{"n": "wl", "bv": 3}],
            "st1",
            "senml_no_value",
            "record 0",
            id="m5-base-value-is-no-value",
        ),
        pytest.param(
            [{"bver": 10, "n": "wl", "v": 1}, {"bver": 11, "n": "wl", "v": 2}],
            "st1",
            "senml_bver_mixed",
            "bver 11 after bver 10",
            id="m5-two-bver",
        ),
        pytest.param(
            [{"n": "wl", "v": 1, "bad_": 1}],
            "st1",
            "senml_must_understand",
            "'bad_'",
            id="must-understand",
        ),
        pytest.param(
            [{"n": "wl", "v": "3.2"}],
            "st1",
            "wrong_type",
            "record 0: 'v' must be a number, got string",
            id="m4-v-string",
        ),
        pytest.param(
            [{"n": "wl", "vs": "3.2"}],
            "st1",
            "wrong_type",
            "water_level must be a number",
            id="m4-canonical-element-as-vs",
        ),
        pytest.param([{"n": "wl", "v": True}], "st1", "wrong_type", "'v'", id="v-bool"),
        pytest.param([{"n": "x", "vb": 1}], "st1", "wrong_type", "boolean", id="vb-1"),
        pytest.param([{"n": 3, "v": 1}], "st1", "wrong_type", "'n' must be a", id="n"),
        pytest.param(
            [{"bt": "now", "n": "wl", "v": 1}], "st1", "wrong_type", "'bt'", id="bt"
        ),
        pytest.param(
            [{"bver": 1.5, "n": "wl", "v": 1}],
            "st1",
            "wrong_type",
            "integer",
            id="bver",
        ),
        pytest.param(
            [{"n": "", "v": 1}], "st1", "senml_bad_name", "''", id="empty-name"
        ),
        pytest.param(
            [{"n": "-wl", "v": 1}], "st1", "senml_bad_name", "'-wl'", id="dash"
        ),
        pytest.param(
            [{"n": "w l", "v": 1}], "st1", "senml_bad_name", "'w l'", id="space"
        ),
        pytest.param(
            [{"bn": "dev:", "v": 1}], "st1", "bad_element", "''", id="bn-only"
        ),
        pytest.param(
            [{"n": "water.level", "v": 1}],
            "st1",
            "bad_element",
            "'water.level'",
            id="dot",
        ),
        pytest.param(
            [{"n": "wl", "v": 1}],
            None,
            "no_station",
            "names no station",
            id="no-station",
        ),
        pytest.param(
            [{"n": "a/b/wl", "v": 1}], None, "bad_station", "'a/b'", id="bad-station"
        ),
        pytest.param(
            [{"bv": 1e308, "n": "x", "v": 1e308}],
            "st1",
            "non_finite",
            "value",
            id="bv+v-inf",
        ),
        pytest.param(
            [{"bt": 1e308, "n": "x", "v": 1, "t": 1e308}],
            "st1",
            "non_finite",
            "time",
            id="t-inf",
        ),
        pytest.param(
            [{"bt": 1e15, "n": "x", "v": 1}],
            "st1",
            "bad_time",
            "1-9999",
            id="far-future",
        ),
        pytest.param(
            [{"t": -1e12, "n": "x", "v": 1}], "st1", "bad_time", "1-9999", id="far-past"
        ),
        pytest.param(
            [{"n": "x", "v": 2**63}], "st1", "out_of_bounds", "64 bits", id="int65"
        ),
    ],
)
def test_packs_refused_with_their_reason(
    pack: object, station: str | None, reason: str, words: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_senml(pack, station, RECEIVED)
    assert caught.value.reason == reason
    assert words in caught.value.message


def test_encoder_writes_absolute_device_and_relative_server_times() -> None:
    device = Reading("st1", "water_level", 3.2, "m", T0, "device", "senml")
    server = Reading("st1", "voltage", 12, None, secs(-10, RECEIVED), "server", "senml")
    now = Reading("st1", "door", "open", None, secs(0, RECEIVED), "server", "senml")
    total = Reading("st1", "rain_5min_sum", 2.5, "mm", T0, "device", "senml")
    assert encode_senml([device, server, now, total], RECEIVED) == (
        b'[{"n": "water_level", "u": "m", "v": 3.2, "t": 1751968800},'
        b' {"n": "voltage", "v": 12, "t": -10},'
        b' {"n": "door", "vs": "open"},'
        b' {"n": "rain_5min", "u": "mm", "s": 2.5, "t": 1751968800}]'
    )
    named = encode_senml([device], RECEIVED, with_station=True)
    assert named.startswith(b'[{"n": "st1/water_level"')


def test_encoder_refuses_what_senml_cannot_carry() -> None:
    with pytest.raises(ValueError, match="null"):
        encode_senml([Reading("s", "x", None, None, T0, "device", "tb")], RECEIVED)
    old = datetime(1975, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="2\\*\\*28"):
        encode_senml([Reading("s", "x", 1, None, old, "device", "tb")], RECEIVED)

"""Topics to formats and stations, and the one decode entry point (M1, M4)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from devices.protocols.readings import DecodeError
from devices.protocols.routing import (
    DEFAULT_ROUTES,
    RouteMatch,
    TopicRoute,
    decode,
    route,
)

RECEIVED = datetime(2025, 7, 8, 10, 0, 30, tzinfo=UTC)
CONFIGURED = (
    TopicRoute("sensors/+/tb", "tb", station_level=1),
    TopicRoute("site/+/+/senml", "senml", station_level=2),
    TopicRoute("legacy/#", "plain"),
    TopicRoute("+/telemetry", "tb"),
    TopicRoute("citywall/stations/special/tb", "plain", station_level=None),
)


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("citywall/stations/bahe-01/senml", RouteMatch("senml", "bahe-01")),
        ("citywall/stations/bahe-01/tb", RouteMatch("tb", "bahe-01")),
        ("citywall/stations/bahe-01/plain", RouteMatch("plain", "bahe-01")),
        ("v1/gateway/telemetry", RouteMatch("tb_gateway", None)),
        ("citywall/stations/bahe-01/xml", None),
        ("citywall/stations/bahe-01", None),
        ("citywall/stations/a/b/tb", None),
        ("v1/devices/me/telemetry", None),
        ("citywall/stations/+/tb", None),
        ("", None),
    ],
)
def test_default_layout_needs_no_configuration(
    topic: str, expected: RouteMatch | None
) -> None:
    assert route(topic) == expected


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("sensors/st9/tb", RouteMatch("tb", "st9")),
        ("site/east/st9/senml", RouteMatch("senml", "st9")),
        ("legacy", RouteMatch("plain", None)),
        ("legacy/a/b/c", RouteMatch("plain", None)),
        ("gw/telemetry", RouteMatch("tb", None)),
        ("$SYS/telemetry", None),
        ("citywall/stations/special/tb", RouteMatch("plain", None)),
        ("citywall/stations/other/tb", RouteMatch("tb", "other")),
        ("sensors/st9/senml", None),
    ],
)
def test_configured_routes_come_first_then_the_defaults(
    topic: str, expected: RouteMatch | None
) -> None:
    assert route(topic, CONFIGURED) == expected


@pytest.mark.parametrize(
    ("topic_filter", "fmt", "level", "words"),
    [
        ("", "tb", None, "not MQTT"),
        ("a/b+/c", "tb", None, "not MQTT"),
        ("a/#/c", "tb", None, "last level"),
        ("a/+/c", "xml", None, "unknown payload format"),
        ("a/+/c", "tb", 0, "must point at a '+'"),
        ("a/+/c", "tb", 3, "must point at a '+'"),
        ("a/+/c", "tb_gateway", 1, "gateways"),
    ],
)
def test_bad_routes_are_refused_when_configured(
    topic_filter: str, fmt: str, level: int | None, words: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        TopicRoute(topic_filter, fmt, level)  # type: ignore[arg-type]


def test_the_defaults_are_data() -> None:
    assert [r.format for r in DEFAULT_ROUTES] == ["senml", "tb", "plain", "tb_gateway"]


@pytest.mark.parametrize(
    ("topic", "payload", "elements"),
    [
        ("citywall/stations/st1/tb", b'{"waterLevel": 3.2}', ["water_level"]),
        ("citywall/stations/st1/senml", b'[{"n": "wl", "v": 3.2}]', ["water_level"]),
        (
            "citywall/stations/st1/plain",
            b'{"element": "rainfall", "value": 0.5}',
            ["rain_5min"],
        ),
        ("v1/gateway/telemetry", b'{"st1": [{"vbat": 12.1}]}', ["voltage"]),
        ("sensors/st1/tb", b'[{"wl": 1}]', ["water_level"]),
    ],
)
def test_decode_chooses_the_decoder_by_topic(
    topic: str, payload: bytes, elements: list[str]
) -> None:
    readings = decode(topic, payload, RECEIVED, CONFIGURED)
    assert [r.element for r in readings] == elements
    assert {r.station for r in readings} == {"st1"}
    assert {r.observed_at for r in readings} == {RECEIVED}  # M1: no time given


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("nowhere/st1", b'{"wl": 1}', "unknown_topic"),
        ("citywall/stations/st1/tb", b'{"wl": NaN}', "non_finite"),
        ("citywall/stations/st1/tb", b"not json", "bad_json"),
        ("citywall/stations/st1/tb", b'"text"', "not_object"),
        ("citywall/stations/st1/tb", b'{"wl": "high"}', "wrong_type"),
        ("citywall/stations/a b!/tb", b'{"wl": 1}', "bad_station"),
        ("citywall/stations//tb", b'{"wl": 1}', "bad_station"),
        ("legacy/x", b'{"element": "wl", "value": 1}', "no_station"),
        ("citywall/stations/st1/tb", b" " * (256 * 1024) + b"{}", "oversize"),
    ],
)
def test_decode_refuses_with_a_reason_m4(
    topic: str, payload: bytes, reason: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(topic, payload, RECEIVED, CONFIGURED)
    assert caught.value.reason == reason


def test_max_payload_is_a_parameter() -> None:
    payload = b'{"wl": 1}'
    assert decode(
        "citywall/stations/st1/tb", payload, RECEIVED, max_payload=len(payload)
    )
    with pytest.raises(DecodeError) as caught:
        decode(
            "citywall/stations/st1/tb", payload, RECEIVED, max_payload=len(payload) - 1
        )
    assert caught.value.reason == "oversize"


def test_a_naive_receive_time_is_a_callers_bug() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decode("citywall/stations/st1/tb", b"{}", datetime(2025, 7, 8))

"""Property tests for every decoder: nothing crashes, what is accepted round-trips.

"Crash" means any exception but :class:`DecodeError`; "round-trips" means
that encoding the accepted readings back into the same format and decoding
them again gives the same readings, values compared with their JSON type.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols.plain import decode_plain, encode_plain
from devices.protocols.readings import REASONS, DecodeError, Reading
from devices.protocols.routing import TopicRoute, decode
from devices.protocols.senml import decode_senml, encode_senml
from devices.protocols.thingsboard import (
    decode_tb,
    decode_tb_gateway,
    encode_tb,
    encode_tb_gateway,
)
from tests.devices.protocols.strategies import (
    PROPERTY,
    gateway_documents,
    hostile_values,
    json_values,
    plain_documents,
    received_times,
    senml_named_packs,
    senml_packs,
    stations,
    tb_documents,
)

TOPICS = {
    "tb": "citywall/stations/st1/tb",
    "senml": "citywall/stations/st1/senml",
    "plain": "citywall/stations/st1/plain",
    "tb_gateway": "v1/gateway/telemetry",
    "senml_named": "named/senml",
}
ROUTES = (TopicRoute("named/senml", "senml"),)
Row = tuple[object, ...]


def rows(readings: tuple[Reading, ...]) -> list[Row]:
    return [
        (
            r.station,
            r.element,
            type(r.value).__name__,
            repr(r.value),  # repr: 1 == 1.0 == True, and -0.0 == 0.0
            r.unit,
            r.observed_at,
            r.time_source,
            r.source,
        )
        for r in readings
    ]


def encoded(topic: str, readings: tuple[Reading, ...], received_at: datetime) -> bytes:
    encoders: dict[str, Callable[[], bytes]] = {
        TOPICS["tb"]: lambda: encode_tb(readings),
        TOPICS["senml"]: lambda: encode_senml(readings, received_at),
        TOPICS["senml_named"]: lambda: encode_senml(
            readings, received_at, with_station=True
        ),
        TOPICS["plain"]: lambda: encode_plain(readings),
        TOPICS["tb_gateway"]: lambda: encode_tb_gateway(readings),
    }
    return encoders[topic]()


def assert_well_formed(readings: tuple[Reading, ...], received_at: datetime) -> None:
    assert readings
    times = [r.observed_at for r in readings]
    assert times == sorted(times)  # M2
    for reading in readings:
        assert reading.observed_at.utcoffset() == timedelta(0)
        assert reading.observed_at.microsecond % 1000 == 0
        if reading.time_source == "server" and reading.source != "senml":
            assert abs(reading.observed_at - received_at) < timedelta(milliseconds=1)


def outcome(
    decoding: Callable[[], tuple[Reading, ...]],
) -> tuple[Reading, ...] | DecodeError:
    """The readings, or the DecodeError; any other exception fails the test."""
    try:
        return decoding()
    except DecodeError as err:
        return err


def check(topic: str, payload: bytes, received_at: datetime) -> str:
    """Decode; if accepted, assert it round-trips. Returns the outcome."""
    readings = outcome(lambda: decode(topic, payload, received_at, ROUTES))
    if isinstance(readings, DecodeError):
        assert readings.reason in REASONS
        assert len(readings.message) < 400
        return readings.reason
    assert_well_formed(readings, received_at)
    again = decode(topic, encoded(topic, readings, received_at), received_at, ROUTES)
    assert rows(again) == rows(readings)
    return "accepted"


@PROPERTY
@given(
    st.sampled_from(sorted(TOPICS.values())), st.binary(max_size=300), received_times
)
def test_m4_no_bytes_crash_any_decoder(
    topic: str, payload: bytes, received_at: datetime
) -> None:
    check(topic, payload, received_at)


@PROPERTY
@given(st.sampled_from(sorted(TOPICS.values())), json_values, received_times)
def test_m4_no_json_crashes_any_decoder_and_accepted_json_round_trips(
    topic: str, document: object, received_at: datetime
) -> None:
    check(topic, json.dumps(document).encode(), received_at)


@PROPERTY
@given(st.sampled_from(sorted(TOPICS.values())), hostile_values, received_times)
def test_m4_nan_or_infinity_anywhere_is_refused(
    topic: str, document: object, received_at: datetime
) -> None:
    outcome = check(topic, json.dumps(document).encode(), received_at)
    if _has_non_finite(document):
        assert outcome == "non_finite"


def _has_non_finite(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list):
        return any(_has_non_finite(v) for v in value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    return False


@PROPERTY
@given(tb_documents, received_times)
def test_m1_m2_thingsboard_device_payloads_round_trip(
    document: object, received_at: datetime
) -> None:
    check(TOPICS["tb"], json.dumps(document).encode(), received_at)


@PROPERTY
@given(gateway_documents, received_times)
def test_thingsboard_gateway_payloads_round_trip(
    document: object, received_at: datetime
) -> None:
    check(TOPICS["tb_gateway"], json.dumps(document).encode(), received_at)


@PROPERTY
@given(senml_packs, received_times)
def test_m5_m6_senml_packs_round_trip(pack: object, received_at: datetime) -> None:
    check(TOPICS["senml"], json.dumps(pack).encode(), received_at)


@PROPERTY
@given(senml_named_packs(), received_times)
def test_m5_senml_packs_naming_their_station_round_trip(
    pack: object, received_at: datetime
) -> None:
    check(TOPICS["senml_named"], json.dumps(pack).encode(), received_at)


@PROPERTY
@given(plain_documents, received_times)
def test_m1_plain_payloads_round_trip(document: object, received_at: datetime) -> None:
    check(TOPICS["plain"], json.dumps(document).encode(), received_at)


@PROPERTY
@given(json_values, st.none() | stations, received_times)
def test_decoders_given_parsed_documents_directly_never_crash(
    document: object, station: str | None, received_at: datetime
) -> None:
    for decoder in (
        lambda: decode_tb(document, station, received_at),
        lambda: decode_tb_gateway(document, received_at),
        lambda: decode_senml(document, station, received_at),
        lambda: decode_plain(document, station, received_at),
    ):
        readings = outcome(decoder)
        if isinstance(readings, DecodeError):
            assert readings.reason in REASONS
        else:
            assert_well_formed(readings, received_at)


@pytest.mark.parametrize(
    ("fmt", "strategy"),
    [
        ("tb", tb_documents),
        ("tb_gateway", gateway_documents),
        ("senml", senml_packs),
        ("senml_named", senml_named_packs()),
        ("plain", plain_documents),
    ],
)
def test_the_near_valid_strategies_are_mostly_accepted(
    fmt: str, strategy: st.SearchStrategy[object]
) -> None:
    """Guards the round-trip properties against generators that only make refusals."""
    received_at = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
    outcomes: list[str] = []

    @PROPERTY
    @given(strategy)
    def collect(document: object) -> None:
        outcomes.append(check(TOPICS[fmt], json.dumps(document).encode(), received_at))

    collect()
    share = outcomes.count("accepted") / len(outcomes)
    assert share > 0.15, (fmt, share, sorted(set(outcomes)))

"""Strict JSON for sensor payloads: what Python's json lets through is refused (M4)."""

from __future__ import annotations

import pytest

from devices.protocols.document import MAX_PAYLOAD_BYTES, parse_document
from devices.protocols.readings import DecodeError


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(b'{"wl": 3.2}', {"wl": 3.2}, id="object"),
        pytest.param(b'[{"wl": 3}]', [{"wl": 3}], id="array"),
        pytest.param('{"名": "巴河"}'.encode(), {"名": "巴河"}, id="utf-8"),
        pytest.param(b'{"v": -0.0}', {"v": -0.0}, id="negative-zero"),
        pytest.param(b'{"v": 1e308}', {"v": 1e308}, id="largest-finite"),
        pytest.param(b'{"v": 9223372036854775807}', {"v": 2**63 - 1}, id="int64"),
    ],
)
def test_m4_well_formed_json_parses(payload: bytes, expected: object) -> None:
    assert parse_document(payload) == expected


@pytest.mark.parametrize(
    ("payload", "reason", "words"),
    [
        pytest.param(b"{", "bad_json", "not JSON", id="truncated"),
        pytest.param(b"", "bad_json", "not JSON", id="empty-payload"),
        pytest.param(b"{'wl': 1}", "bad_json", "not JSON", id="single-quotes"),
        pytest.param(b'{"wl": 1} x', "bad_json", "not JSON", id="trailing-garbage"),
        pytest.param(b"\xff\xfe{}", "bad_json", "not UTF-8", id="not-utf8"),
        pytest.param('{"a": 1}'.encode("utf-16"), "bad_json", "not UTF-8", id="utf16"),
        pytest.param(b'{"wl": 1, "wl": 2}', "bad_json", "'wl' appears twice", id="dup"),
        pytest.param(b"[" * 100_000, "bad_json", "", id="nested-deep"),
        pytest.param(b'{"v": NaN}', "non_finite", "NaN", id="nan"),
        pytest.param(b'{"v": Infinity}', "non_finite", "Infinity", id="inf"),
        pytest.param(b"[-Infinity]", "non_finite", "-Infinity", id="minus-inf"),
        pytest.param(
            b'{"v": 1e400}', "non_finite", "out of float range", id="overflow"
        ),
        pytest.param(
            b'{"v": ' + b"9" * 5000 + b"}", "out_of_bounds", "digits", id="huge"
        ),
    ],
)
def test_m4_malformed_json_is_refused_with_its_reason(
    payload: bytes, reason: str, words: str
) -> None:
    with pytest.raises(DecodeError) as caught:
        parse_document(payload)
    assert caught.value.reason == reason
    assert words in caught.value.message


def test_m4_oversize_payload_is_refused_before_parsing() -> None:
    at_limit = b'"' + b"a" * (MAX_PAYLOAD_BYTES - 2) + b'"'
    assert parse_document(at_limit) == "a" * (MAX_PAYLOAD_BYTES - 2)
    with pytest.raises(DecodeError) as caught:
        parse_document(b" " + at_limit)
    assert caught.value.reason == "oversize"
    assert str(MAX_PAYLOAD_BYTES) in caught.value.message


def test_m4_a_configured_max_payload_applies() -> None:
    with pytest.raises(DecodeError) as caught:
        parse_document(b'{"wl": 3.25}', max_payload=8)
    assert caught.value.reason == "oversize"


def test_m4_messages_never_echo_a_huge_input() -> None:
    key = "k" * 10_000
    with pytest.raises(DecodeError) as caught:
        parse_document(f'{{"{key}": 1, "{key}": 2}}'.encode())
    assert len(caught.value.message) < 200


def test_an_unknown_reason_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown decode reason"):
        DecodeError("whatever", "x")  # type: ignore[arg-type]

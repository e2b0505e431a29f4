"""A bad SDP offer is answered with what is wrong, never "None is not in list"."""

from __future__ import annotations

import pytest

from wall.live.core.offers import offer_fault

GOOD = "\r\n".join(
    [
        "v=0",
        "o=- 3912 3912 IN IP4 0.0.0.0",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "m=video 9 UDP/TLS/RTP/SAVPF 97 99 100",
        "c=IN IP4 0.0.0.0",
        "a=recvonly",
        "a=mid:0",
        "a=rtpmap:97 VP8/90000",
        "a=rtpmap:99 H264/90000",
        "a=fmtp:99 packetization-mode=1;profile-level-id=42e01f",
        "a=rtpmap:100 rtx/90000",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuv",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        "",
    ]
)


def without(*prefixes: str) -> str:
    return "\r\n".join(
        line for line in GOOD.split("\r\n") if not line.startswith(prefixes)
    )


@pytest.mark.parametrize(
    ("sdp", "code", "message"),
    [
        (GOOD, None, None),
        (GOOD.replace("\r\n", "\n"), None, None),  # bare LF is tolerated
        # ICE and DTLS attributes may sit at session level
        (
            GOOD.replace("a=group:BUNDLE 0", "a=ice-ufrag:x\r\na=ice-pwd:y")
            .replace("a=ice-ufrag:abcd\r\n", "")
            .replace("a=ice-pwd:abcdefghijklmnopqrstuv\r\n", ""),
            None,
            None,
        ),
        ("", "bad_offer", 'the offer is not valid SDP (it must start with "v=0")'),
        ("hello, I am an offer", "bad_offer", 'it must start with "v=0"'),
        ('{"sdp": "v=0"}', "bad_offer", 'it must start with "v=0"'),
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nnot a line", "bad_offer", "line 3 is not"),
        (without("m=", "a=", "c="), "bad_offer", "no video section in the offer"),
        (
            GOOD.replace("m=video", "m=audio"),
            "bad_offer",
            "no video section in the offer",
        ),
        (
            without("a=rtpmap:99", "a=fmtp:99"),
            "unsupported_codec",
            "the offer has no H.264 (its video section offers VP8)",
        ),
        (
            without("a=rtpmap"),
            "unsupported_codec",
            "the offer has no H.264 (its video section offers no codec)",
        ),
        (
            without("a=ice-ufrag"),
            "bad_offer",
            "the offer has no ICE credentials (a=ice-ufrag and a=ice-pwd)",
        ),
        (without("a=ice-pwd"), "bad_offer", "no ICE credentials"),
        (
            without("a=fingerprint"),
            "bad_offer",
            "the offer has no DTLS fingerprint (a=fingerprint)",
        ),
        (
            GOOD.replace("a=recvonly", "a=sendonly"),
            "bad_offer",
            "does not receive video (a=sendonly)",
        ),
        (GOOD.replace("a=recvonly", "a=inactive"), "bad_offer", "(a=inactive)"),
        (GOOD.replace("m=video 9 ", "m=video 0 "), "bad_offer", "(port 0)"),
    ],
)
def test_offer_fault_table(sdp: str, code: str | None, message: str | None) -> None:
    fault = offer_fault(sdp)
    if code is None:
        assert fault is None
        return
    assert fault is not None
    assert fault.code == code
    assert message is not None and message in fault.message
    assert "None" not in fault.message and "list" not in fault.message


def test_the_message_never_quotes_the_offer() -> None:
    fault = offer_fault(without("a=fingerprint"))
    assert fault is not None and "abcdefghijklmnopqrstuv" not in fault.message

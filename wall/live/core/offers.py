"""What is wrong with a viewer's SDP offer, said before aiortc is asked.

aiortc reports a text that is not SDP, or an offer without video, as
"None is not in list"; an offer without a fingerprint passes and fails in
DTLS later. :func:`offer_fault` names the problem instead. It reads only
what the relay needs: the first video section (the one the relay's sending
transceiver takes), its codecs and direction, and the ICE and DTLS
attributes at session or media level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE = re.compile(r"^[a-z]=")
_RTPMAP = re.compile(r"^a=rtpmap:\d+ ([^/\s]+)/", re.IGNORECASE)
_NOT_CODECS = {"rtx", "red", "ulpfec", "flexfec-03"}
_NOT_RECEIVING = ("a=sendonly", "a=inactive")


@dataclass(frozen=True, slots=True)
class OfferFault:
    """One problem of an offer.

    Attributes:
        code: ``bad_offer`` (the offer is unusable) or ``unsupported_codec``.
        message: what is wrong, for people; never quotes the offer.
    """

    code: str
    message: str


def _bad(message: str) -> OfferFault:
    return OfferFault("bad_offer", message)


def _sections(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """The session-level lines and the media sections (each from its ``m=``)."""
    session: list[str] = []
    media: list[list[str]] = []
    for line in lines:
        if line.startswith("m="):
            media.append([line])
        elif media:
            media[-1].append(line)
        else:
            session.append(line)
    return session, media


def _attribute(lines: list[str], name: str) -> bool:
    return any(line.startswith(f"a={name}:") for line in lines)


def _codec_fault(video: list[str]) -> OfferFault | None:
    codecs = [m.group(1) for line in video if (m := _RTPMAP.match(line))]
    if any(c.upper() == "H264" for c in codecs):
        return None
    listed = sorted({c for c in codecs if c.lower() not in _NOT_CODECS})
    offered = ", ".join(listed) if listed else "no codec"
    return OfferFault(
        "unsupported_codec",
        f"the offer has no H.264 (its video section offers {offered})",
    )


def offer_fault(sdp: str) -> OfferFault | None:
    r"""The first problem of an offer for a receive-only H.264 view, or None.

    Examples:
        >>> offer_fault("hello").message
        'the offer is not valid SDP (it must start with "v=0")'
        >>> offer_fault("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n").message
        'no video section in the offer'
    """
    lines = [line.strip() for line in sdp.splitlines() if line.strip()]
    if not lines or lines[0] != "v=0":
        return _bad('the offer is not valid SDP (it must start with "v=0")')
    for number, line in enumerate(lines, start=1):
        if not _LINE.match(line):
            return _bad(
                f"the offer is not valid SDP (line {number} is not <letter>=<value>)"
            )
    session, media = _sections(lines)
    video = next((s for s in media if s[0].startswith("m=video ")), None)
    if video is None:
        return _bad("no video section in the offer")
    if (fault := _codec_fault(video)) is not None:
        return fault
    both = session + video
    if not (_attribute(both, "ice-ufrag") and _attribute(both, "ice-pwd")):
        return _bad("the offer has no ICE credentials (a=ice-ufrag and a=ice-pwd)")
    if not _attribute(both, "fingerprint"):
        return _bad("the offer has no DTLS fingerprint (a=fingerprint)")
    fields = video[0].split()
    if len(fields) < 4 or fields[1] == "0":
        return _bad("the offer's video section is rejected or incomplete (port 0)")
    refused = next((d for d in _NOT_RECEIVING if d in video), None)
    if refused is not None:
        return _bad(f"the offer's video section does not receive video ({refused})")
    return None

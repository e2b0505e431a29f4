"""The live view's domain errors, and the check that names a bad offer's fault."""

from __future__ import annotations

from wall.live.core.offers import offer_fault
from wall.platform.errors import Busy, Malformed, Unavailable, Unsupported


class LiveViewError(Unavailable):
    """A live view that cannot be started now (no picture, shutting down)."""


class UnsupportedCodec(Unsupported):
    """Neither the camera nor the browser can carry H.264 for this view."""


class TooManyViewers(Busy):
    """A session limit is reached; the code and message name which."""


class BadOffer(Malformed):
    """The browser's SDP offer could not be negotiated."""


def check_offer(sdp: str) -> None:
    """Raise what is wrong with a viewer's offer, if anything.

    Raises:
        BadOffer: not SDP, no video, no ICE credentials or fingerprint, or a
            video section that does not receive.
        UnsupportedCodec: no H.264 in the offer's video section.
    """
    fault = offer_fault(sdp)
    if fault is None:
        return
    kind = UnsupportedCodec if fault.code == "unsupported_codec" else BadOffer
    raise kind(fault.code, fault.message)

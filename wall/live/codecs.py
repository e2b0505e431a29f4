"""H.264 codec preferences, ICE host candidates and DTLS suites for aiortc's answers."""

from __future__ import annotations

from typing import Any

import aioice.ice
from aiortc import (
    RTCCertificate,
    RTCRtpCodecCapability,
    RTCRtpCodecParameters,
    RTCRtpSender,
)
from aiortc.codecs import CODECS

VIDEO_CLOCK_HZ = 90_000


def allow_loopback_candidates() -> None:
    """Make aioice offer 127.0.0.1 as a host candidate too (idempotent)."""
    # aioice leaves 127.0.0.1 out of host candidates; a command-centre LAN
    # and tests on one machine (or in a network namespace with only
    # loopback) need it.
    original = aioice.ice.get_host_addresses
    if getattr(original, "_citywall", False):
        return

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses: list[str] = original(use_ipv4, use_ipv6)
        if use_ipv4 and "127.0.0.1" not in addresses:
            addresses.append("127.0.0.1")
        return addresses

    with_loopback._citywall = True  # type: ignore[attr-defined]
    aioice.ice.get_host_addresses = with_loopback


DTLS_CIPHERS = (
    b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
    b"ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
    b"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-SHA"
)
"""aiortc's own ECDSA suites, then ECDHE-RSA ones for peers with RSA certificates."""


def allow_rsa_dtls_peers() -> None:
    """Let the relay's DTLS handshake accept peers with RSA certificates (idempotent).

    aiortc offers ECDSA-only suites. When it is the DTLS client (it answers a
    browser's ``setup:actpass`` with ``active``) and the display's stack has
    an RSA certificate, as GStreamer's webrtcbin has, the handshake fails with
    "no shared cipher". Browsers use ECDSA and are unaffected; hardware and
    embedded displays built on GStreamer need the RSA suites.
    """
    original = RTCCertificate._create_ssl_context
    if getattr(original, "_citywall", False):
        return

    def with_rsa_suites(self: RTCCertificate, *args: Any, **kwargs: Any) -> Any:
        ctx = original(self, *args, **kwargs)
        ctx.set_cipher_list(DTLS_CIPHERS)
        return ctx

    with_rsa_suites._citywall = True  # type: ignore[attr-defined]
    RTCCertificate._create_ssl_context = with_rsa_suites  # type: ignore[method-assign]


def profile_ladder(camera_profile_level_id: str | None) -> list[str]:
    """Profile-level-ids to offer in the answer, best first.

    The camera's own profile comes first, so the SDP says what is really
    sent. Browsers that do not offer it (Debian's Chromium offers no High)
    get the nearest profile they do offer; they decode the stream anyway.
    Levels are asymmetric, so only the profile has to match the offer.

    Examples:
        >>> profile_ladder("640028")
        ['64001f', '4d001f', '42e01f']
        >>> profile_ladder("42c01e")
        ['42e01f']
    """
    pli = (camera_profile_level_id or "").lower()
    if pli.startswith("64"):
        return ["64001f", "4d001f", "42e01f"]
    if pli.startswith("4d"):
        return ["4d001f", "42e01f"]
    if pli.startswith("42") and len(pli) >= 4 and int(pli[2:4], 16) & 0x40:
        return ["42e01f"]  # constrained baseline
    return ["42001f", "42e01f"]


def _register_h264(profile_level_id: str) -> RTCRtpCodecCapability:
    params: dict[str, int | str | None] = {
        "level-asymmetry-allowed": "1",
        "packetization-mode": "1",
        "profile-level-id": profile_level_id,
    }
    video = CODECS["video"]
    for codec in video:
        if codec.mimeType == "video/H264" and codec.parameters == params:
            break
    else:
        used = {c.payloadType for c in video}
        pt = next(p for p in range(96, 128, 2) if p not in used and p + 1 not in used)
        base = next(c for c in video if c.mimeType == "video/H264")
        video.append(
            RTCRtpCodecParameters(
                mimeType="video/H264",
                clockRate=VIDEO_CLOCK_HZ,
                payloadType=pt,
                rtcpFeedback=list(base.rtcpFeedback),
                parameters=params,
            )
        )
        video.append(
            RTCRtpCodecParameters(
                mimeType="video/rtx",
                clockRate=VIDEO_CLOCK_HZ,
                payloadType=pt + 1,
                parameters={"apt": pt},
            )
        )
    return RTCRtpCodecCapability(
        mimeType="video/H264", clockRate=VIDEO_CLOCK_HZ, parameters=params
    )


def h264_preferences(
    camera_profile_level_id: str | None,
) -> list[RTCRtpCodecCapability]:
    """H.264 codec preferences, the camera's own profile first."""
    preferred = [_register_h264(p) for p in profile_ladder(camera_profile_level_id)]
    for codec in RTCRtpSender.getCapabilities("video").codecs:
        if codec.mimeType == "video/H264" and codec not in preferred:
            preferred.append(codec)
    return preferred

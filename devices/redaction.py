"""Masking of credentials in stream URLs and in text that may quote them.

Camera URLs carry passwords in their userinfo (``rtsp://user:pass@host/...``).
Every URL or library message that leaves a device adapter goes through
:func:`mask_url` or :func:`mask_text` first, so that logs, API responses,
metrics and error states never show a secret.

Masking decodes before it matches: a server decodes ``access_tok%65n=`` to
``access_token=``, so the masker must too, or the secret reaches the log in
clear. A percent-encoded stretch of text that hides a secret is shown
decoded, with the secret masked.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"

# scheme://userinfo@ anywhere in free text (FFmpeg messages quote the URL).
# Greedy up to the LAST "@" before the path: a password may contain "@".
_USERINFO_RE = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s]*)@"
)
# a whitespace-free stretch holding percent escapes
_ENCODED_RE = re.compile(r"\S*%[0-9A-Fa-f]{2}\S*")
_DECODE_ROUNDS = 3  # double- and triple-encoded names are decoded too
# query parameters that commonly carry secrets
_SECRET_QUERY_RE = re.compile(
    r"(?P<key>(?:password|passwd|pwd|token|access_token|auth|key|secret)=)[^&\s]+",
    re.IGNORECASE,
)


def mask_url(url: str) -> str:
    """Return ``url`` with its userinfo and secret query values masked.

    Args:
        url: any URL, possibly with ``user:password@`` in its authority.

    Returns:
        The URL with the userinfo replaced by ``***`` (the user name is
        hidden too: it often identifies the site's camera account).

    Examples:
        >>> mask_url("rtsp://admin:s3cret@10.1.2.3:554/Streaming/101")
        'rtsp://***@10.1.2.3:554/Streaming/101'
        >>> mask_url("file:///srv/demo.ts")
        'file:///srv/demo.ts'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    masked = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return mask_text(masked)


def mask_text(text: str) -> str:
    """Mask every URL userinfo and secret query value inside free text.

    Examples:
        >>> mask_text("Server returned 401 for rtsp://u:p@ss@h/x")
        'Server returned 401 for rtsp://***@h/x'
        >>> mask_text("GET /api/v1/ws?access_tok%65n=cw_abc")
        'GET /api/v1/ws?access_token=***'
    """
    masked = _mask_plain(text)
    if "%" not in masked:
        return masked
    return _ENCODED_RE.sub(lambda m: _mask_encoded(m.group()), masked)


def _mask_plain(text: str) -> str:
    text = _USERINFO_RE.sub(lambda m: m.group("scheme") + MASK + "@", text)
    return _SECRET_QUERY_RE.sub(lambda m: m.group("key") + MASK, text)


def _mask_encoded(stretch: str) -> str:
    decoded = stretch
    for _ in range(_DECODE_ROUNDS):
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    masked = _mask_plain(decoded)
    # unchanged text keeps its encoding; text that hid a secret is shown
    # decoded, so the reader sees which parameter was masked
    return stretch if masked == decoded else masked

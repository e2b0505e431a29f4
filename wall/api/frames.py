"""Reading a client's WebSocket frames safely: type, size and nesting first.

Every socket the service reads (the display feed, the event socket) takes
its client's messages through :func:`read_text`. A frame that cannot be a
message closes the socket with a standard code and a reason the client can
show, instead of ending in an exception inside the ASGI server:

* a binary frame: 1003 (unsupported data);
* a text frame above :data:`MAX_FRAME_BYTES`: 1009 (message too big);
* JSON nested deeper than :data:`MAX_JSON_DEPTH`: 1008 (policy violation).
  The nesting is counted on the raw text before anything parses it, since a
  recursive parser fails on 100,000 nested brackets.

Text that is not JSON at all is the caller's to answer: both sockets reply
with an error message and keep the connection.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import NoReturn

from fastapi import WebSocket, WebSocketDisconnect

MAX_FRAME_BYTES = 16_384
"""The largest text frame a client may send, UTF-8 bytes (its messages are tiny)."""

MAX_JSON_DEPTH = 32
"""The deepest nesting of arrays and objects a client message may have."""

CLOSE_UNSUPPORTED_DATA = 1003
"""RFC 6455 close code for a frame of a type the endpoint does not accept."""

CLOSE_POLICY_VIOLATION = 1008
"""RFC 6455 close code for a message that breaks the endpoint's rules."""

CLOSE_TOO_BIG = 1009
"""RFC 6455 close code for a message too big to process."""

# a JSON string, escapes included (an unterminated one runs to the end)
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether the arrays and objects in ``text`` nest deeper than ``limit``.

    Brackets inside JSON strings do not count. The scan does not parse and
    never recurses, so it is safe on any input (and runs at C speed: about
    1-2 ms for 16 KiB of brackets); malformed JSON is the parser's to report.

    Args:
        text: A client's message, not yet parsed.
        limit: The deepest nesting allowed (1 for a flat object).

    Examples:
        >>> json_depth_exceeds('{"a": [1, {"b": 2}]}', 3)
        False
        >>> json_depth_exceeds('{"a": [1, {"b": 2}]}', 2)
        True
        >>> json_depth_exceeds('{"a": "[[[[[[[["}', 1)
        False
    """
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    if len(brackets) <= limit:
        return False
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets))) > limit


class FrameRefused(WebSocketDisconnect):
    """The client sent a frame that cannot be a message; the socket is closed.

    A :class:`~fastapi.WebSocketDisconnect`, so that the socket's duplex
    loop ends as it does when the client leaves.
    """


async def read_text(
    websocket: WebSocket,
    *,
    max_bytes: int = MAX_FRAME_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> str:
    """The next text message of ``websocket``, checked before anyone parses it.

    Args:
        websocket: An accepted socket.
        max_bytes: The largest message accepted, UTF-8 bytes.
        max_depth: The deepest JSON nesting accepted.

    Returns:
        The message text (JSON or not: the caller parses it).

    Raises:
        WebSocketDisconnect: The client left.
        FrameRefused: The frame was binary, too big or too deeply nested;
            the socket has been closed with the matching code and reason.
    """
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text: str | None = message.get("text")
    if text is None:
        await _refuse(
            websocket, CLOSE_UNSUPPORTED_DATA, "binary frames are not accepted"
        )
    # characters never outnumber UTF-8 bytes: most big frames stop at the first test
    if len(text) > max_bytes or len(text.encode("utf-8")) > max_bytes:
        await _refuse(
            websocket, CLOSE_TOO_BIG, f"messages are limited to {max_bytes} bytes"
        )
    if json_depth_exceeds(text, max_depth):
        await _refuse(
            websocket,
            CLOSE_POLICY_VIOLATION,
            f"JSON too deeply nested (more than {max_depth} levels)",
        )
    return text


async def _refuse(websocket: WebSocket, code: int, reason: str) -> NoReturn:
    await websocket.close(code=code, reason=reason)
    raise FrameRefused(code, reason)

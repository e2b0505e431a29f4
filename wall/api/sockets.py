"""What every WebSocket endpoint shares: the auth preamble and the duplex loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine

from fastapi import WebSocket, WebSocketDisconnect

from wall.api.deps import runtime_of
from wall.platform.auth import (
    AccessDenied,
    Permission,
    Principal,
    Unauthorized,
    authorize,
)

CLOSE_UNAUTHORIZED = 4401
"""Close code for missing, unknown or revoked credentials (HTTP 401's twin)."""

CLOSE_FORBIDDEN = 4403
"""Close code for a principal that may not do this (HTTP 403's twin)."""


async def accept_authorized(
    websocket: WebSocket, permission: Permission, *, wall_id: str | None = None
) -> Principal | None:
    """Accept the socket, then authenticate and authorize its caller.

    The token comes from the ``Authorization`` header or ``?access_token=``
    (browsers cannot set headers on a WebSocket). The socket is accepted
    first and then closed with a code, because a browser sees close codes,
    not the HTTP status of a refused handshake.

    Args:
        websocket: The connecting socket.
        permission: What the caller must be allowed to do.
        wall_id: Check the permission on this wall (display tokens are bound).

    Returns:
        The caller, or ``None`` once the socket has been closed with
        :data:`CLOSE_UNAUTHORIZED` or :data:`CLOSE_FORBIDDEN`.
    """
    await websocket.accept()
    try:
        principal = await runtime_of(websocket).authenticator.authenticate(
            websocket.headers.get("authorization"),
            websocket.query_params.get("access_token"),
        )
        authorize(principal, permission, wall_id=wall_id)
    except (Unauthorized, AccessDenied) as err:
        code = CLOSE_UNAUTHORIZED if isinstance(err, Unauthorized) else CLOSE_FORBIDDEN
        # the reason is the error's own message: it never echoes the token
        await websocket.close(code=code, reason=str(err)[:120])
        return None
    return principal


class FeedClosed(Exception):
    """Raised by a sender whose source stopped (the service is stopping)."""


async def serve_duplex(
    websocket: WebSocket,
    name: str,
    sender: Callable[[], Coroutine[object, object, None]],
    receiver: Callable[[], Coroutine[object, object, None]],
    release: Callable[[], object],
) -> None:
    """Run a socket's sender and receiver until one of them ends, then close.

    Either ends the other: the client leaving (``WebSocketDisconnect``) or the
    sender raising :class:`FeedClosed`. Any other error propagates.

    Args:
        websocket: The accepted socket.
        name: Prefix of the two task names.
        sender: Pushes to the client; raises :class:`FeedClosed` at the end.
        receiver: Reads what the client sends.
        release: Frees what the socket held, before the socket closes.
    """
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(sender(), name=f"{name} sender")
            tg.create_task(receiver(), name=f"{name} receiver")
    except* (WebSocketDisconnect, FeedClosed):
        pass
    finally:
        release()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close()

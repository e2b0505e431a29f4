"""What every WebSocket endpoint shares: the auth preamble and the duplex loop.

Each authenticated socket is registered under its token in the runtime's
:class:`~wall.platform.connections.ConnectionRegistry`; when the token is
revoked or expires, :func:`serve_duplex` closes the socket with
:data:`CLOSE_UNAUTHORIZED` and the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine

from fastapi import WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from wall.api.deps import runtime_of
from wall.platform.auth import (
    AccessDenied,
    Permission,
    Principal,
    TooManyFailures,
    Unauthorized,
    authorize,
)
from wall.platform.connections import Connection

CLOSE_UNAUTHORIZED = 4401
"""Close code for missing, unknown or revoked credentials (HTTP 401's twin)."""

CLOSE_FORBIDDEN = 4403
"""Close code for a principal that may not do this (HTTP 403's twin)."""

CLOSE_THROTTLED = 4429
"""Close code for an address that failed authentication too often (HTTP 429's twin)."""


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
        :data:`CLOSE_UNAUTHORIZED`, :data:`CLOSE_FORBIDDEN` or
        :data:`CLOSE_THROTTLED`.
    """
    await websocket.accept()
    runtime = runtime_of(websocket)
    try:
        principal = await runtime.authenticator.authenticate(
            websocket.headers.get("authorization"),
            websocket.query_params.get("access_token"),
            client=websocket.client.host if websocket.client else None,
        )
        authorize(principal, permission, wall_id=wall_id)
    except (Unauthorized, AccessDenied) as err:
        # the reason is the error's own message: it never echoes the token
        await websocket.close(code=_close_code(err), reason=str(err)[:120])
        return None
    if principal.token_id is not None:
        # swept if the endpoint closes the socket without serve_duplex
        websocket.state.connection = runtime.connections.register(
            principal.token_id, lambda: _gone(websocket)
        )
    return principal


def _close_code(err: Unauthorized | AccessDenied) -> int:
    if isinstance(err, TooManyFailures):
        return CLOSE_THROTTLED
    return CLOSE_UNAUTHORIZED if isinstance(err, Unauthorized) else CLOSE_FORBIDDEN


def _gone(websocket: WebSocket) -> bool:
    return WebSocketState.DISCONNECTED in (
        websocket.application_state,
        websocket.client_state,
    )


def _connection_of(websocket: WebSocket) -> Connection | None:
    connection = getattr(websocket.state, "connection", None)
    return connection if isinstance(connection, Connection) else None


class TokenEnded(Exception):
    """The socket's token was revoked or has expired."""


async def _until_ended(connection: Connection) -> None:
    await connection.ended.wait()
    raise TokenEnded


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
    sender raising :class:`FeedClosed`. The socket's token ending (revoked,
    expired) ends both and closes with :data:`CLOSE_UNAUTHORIZED` and the
    reason. Any other error propagates.

    Args:
        websocket: The accepted socket.
        name: Prefix of the two task names.
        sender: Pushes to the client; raises :class:`FeedClosed` at the end.
        receiver: Reads what the client sends.
        release: Frees what the socket held, before the socket closes.
    """
    connection = _connection_of(websocket)
    try:
        async with asyncio.TaskGroup() as tg:
            duplex = [
                tg.create_task(sender(), name=f"{name} sender"),
                tg.create_task(receiver(), name=f"{name} receiver"),
            ]
            if connection is not None:
                watch = tg.create_task(_until_ended(connection), name=f"{name} token")
                await asyncio.wait(duplex)  # both returned: stop watching too
                watch.cancel()
    except* (WebSocketDisconnect, FeedClosed, TokenEnded):
        pass
    finally:
        release()
        if connection is not None:
            runtime_of(websocket).connections.deregister(connection)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            if connection is not None and connection.reason is not None:
                await websocket.close(CLOSE_UNAUTHORIZED, connection.reason)
            else:
                await websocket.close()

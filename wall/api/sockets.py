"""The one authentication preamble of every WebSocket endpoint."""

from __future__ import annotations

from fastapi import WebSocket

from wall.api.deps import runtime_of
from wall.platform.auth import (
    Forbidden,
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
    except (Unauthorized, Forbidden) as err:
        code = CLOSE_UNAUTHORIZED if isinstance(err, Unauthorized) else CLOSE_FORBIDDEN
        # the reason is the error's own message: it never echoes the token
        await websocket.close(code=code, reason=str(err)[:120])
        return None
    return principal

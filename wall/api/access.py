"""The HTTP face of authorisation: a FastAPI dependency per permission (O1).

The platform decides who may do what (:mod:`wall.platform.auth`); this
module only turns its refusals into 401 (with ``WWW-Authenticate``), 403, and
429 (with ``Retry-After``) for an address that failed too often.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import cast

from fastapi import HTTPException, Request, status

from wall.platform.auth import (
    AccessDenied,
    Authenticator,
    Permission,
    Principal,
    TooManyFailures,
    Unauthorized,
    authorize,
)


def throttled(err: TooManyFailures) -> HTTPException:
    """The 429 answer to a throttled address, with ``Retry-After`` in seconds."""
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=err.message,
        headers={"Retry-After": str(max(1, math.ceil(err.retry_after_s)))},
    )


def requires(
    permission: Permission, *, wall_param: str = "wall_id", query_token: bool = False
) -> Callable[[Request], Awaitable[Principal]]:
    """Build a FastAPI dependency that authenticates and checks ``permission``.

    The authenticator is ``request.app.state.authenticator``. If the route has
    a ``wall_param`` path parameter, the check is made on that wall.

    Args:
        permission: Permission the route needs.
        wall_param: Name of the path parameter holding a wall id.
        query_token: Accept ``?access_token=`` too. Only for URLs a browser
            or player opens without headers (the MPEG-TS stream, snapshots);
            everywhere else a token in the URL would end up in logs and
            histories, so it is ignored.

    Returns:
        An async dependency returning the :class:`Principal`; it raises
        ``HTTPException`` 401 (with ``WWW-Authenticate: Bearer``), 403 or 429.
    """

    async def dependency(request: Request) -> Principal:
        authenticator = cast(Authenticator, request.app.state.authenticator)
        try:
            principal = await authenticator.authenticate(
                request.headers.get("authorization"),
                request.query_params.get("access_token") if query_token else None,
                client=request.client.host if request.client else None,
            )
            authorize(principal, permission, request.path_params.get(wall_param))
        except TooManyFailures as err:
            raise throttled(err) from err
        except Unauthorized as err:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail=err.message,
                headers={"WWW-Authenticate": "Bearer"},
            ) from err
        except AccessDenied as err:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=err.message) from err
        return principal

    return dependency

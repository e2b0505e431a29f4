"""Typed access to the runtime from request handlers."""

from __future__ import annotations

from typing import cast

from fastapi import Request
from starlette.requests import HTTPConnection

from devices.cameras.camera import Camera
from wall.platform.errors import NotFound
from wall.runtime import Runtime


def runtime_of(conn: HTTPConnection) -> Runtime:
    """The runtime attached to the app by its lifespan."""
    return cast(Runtime, conn.app.state.runtime)


def camera_or_404(request: Request, camera_id: str) -> Camera:
    """Look a camera up or raise :class:`NotFound`."""
    camera = runtime_of(request).fleet.cameras.get(camera_id)
    if camera is None:
        raise NotFound("camera_not_found", f"no camera with id {camera_id!r}")
    return camera

"""Health, metrics, identity and the event WebSocket."""

from __future__ import annotations

import json
import time
from typing import Annotated

from fastapi import (
    APIRouter,
    Depends,
    Request,
    Response,
    WebSocket,
)
from pydantic import Field, ValidationError

from wall.api.access import requires
from wall.api.deps import runtime_of
from wall.api.frames import read_text
from wall.api.schemas import WsPing, WsSubscribe
from wall.api.sockets import FeedClosed, accept_authorized, serve_duplex
from wall.api.walls import sees_wall
from wall.platform.auth import Permission, Principal, Role
from wall.platform.event_bus import Event
from wall.platform.health import HealthOut, Status, overall
from wall.platform.metrics import render
from wall.platform.wire import WireModel

router = APIRouter(tags=["system"])


@router.get(
    "/healthz",
    summary="Service and component health (open)",
    responses={503: {"model": HealthOut, "description": "The service is down."}},
)
async def healthz(request: Request, response: Response) -> HealthOut:
    """Overall status plus one entry per component; 503 when down."""
    runtime = runtime_of(request)
    components = runtime.components()
    status = overall(components)
    if status is Status.DOWN:
        response.status_code = 503
    return HealthOut(
        status=status,
        uptime_s=round(time.monotonic() - runtime.started_monotonic_s, 1),
        components={c.name: c.to_wire() for c in components},
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus text format; needs a token unless ``api.metrics_public``."""
    runtime = runtime_of(request)
    if not runtime.settings.api.metrics_public:
        await requires(Permission.VIEW_AUDIT)(request)
    return Response(
        render(runtime.registry.metric_families), media_type="text/plain; version=0.0.4"
    )


class MeOut(WireModel):
    """Who the token belongs to."""

    name: str
    role: Role
    wall_id: str | None = Field(description="The wall a display token is bound to.")


@router.get("/api/v1/me", summary="Who the token belongs to")
async def me(
    principal: Annotated[Principal, Depends(requires(Permission.VIEW_CAMERAS))],
) -> MeOut:
    """The caller's name, role and bound wall."""
    return MeOut(name=principal.name, role=principal.role, wall_id=principal.wall_id)


@router.websocket("/api/v1/ws")
async def events_ws(websocket: WebSocket) -> None:
    """Push events to a client; it chooses topics with a ``subscribe`` message.

    Authentication: ``?access_token=`` (browsers cannot set headers on a
    WebSocket). Each client has its own bounded queue (drop-oldest). A kiosk
    (a token bound to a wall) gets no event of another wall. Frames are read
    by :func:`~wall.api.frames.read_text`: binary, oversize or deeply nested
    ones close the socket; text that is not JSON gets an ``error`` message.
    """
    principal = await accept_authorized(websocket, Permission.VIEW_CAMERAS)
    if principal is None:
        return
    runtime = runtime_of(websocket)
    sub = runtime.bus.subscribe(frozenset())

    async def sender() -> None:
        while (event := await sub.get()) is not None:
            if _visible(principal, event):
                await websocket.send_json(event.to_json())
        raise FeedClosed  # the service is stopping: end the receiver too

    async def receiver() -> None:
        while True:
            raw = await read_text(websocket)
            try:
                data = json.loads(raw)
                if isinstance(data, dict) and data.get("type") == "ping":
                    WsPing.model_validate(data)
                    await websocket.send_json({"type": "pong"})
                    continue
                msg = WsSubscribe.model_validate(data)
            except (ValueError, ValidationError) as err:
                await websocket.send_json({"type": "error", "message": _short(err)})
                continue
            sub.topics = frozenset(msg.topics)
            await websocket.send_json(
                {"type": "subscribed", "topics": sorted(sub.topics)}
            )

    await serve_duplex(
        websocket, "ws", sender, receiver, lambda: runtime.bus.unsubscribe(sub)
    )


def _visible(principal: Principal, event: Event) -> bool:
    # an event is wall-scoped when its payload names a wall (``wall.state``);
    # alarms, camera health and detections are city-wide and reach kiosks too
    wall_id = event.data.get("wall_id")
    return not isinstance(wall_id, str) or sees_wall(principal, wall_id)


def _short(err: Exception) -> str:
    if isinstance(err, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}"
            for e in err.errors()
        )
    return f"invalid JSON: {err}"

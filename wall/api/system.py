"""Health, metrics, identity and the event WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    Request,
    Response,
    WebSocket,
    WebSocketDisconnect,
)
from pydantic import ValidationError

from wall.api.deps import runtime_of
from wall.api.schemas import WsPing, WsSubscribe
from wall.metrics import render
from wall.platform.auth import (
    Forbidden,
    Permission,
    Principal,
    Unauthorized,
    authorize,
    requires,
)
from wall.platform.health import overall

router = APIRouter(tags=["system"])


@router.get("/healthz", summary="Service and component health (open)")
async def healthz(request: Request) -> Response:
    """Overall status plus one entry per component; 503 when down."""
    runtime = runtime_of(request)
    components = runtime.components()
    status = overall(components)
    body = {
        "status": status.value,
        "uptime_s": round(time.monotonic() - runtime.started_monotonic_s, 1),
        "components": {
            c.name: {"status": c.status.value, **c.detail} for c in components
        },
    }
    return Response(
        json.dumps(body, ensure_ascii=False),
        media_type="application/json",
        status_code=503 if status.value == "down" else 200,
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus text format; needs a token unless ``api.metrics_public``."""
    runtime = runtime_of(request)
    if not runtime.settings.api.metrics_public:
        await requires(Permission.VIEW_AUDIT)(request)
    return Response(render(runtime), media_type="text/plain; version=0.0.4")


@router.get("/api/v1/me", summary="Who the token belongs to")
async def me(
    principal: Annotated[Principal, Depends(requires(Permission.VIEW_CAMERAS))],
) -> dict[str, Any]:
    """The caller's name, role and bound wall."""
    return {
        "name": principal.name,
        "role": principal.role.value,
        "wall_id": principal.wall_id,
    }


@router.websocket("/api/v1/ws")
async def events_ws(websocket: WebSocket) -> None:
    """Push events to a client; it chooses topics with a ``subscribe`` message.

    Authentication: ``?access_token=`` (browsers cannot set headers on a
    WebSocket). Each client has its own bounded queue (drop-oldest).
    """
    runtime = runtime_of(websocket)
    try:
        principal = await runtime.authenticator.authenticate(
            websocket.headers.get("authorization"),
            websocket.query_params.get("access_token"),
        )
        authorize(principal, Permission.VIEW_CAMERAS)
    except (Unauthorized, Forbidden) as err:
        # accept, then close with a code: a browser sees close codes, not the
        # HTTP status of a refused handshake
        await websocket.accept()
        code = 4401 if isinstance(err, Unauthorized) else 4403
        await websocket.close(code=code, reason=str(err)[:120])
        return
    await websocket.accept()
    sub = runtime.bus.subscribe(frozenset())

    async def sender() -> None:
        while (event := await sub.get()) is not None:
            await websocket.send_json(event.to_json())
        raise _BusClosed  # the service is stopping: end the receiver too

    async def receiver() -> None:
        while True:
            raw = await websocket.receive_text()
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

    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(sender(), name="ws sender")
            tg.create_task(receiver(), name="ws receiver")
    except* (WebSocketDisconnect, _BusClosed):
        pass
    finally:
        runtime.bus.unsubscribe(sub)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close()


class _BusClosed(Exception):
    """The event bus closed under a WebSocket client."""


def _short(err: Exception) -> str:
    if isinstance(err, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}"
            for e in err.errors()
        )
    return f"invalid JSON: {err}"

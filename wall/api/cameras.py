"""Camera endpoints: registry, health, snapshots and WebRTC live view."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, Response

from devices.cameras.camera import Camera
from devices.cameras.config import StreamRole
from devices.redaction import mask_url
from wall.api.deps import camera_or_404, runtime_of
from wall.api.schemas import WebRtcAnswer, WebRtcOffer
from wall.live.snapshots import SnapshotService
from wall.platform.auth import Permission, Principal, requires
from wall.platform.errors import NotFound
from wall.platform.health import stream_health_json

router = APIRouter(prefix="/api/v1", tags=["cameras"])

CanView = Annotated[Principal, Depends(requires(Permission.VIEW_CAMERAS))]
CanWatch = Annotated[Principal, Depends(requires(Permission.VIEW_LIVE))]


def camera_json(camera: Camera) -> dict[str, Any]:
    """The public form of a camera; stream URLs are masked."""
    c = camera.config
    return {
        "id": c.id,
        "name": c.name,
        "location": c.location.model_dump() if c.location else None,
        "heading_deg": c.heading_deg,
        "hfov_deg": c.hfov_deg,
        "range_m": c.range_m,
        "tags": list(c.tags),
        "grid_cell": c.grid_cell,
        "always_on": c.always_on,
        "buffer_s": c.buffer_s,
        "streams": {
            role.value: {
                "url": mask_url(stream.config.url),
                "transport": stream.config.transport.value,
                "health": stream_health_json(stream),
            }
            for role, stream in camera.streams.items()
        },
    }


@router.get("/cameras", summary="List cameras with their health")
async def list_cameras(request: Request, _: CanView) -> dict[str, Any]:
    """Every configured camera."""
    fleet = runtime_of(request).fleet
    return {"cameras": [camera_json(c) for c in fleet.cameras.values()]}


@router.get("/cameras/{camera_id}", summary="One camera")
async def get_camera(request: Request, camera_id: str, _: CanView) -> dict[str, Any]:
    """One camera by id."""
    return camera_json(camera_or_404(request, camera_id))


@router.get(
    "/cameras/{camera_id}/snapshot.jpg",
    summary="Latest picture as JPEG",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
async def snapshot(
    request: Request,
    camera_id: str,
    _: CanView,
    stream: Annotated[StreamRole, Query()] = StreamRole.SUB,
) -> Response:
    """Decode the newest picture (cached for a second)."""
    camera = camera_or_404(request, camera_id)
    service = cast(SnapshotService, request.app.state.snapshots)
    data = await service.jpeg(camera, stream)
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "no-store"}
    )


@router.post(
    "/cameras/{camera_id}/webrtc", summary="Start a live view (SDP offer → answer)"
)
async def webrtc_offer(
    request: Request, camera_id: str, offer: WebRtcOffer, _: CanWatch
) -> WebRtcAnswer:
    """Relay the camera's H.264 to the caller without transcoding."""
    camera = camera_or_404(request, camera_id)
    tile = None
    if offer.tile_width and offer.tile_height:
        tile = (offer.tile_width, offer.tile_height)
    answer = await runtime_of(request).relay.offer(
        camera, offer.sdp, offer.stream, tile
    )
    return WebRtcAnswer(
        sdp=answer.sdp,
        session_id=answer.session_id,
        camera_id=answer.camera_id,
        stream=answer.stream,
        codec=answer.codec,
    )


@router.delete("/webrtc/{session_id}", status_code=204, summary="End a live view")
async def webrtc_close(request: Request, session_id: str, _: CanWatch) -> Response:
    """Hang up a viewer session."""
    if not await runtime_of(request).relay.close_session(session_id):
        raise NotFound("session_not_found", f"no live session {session_id!r}")
    return Response(status_code=204)


@router.get("/webrtc", summary="Open live sessions")
async def webrtc_sessions(request: Request, _: CanView) -> dict[str, Any]:
    """Diagnostics of open viewer sessions."""
    return {"sessions": runtime_of(request).relay.sessions()}

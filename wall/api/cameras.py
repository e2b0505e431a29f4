"""Camera endpoints: registry, health, snapshots and WebRTC live view."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from devices.cameras.camera import Camera
from devices.cameras.config import StreamRole, Transport
from devices.redaction import mask_url
from wall.api.access import requires
from wall.api.deps import camera_or_404, runtime_of
from wall.api.schemas import WebRtcAnswer, WebRtcOffer
from wall.live.core.admission import Pool, SessionKind
from wall.live.sessions import Requester
from wall.platform.auth import Permission, Principal
from wall.platform.errors import NotFound
from wall.platform.health import StreamHealthOut, stream_health
from wall.platform.wire import WireModel

router = APIRouter(prefix="/api/v1", tags=["cameras"])

CanView = Annotated[Principal, Depends(requires(Permission.VIEW_CAMERAS))]
CanWatch = Annotated[Principal, Depends(requires(Permission.VIEW_LIVE))]
# an <img src> cannot send a header: snapshots take ?access_token= too
CanViewImage = Annotated[
    Principal, Depends(requires(Permission.VIEW_CAMERAS, query_token=True))
]


class LocationOut(WireModel):
    """A WGS-84 position, longitude first (as in GeoJSON)."""

    lon: float = Field(description="Longitude, degrees east.")
    lat: float = Field(description="Latitude, degrees north.")


class CameraStreamOut(WireModel):
    """One stream of a camera: its masked URL, transport and health."""

    url: str = Field(description="Source URL with any credentials masked.")
    transport: Transport
    health: StreamHealthOut


class CameraOut(WireModel):
    """The public form of a camera; stream URLs are masked."""

    id: str
    name: str
    location: LocationOut | None
    heading_deg: float | None = Field(description="Optical axis, degrees from north.")
    hfov_deg: float | None = Field(description="Horizontal field of view, degrees.")
    range_m: float | None = Field(description="Useful viewing range, metres.")
    tags: list[str]
    grid_cell: str | None
    always_on: bool
    buffer_s: float = Field(description="Length of the packet ring buffer, seconds.")
    streams: dict[StreamRole, CameraStreamOut]


class CameraListOut(WireModel):
    """Every configured camera."""

    cameras: list[CameraOut]


class LiveSessionOut(WireModel):
    """Diagnostics of one open live session (no secrets)."""

    session_id: str
    kind: SessionKind = Field(description="webrtc (a peer) or mpegts (an HTTP client).")
    owner: str = Field(description="The name of the token that opened it.")
    pool: Pool = Field(description="display sessions draw on the reserve.")
    camera_id: str | None = Field(None, description="Set for a camera's stream.")
    stream: str | None = Field(None, description="Set for a camera's stream.")
    source: str | None = Field(None, description="Set for a relayed source (panel).")
    state: str = Field(description="The connection state (new, connecting, connected).")
    packets_sent: int | None = Field(None, description="WebRTC only.")
    bytes_sent: int | None = Field(None, description="WebRTC only.")
    dropped_packets: int


class LiveSessionsOut(WireModel):
    """Open live sessions: the caller's own, or all for an admin."""

    sessions: list[LiveSessionOut]


def live_requester(request: Request, who: Principal) -> Requester:
    """Who asks for a live session: the caller and its client address."""
    return Requester(who, request.client.host if request.client else "?")


def camera_out(camera: Camera) -> CameraOut:
    """The public form of a camera; stream URLs are masked."""
    c = camera.config
    location = c.location
    return CameraOut(
        id=c.id,
        name=c.name,
        location=None
        if location is None
        else LocationOut(lon=location.lon, lat=location.lat),
        heading_deg=c.heading_deg,
        hfov_deg=c.hfov_deg,
        range_m=c.range_m,
        tags=list(c.tags),
        grid_cell=c.grid_cell,
        always_on=c.always_on,
        buffer_s=c.buffer_s,
        streams={
            role: CameraStreamOut(
                url=mask_url(stream.config.url),
                transport=stream.config.transport,
                health=stream_health(stream),
            )
            for role, stream in camera.streams.items()
        },
    )


@router.get("/cameras", summary="List cameras with their health")
async def list_cameras(request: Request, _: CanView) -> CameraListOut:
    """Every configured camera."""
    fleet = runtime_of(request).fleet
    return CameraListOut(cameras=[camera_out(c) for c in fleet.cameras.values()])


@router.get("/cameras/{camera_id}", summary="One camera")
async def get_camera(request: Request, camera_id: str, _: CanView) -> CameraOut:
    """One camera by id."""
    return camera_out(camera_or_404(request, camera_id))


@router.get(
    "/cameras/{camera_id}/snapshot.jpg",
    summary="Latest picture as JPEG",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
async def snapshot(
    request: Request,
    camera_id: str,
    _: CanViewImage,
    stream: Annotated[StreamRole, Query()] = StreamRole.SUB,
) -> Response:
    """Decode the newest picture (cached for a second)."""
    camera = camera_or_404(request, camera_id)
    service = runtime_of(request).snapshots
    data = await service.jpeg(camera, stream)
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "no-store"}
    )


@router.post(
    "/cameras/{camera_id}/webrtc", summary="Start a live view (SDP offer → answer)"
)
async def webrtc_offer(
    request: Request, camera_id: str, offer: WebRtcOffer, who: CanWatch
) -> WebRtcAnswer:
    """Relay the camera's H.264 to the caller without transcoding.

    The session counts toward the caller's token, its address and the
    service's limits (429 names the limit reached); one that does not
    connect is closed after ``webrtc.connect_timeout_s``.
    """
    camera = camera_or_404(request, camera_id)
    tile = None
    if offer.tile_width and offer.tile_height:
        tile = (offer.tile_width, offer.tile_height)
    answer = await runtime_of(request).relay.offer(
        camera, offer.sdp, offer.stream, tile, requester=live_requester(request, who)
    )
    return WebRtcAnswer(**asdict(answer))


@router.delete("/webrtc/{session_id}", status_code=204, summary="End a live view")
async def webrtc_close(request: Request, session_id: str, who: CanWatch) -> Response:
    """Hang up a live session: the caller's own, or any for an admin.

    Someone else's session is answered 404, as if it did not exist.
    """
    if not await runtime_of(request).relay.close_session(session_id, who):
        raise NotFound("session_not_found", f"no live session {session_id!r}")
    return Response(status_code=204)


@router.get("/webrtc", summary="Open live sessions", response_model_exclude_none=True)
async def webrtc_sessions(request: Request, who: CanView) -> LiveSessionsOut:
    """Diagnostics of the caller's open live sessions (every one for an admin)."""
    sessions = runtime_of(request).relay.sessions(visible_to=who)
    return LiveSessionsOut(
        sessions=[LiveSessionOut.model_validate(s) for s in sessions]
    )

"""Composed panel streams: one H.264 per panel over WebRTC or MPEG-TS over HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from wall.api.access import requires
from wall.api.deps import runtime_of
from wall.api.schemas import WebRtcOffer
from wall.platform.auth import Permission, Principal, authorize
from wall.platform.wire import WireModel
from wall.walls.panels.compositor import mpegts_chunks

router = APIRouter(prefix="/api/v1", tags=["walls"])


class PanelAnswer(WireModel):
    """The SDP answer for a composed panel stream."""

    sdp: str
    type: str = "answer"
    session_id: str
    source: str
    codec: str


CanWatch = Annotated[Principal, Depends(requires(Permission.VIEW_LIVE))]
# players (VLC, hardware decoders) open a URL without headers
CanWatchStream = Annotated[
    Principal, Depends(requires(Permission.VIEW_LIVE, query_token=True))
]


@router.post(
    "/walls/{wall_id}/panels/{index}/webrtc",
    summary="Watch one panel as one composed stream (SDP offer → answer)",
)
async def panel_webrtc(
    request: Request, wall_id: str, index: int, offer: WebRtcOffer, who: CanWatch
) -> PanelAnswer:
    """For weak display PCs: the panel's tiles composed server-side into one H.264."""
    authorize(who, Permission.VIEW_LIVE, wall_id=wall_id)
    runtime = runtime_of(request)
    panel = runtime.panels.panel(wall_id, index)
    answer = await runtime.relay.offer_source(
        panel, offer.sdp, panel.profile_level_id, panel.label
    )
    return PanelAnswer(
        sdp=answer.sdp,
        session_id=answer.session_id,
        source=answer.label,
        codec=answer.codec,
    )


@router.get(
    "/walls/{wall_id}/panels/{index}/stream.ts",
    summary="One panel as MPEG-TS over HTTP (hardware decoders, VLC)",
    response_class=StreamingResponse,
    responses={200: {"content": {"video/mp2t": {}}}},
)
async def panel_mpegts(
    request: Request, wall_id: str, index: int, who: CanWatchStream
) -> StreamingResponse:
    """The composed panel as an endless MPEG-TS stream; ``?access_token=`` works."""
    authorize(who, Permission.VIEW_LIVE, wall_id=wall_id)
    panel = runtime_of(request).panels.panel(wall_id, index)
    client = request.client.host if request.client else "?"
    return StreamingResponse(
        mpegts_chunks(panel, f"ts {client}"),
        media_type="video/mp2t",
        headers={"Cache-Control": "no-store"},
    )

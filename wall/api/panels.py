"""Composed panel streams: one H.264 per panel over WebRTC or MPEG-TS over HTTP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from wall.api.access import requires
from wall.api.cameras import live_requester
from wall.api.deps import runtime_of
from wall.api.schemas import WebRtcOffer
from wall.live.relay import LiveViewRelay
from wall.platform.auth import Permission, Principal, authorize
from wall.platform.wire import WireModel
from wall.walls.panels.compositor import mpegts_chunks

log = logging.getLogger(__name__)

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


class _Stalled(Exception):
    """The client accepted no bytes within the write timeout."""


class LiveStreamResponse(StreamingResponse):
    """An endless stream that is one live session of the relay.

    The session is ended however the response ends; a client that stops
    reading is dropped once a write waits longer than ``write_timeout_s``,
    which releases the panel's compositor (otherwise it would compose until
    the socket closed).
    """

    def __init__(
        self,
        chunks: AsyncGenerator[bytes, None],
        relay: LiveViewRelay,
        session_id: str,
        write_timeout_s: float,
        media_type: str,
    ) -> None:
        super().__init__(chunks, media_type=media_type)
        self.headers["Cache-Control"] = "no-store"
        self._chunks, self._relay, self._session_id = chunks, relay, session_id
        self._write_timeout_s = write_timeout_s

    async def stream_response(self, send: Send) -> None:
        """Send the stream, each write bounded by the write timeout."""

        async def bounded(message: Message) -> None:
            try:
                async with asyncio.timeout(self._write_timeout_s):
                    await send(message)
            except TimeoutError:
                raise _Stalled from None

        await super().stream_response(bounded)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the stream; end the session however it ends."""
        self._relay.stream_started(self._session_id)
        try:
            await super().__call__(scope, receive, send)
        except* _Stalled:
            log.info(
                "live session %s: client read nothing for %.0f s; dropped",
                self._session_id,
                self._write_timeout_s,
            )
        finally:
            await self._chunks.aclose()
            self._relay.end_stream(self._session_id)


@router.post(
    "/walls/{wall_id}/panels/{index}/webrtc",
    summary="Watch one panel as one composed stream (SDP offer → answer)",
)
async def panel_webrtc(
    request: Request, wall_id: str, index: int, offer: WebRtcOffer, who: CanWatch
) -> PanelAnswer:
    """For weak display PCs: the panel's tiles composed server-side into one H.264.

    A live session like a camera's: the same limits; a display token bound
    to this wall draws on the displays' reserve.
    """
    authorize(who, Permission.VIEW_LIVE, wall_id=wall_id)
    runtime = runtime_of(request)
    panel = runtime.panels.panel(wall_id, index)
    answer = await runtime.relay.offer_source(
        panel,
        offer.sdp,
        panel.profile_level_id,
        panel.label,
        requester=live_requester(request, who),
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
    """The composed panel as an endless MPEG-TS stream; ``?access_token=`` works.

    A live session (kind ``mpegts``) under the same limits as WebRTC; a
    client that reads nothing for ``webrtc.write_timeout_s`` is dropped.
    """
    authorize(who, Permission.VIEW_LIVE, wall_id=wall_id)
    runtime = runtime_of(request)
    panel = runtime.panels.panel(wall_id, index)
    requester = live_requester(request, who)
    session = runtime.relay.open_stream(panel, panel.label, requester)
    chunks = mpegts_chunks(panel, f"ts {requester.address}", session.subscriber)
    return LiveStreamResponse(
        chunks,
        runtime.relay,
        session.session_id,
        runtime.relay.settings.write_timeout_s,
        media_type="video/mp2t",
    )

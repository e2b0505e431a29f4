"""MPEG-TS clients are live sessions (issue 10): counted, and dropped when they stall.

A hardware decoder that stops reading used to keep its panel's compositor
running until the socket closed. Here a real TCP client with a tiny receive
buffer sends its request and never reads.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.live_peers import (
    bearer,
    client,
    crafted_offer,
    mint,
    site,
    until,
)
from tests.support.rtsp_server import RtspServer
from tests.support.service import RunningService, running_service

pytestmark = pytest.mark.rtsp

TS = "/api/v1/walls/main/panels/2/stream.ts"


@contextmanager
def stalled_client(svc: RunningService, token: str) -> Iterator[socket.socket]:
    """A client that asks for the stream and then never reads a byte."""
    url = urlsplit(svc.base_url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        sock.connect((url.hostname or "", url.port or 80))
        sock.sendall(
            f"GET {TS}?access_token={token} HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\n\r\n".encode()
        )
        yield sock
    finally:
        sock.close()


def mpegts_sessions(svc: RunningService) -> list[dict[str, object]]:
    return [s for s in svc.runtime.relay.sessions() if s["kind"] == "mpegts"]


@pytest.mark.timeout(90)  # the socket buffers take seconds to fill first
async def test_a_client_that_stops_reading_is_dropped_and_the_compositor_released(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    write_s = 1.0
    settings = site(tmp_path, rtsp_server, composite_fps=12, write_timeout_s=write_s)
    _, token = await mint(settings, "decoder")
    async with running_service(settings) as svc:
        panel = svc.runtime.panels.panel("main", 2)
        with stalled_client(svc, token):
            await until(lambda: len(mpegts_sessions(svc)) == 1, 10)
            assert panel.running and panel.subscriber_count == 1
            t0 = time.monotonic()
            # the buffers fill, then a write waits past the timeout
            await until(lambda: not mpegts_sessions(svc), 30)
            assert time.monotonic() - t0 >= write_s
            assert panel.subscriber_count == 0
            await until(lambda: not panel.running, panel.spec.linger_s + 10)
        # a client that reads is not dropped, however long it watches
        async with (
            client(svc) as http,
            http.stream("GET", TS, headers=bearer(token)) as r,
        ):
            assert r.status_code == 200
            got, t0 = 0, time.monotonic()
            async for chunk in r.aiter_bytes():
                got += len(chunk)
                if time.monotonic() - t0 > 4 * write_s:
                    break
            assert got > 0 and len(mpegts_sessions(svc)) == 1


async def test_mpegts_clients_count_toward_the_token_limit(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    settings = site(tmp_path, rtsp_server, max_per_token=2, connect_timeout_s=60)
    _, token = await mint(settings, "decoder")
    offer = await crafted_offer()
    async with running_service(settings) as svc, client(svc) as http:
        async with http.stream("GET", TS, headers=bearer(token)) as stream:
            assert stream.status_code == 200
            chunks = stream.aiter_bytes()  # kept: dropping it closes the response
            await anext(chunks)
            r = await http.post(
                "/api/v1/cameras/gate/webrtc",
                json={"sdp": offer},
                headers=bearer(token),
            )
            assert r.status_code == 200, r.text
            # the token now holds two sessions: one of each kind
            kinds = sorted(str(s["kind"]) for s in svc.runtime.relay.sessions())
            assert kinds == ["mpegts", "webrtc"]
            for refused in (
                await http.get(TS, headers=bearer(token)),
                await http.post(
                    "/api/v1/cameras/gate/webrtc",
                    json={"sdp": offer},
                    headers=bearer(token),
                ),
            ):
                assert refused.status_code == 429
                assert refused.json()["error"] == "too_many_sessions_for_token"
        # the client left: its session is gone, the WebRTC one stays
        await until(lambda: not mpegts_sessions(svc), 5)
        assert len(svc.runtime.relay.sessions()) == 1
        await asyncio.sleep(0)

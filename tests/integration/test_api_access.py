"""Access rules that need the running service (no cameras)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.service import running_service
from wall.config.settings import ApiSettings, Settings, StorageSettings
from wall.platform.auth import Role


async def test_metrics_can_be_closed_by_config(tmp_path: Path) -> None:
    settings = Settings(
        api=ApiSettings(metrics_public=False),
        storage=StorageSettings(data_dir=tmp_path),
    )
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        assert (await c.get("/metrics")).status_code == 401
        assert (
            await c.get("/metrics", headers=svc.auth(Role.VIEWER))
        ).status_code == 403
        r = await c.get("/metrics", headers=svc.auth(Role.ADMIN))
        assert r.status_code == 200 and "citywall_live_viewers" in r.text
        assert (await c.get("/healthz")).status_code == 200  # always open


async def test_websocket_needs_a_token_and_rejects_bad_messages(tmp_path: Path) -> None:
    settings = Settings(storage=StorageSettings(data_dir=tmp_path))
    async with running_service(settings) as svc:
        ws_base = svc.base_url.replace("http", "ws") + "/api/v1/ws"
        with pytest.raises(ConnectionClosed) as info:
            async with connect(ws_base) as ws:
                await ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 4401
        async with connect(f"{ws_base}?access_token={svc.tokens[Role.VIEWER]}") as ws:
            await ws.send('{"type": "subscribe", "topics": []}')
            assert "topics" in str(await ws.recv())
            await ws.send("not json")
            assert "invalid JSON" in str(await ws.recv())
            await ws.send('{"type": "ping"}')
            assert "pong" in str(await ws.recv())


async def test_api_errors_say_what_is_wrong(tmp_path: Path) -> None:
    settings = Settings(storage=StorageSettings(data_dir=tmp_path))
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        r = await c.post(
            "/api/v1/cameras/x/webrtc",
            json={"sdp": "v=0 something", "stream": "giant", "colour": 1},
            headers=svc.auth(Role.VIEWER),
        )
        assert r.status_code == 422
        body = r.json()
        assert body["error"] == "invalid_request"
        assert "stream" in body["message"] and "colour" in body["message"]
        r = await c.get("/api/v1/me", headers={"Authorization": "Basic abc"})
        assert r.status_code == 401 and "Bearer" in r.json()["message"]

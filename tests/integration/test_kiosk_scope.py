"""Kiosks see only their wall; only display-capable tokens report acks (issue 10).

A kiosk is a token bound to one wall (``Principal.wall_id``). Found: a kiosk
bound to ``duty`` received ``wall.state`` events of ``main`` and listed every
wall, and any viewer could attach as a display and report a revision the
wall never had.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.support.service import RunningService, running_service
from wall.config.settings import Settings, StorageSettings
from wall.platform.auth import Role
from wall.walls.settings import WallSettings


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        walls=(
            WallSettings(id="main", name="主屏", rows=3, cols=4),
            WallSettings(id="duty", name="值班席", rows=2, cols=2),
        ),
    )


async def _kiosk(svc: RunningService, wall_id: str) -> str:
    issued = await svc.runtime.store.create_token(
        f"{wall_id}-kiosk", Role.VIEWER, wall_id
    )
    return issued.secret


def _ws(svc: RunningService, path: str, token: str) -> str:
    sep = "&" if "?" in path else "?"
    return f"{svc.base_url.replace('http', 'ws')}{path}{sep}access_token={token}"


async def _wall_events(ws: ClientConnection, count: int) -> list[str]:
    """The walls of the next ``count`` ``wall.state`` events."""
    walls: list[str] = []
    async with asyncio.timeout(5):
        while len(walls) < count:
            msg = json.loads(await ws.recv())
            if msg.get("type") == "event" and msg["topic"] == "wall.state":
                walls.append(msg["data"]["wall_id"])
    return walls


async def _switch(
    c: httpx.AsyncClient, svc: RunningService, wall: str, lay: str
) -> None:
    r = await c.post(
        f"/api/v1/walls/{wall}/layout", json={"layout_id": lay}, headers=svc.auth()
    )
    assert r.status_code == 200, r.text


async def test_a_kiosk_gets_no_events_of_another_wall(tmp_path: Path) -> None:
    async with (
        running_service(_settings(tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        kiosk = await _kiosk(svc, "duty")
        async with (
            websockets.connect(_ws(svc, "/api/v1/ws", kiosk)) as bound,
            websockets.connect(_ws(svc, "/api/v1/ws", svc.tokens[Role.VIEWER])) as free,
        ):
            for ws in (bound, free):
                await ws.send('{"type": "subscribe", "topics": ["wall.*"]}')
                assert json.loads(await ws.recv())["type"] == "subscribed"
            await _switch(c, svc, "main", "grid_4x3")
            await _switch(c, svc, "duty", "grid_2x2")
            await _switch(c, svc, "main", "emergency_4x3")
            await _switch(c, svc, "duty", "mixed_2x2")
            # events arrive in order: main's would come before duty's
            assert await _wall_events(bound, 2) == ["duty", "duty"]
            assert await _wall_events(free, 4) == ["main", "duty", "main", "duty"]


async def test_a_kiosk_lists_and_reads_only_its_own_wall(tmp_path: Path) -> None:
    async with (
        running_service(_settings(tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        kiosk = {"Authorization": f"Bearer {await _kiosk(svc, 'duty')}"}
        r = await c.get("/api/v1/walls", headers=kiosk)
        assert r.status_code == 200
        assert [w["id"] for w in r.json()["walls"]] == ["duty"]
        r = await c.get("/api/v1/walls", headers=svc.auth(Role.VIEWER))
        assert sorted(w["id"] for w in r.json()["walls"]) == ["duty", "main"]
        assert (await c.get("/api/v1/walls/duty", headers=kiosk)).status_code == 200
        r = await c.get("/api/v1/walls/main", headers=kiosk)
        assert r.status_code == 403 and "bound to wall 'duty'" in r.json()["message"]
        offer = {"sdp": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n", "type": "offer"}
        r = await c.post(
            "/api/v1/walls/main/panels/0/webrtc", json=offer, headers=kiosk
        )
        assert r.status_code == 403
        r = await c.get("/api/v1/walls/main/panels/0/stream.ts", headers=kiosk)
        assert r.status_code == 403
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with websockets.connect(
                _ws(svc, "/api/v1/walls/main/ws", kiosk["Authorization"][7:])
            ) as ws:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def _ack(revision: float) -> str:
    return json.dumps(
        {"type": "applied", "revision": revision, "at": "2030-01-01T00:00:00.000Z"}
    )


async def _render_revision(ws: ClientConnection) -> int:
    async with asyncio.timeout(5):
        while (msg := json.loads(await ws.recv()))["type"] != "wall_state":
            pass
    return int(msg["revision"])


async def _error(ws: ClientConnection) -> str:
    async with asyncio.timeout(5):
        while (msg := json.loads(await ws.recv()))["type"] != "error":
            pass
    return str(msg["message"])


async def _applied(c: httpx.AsyncClient, svc: RunningService) -> dict[str, Any]:
    r = await c.get("/api/v1/walls/duty", headers=svc.auth())
    return {o["principal"]: o["applied_revision"] for o in r.json()["observed"]}


async def test_only_display_tokens_report_acks_and_never_ahead_of_the_wall(
    tmp_path: Path,
) -> None:
    async with (
        running_service(_settings(tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        feed = "/api/v1/walls/duty/ws?panel=1,1"
        kiosk = await _kiosk(svc, "duty")
        async with (
            websockets.connect(_ws(svc, feed, kiosk)) as display,
            websockets.connect(_ws(svc, feed, svc.tokens[Role.VIEWER])) as viewer,
            websockets.connect(_ws(svc, feed, svc.tokens[Role.ADMIN])) as admin,
        ):
            revision = await _render_revision(display)
            await _render_revision(viewer)
            await _render_revision(admin)
            # a viewer may watch the feed, but its acks are refused
            await viewer.send(_ack(revision))
            assert "only a display token bound to wall 'duty'" in await _error(viewer)
            await display.send(_ack(revision))
            await admin.send(_ack(revision))
            # acks above the wall's revision, or not integers, are refused
            for bad in (revision + 1, 1e40, 1e18, 2.0, -1):
                await display.send(_ack(bad))
                assert await _error(display), bad
            await admin.send(_ack(revision + 5))
            assert "ahead of wall 'duty'" in await _error(admin)
            # the errors above came after the good acks: those are recorded
            assert await _applied(c, svc) == {
                "duty-kiosk": revision,
                "test-viewer": None,
                "test-admin": revision,
            }

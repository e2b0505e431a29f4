"""Walls and layouts through the API: switching, pushes, audit, validation, roles."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.integration.camera_helpers import camera, four_cameras, wall_site
from tests.support.service import RunningService, running_service
from wall.config.settings import Settings
from wall.platform.auth import Role
from wall.walls.settings import WallSettings


def site(tmp_path: Path) -> Settings:
    main = WallSettings(
        id="main", name="主屏", rows=3, cols=4, default_layout="mixed_4x3"
    )
    duty = WallSettings(id="duty", name="值班席", rows=2, cols=2)
    return wall_site(tmp_path, four_cameras(), main, duty)


async def _get(c: httpx.AsyncClient, svc: RunningService, path: str) -> Any:
    r = await c.get(path, headers=svc.auth())
    assert r.status_code == 200, r.text
    return r.json()


async def test_switch_push_back_and_audit_survive_a_restart(tmp_path: Path) -> None:
    settings = site(tmp_path)
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        walls = (await _get(c, svc, "/api/v1/walls"))["walls"]
        assert {w["id"]: w["active_layout_id"] for w in walls} == {
            "main": "mixed_4x3",
            "duty": "mixed_2x2",
        }
        r = await c.post(
            "/api/v1/walls/main/layout",
            json={"layout_id": "flood_drought_4x3"},
            headers=svc.auth(Role.DUTY_OFFICER),
        )
        assert r.status_code == 200 and r.json()["revision"] == 2
        # viewers and operators may not switch (O1)
        for role in (Role.VIEWER, Role.OPERATOR, Role.GRID_WORKER):
            r = await c.post(
                "/api/v1/walls/main/layout",
                json={"layout_id": "grid_4x3"},
                headers=svc.auth(role),
            )
            assert r.status_code == 403, role
        state = await _get(c, svc, "/api/v1/walls/main")
        cam_tiles = [
            t
            for p in state["panels"]
            for t in p["tiles"]
            if t["content"]["kind"] == "camera"
        ]
        tile_id = cam_tiles[0]["id"]
        before = cam_tiles[0]["content"]["camera_id"]
        other = "demo-4" if before != "demo-4" else "demo-1"
        r = await c.put(
            f"/api/v1/walls/main/tiles/{tile_id}",
            json={"content": {"kind": "camera", "camera_id": other}},
            headers=svc.auth(Role.OPERATOR),
        )
        assert r.status_code == 200, r.text
        state = await _get(c, svc, "/api/v1/walls/main")
        pushed = [t for p in state["panels"] for t in p["tiles"] if t["id"] == tile_id]
        assert pushed and all(
            t["content"]["camera_id"] == other and t["overridden"] for t in pushed
        )
        r = await c.post(
            f"/api/v1/walls/main/tiles/{tile_id}/back", headers=svc.auth(Role.OPERATOR)
        )
        assert r.json()["outcome"] == "tile_restored"
        r = await c.put(
            "/api/v1/walls/main/tiles/no-such-tile",
            json={"content": {"kind": "empty"}},
            headers=svc.auth(),
        )
        assert r.status_code == 404
        r = await c.post(
            "/api/v1/walls/main/layout",
            json={"layout_id": "grid_2x2"},
            headers=svc.auth(),
        )
        assert r.status_code == 409 and r.json()["error"] == "layout_does_not_fit"
        audit = (await _get(c, svc, "/api/v1/audit"))["entries"]
        actions = [(e["action"], e["actor"]) for e in audit]
        assert ("wall.activate_layout", "test-duty_officer") in actions
        assert ("wall.push_tile", "test-operator") in actions
        assert (
            await c.get("/api/v1/audit", headers=svc.auth(Role.VIEWER))
        ).status_code == 403
    # desired state and audit survive a restart (nothing accepted is lost)
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        state = await _get(c, svc, "/api/v1/walls/main")
        assert state["active_layout_id"] == "flood_drought_4x3"
        assert state["revision"] >= 4
        assert len((await _get(c, svc, "/api/v1/audit"))["entries"]) >= 5


async def test_invalid_layouts_are_refused_with_every_error_and_the_active_one_stays(
    tmp_path: Path,
) -> None:
    async with (
        running_service(site(tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        good = await _get(c, svc, "/api/v1/layouts/emergency_4x3")
        bad = copy.deepcopy(good)
        bad["id"] = "broken"
        bad["tiles"][0]["rect"] = {
            "x": 7000,
            "y": 0,
            "w": 2000,
            "h": 500,
        }  # leaves the wall
        bad["tiles"][1]["id"] = bad["tiles"][2]["id"]  # duplicate tile id
        cam = next(t for t in bad["tiles"] if t["content"]["kind"] == "camera")
        cam["content"]["camera_id"] = "no-such-camera"
        tour = {
            "id": "tourx",
            "rect": {"x": 0, "y": 3000, "w": 100, "h": 100},
            "z": 9,
            "content": {
                "kind": "tour",
                "items": [{"camera_id": "demo-1", "dwell_s": 1}],
            },
        }
        bad["tiles"].append(tour)
        r = await c.post("/api/v1/layouts", json=bad, headers=svc.auth())
        assert r.status_code == 422, r.text
        body = r.json()
        codes = {d["code"] for d in body["details"] if d["severity"] == "error"}
        assert {
            "rect_outside_canvas",
            "duplicate_tile_id",
            "unknown_camera",
            "dwell_too_short",
        } <= codes
        assert "broken" not in [
            x["id"] for x in (await _get(c, svc, "/api/v1/layouts"))["layouts"]
        ]
        # unknown content kind (W8) and wrong version
        weird = copy.deepcopy(good)
        weird["id"] = "weird"
        weird["tiles"][0]["content"] = {"kind": "hologram"}
        r = await c.post("/api/v1/layouts", json=weird, headers=svc.auth())
        assert r.status_code == 422 and "hologram" in r.text
        old = copy.deepcopy(good)
        old["id"], old["version"] = "old", 0
        r = await c.post("/api/v1/layouts", json=old, headers=svc.auth())
        assert r.status_code == 422 and "version" in r.text
        # only admins edit layouts
        new = copy.deepcopy(good)
        new["id"], new["name"] = "my_layout", "我的预案"
        r = await c.post(
            "/api/v1/layouts", json=new, headers=svc.auth(Role.DUTY_OFFICER)
        )
        assert r.status_code == 403
        r = await c.post("/api/v1/layouts", json=new, headers=svc.auth())
        assert r.status_code == 201
        r = await c.post(
            "/api/v1/walls/main/layout",
            json={"layout_id": "my_layout"},
            headers=svc.auth(),
        )
        assert r.status_code == 200
        r = await c.delete("/api/v1/layouts/my_layout", headers=svc.auth())
        assert r.status_code == 409 and r.json()["error"] == "layout_in_use"
        r = await c.post(
            "/api/v1/walls/main/layout",
            json={"layout_id": "grid_4x3"},
            headers=svc.auth(),
        )
        assert (
            await c.delete("/api/v1/layouts/my_layout", headers=svc.auth())
        ).status_code == 204
        # validation endpoint reports warnings too
        warn = copy.deepcopy(good)
        warn["id"] = "warn"
        warn["tiles"].append(
            {
                **tour,
                "content": {
                    "kind": "tour",
                    "items": [{"camera_id": "demo-1", "dwell_s": 4}],
                },
                "rect": {"x": 0, "y": 0, "w": 10, "h": 10},
            }
        )
        r = await c.post("/api/v1/layouts/validate", json=warn, headers=svc.auth())
        assert any(i["code"] == "dwell_unusual" for i in r.json()["issues"])


@pytest.mark.parametrize(
    "content",
    [
        {"kind": "camera"},  # no camera_id
        {"kind": "camera", "camera_id": "demo-1", "stream": "huge"},
        {"kind": "text", "text": "x", "colour": "red"},
    ],
)
async def test_bad_tile_pushes_say_what_is_wrong(
    tmp_path: Path, content: dict[str, Any]
) -> None:
    async with (
        running_service(site(tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        r = await c.put(
            "/api/v1/walls/duty/tiles/x", json={"content": content}, headers=svc.auth()
        )
        assert r.status_code == 422
        assert r.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("viewport", "expected"),
    [
        ("1920x1080", "main"),  # a full-size panel: the 960x540 tile is main
        ("640x360", "sub"),  # drawn at a third of that: sub covers it
        (None, "main"),  # no size given: assume a full-size panel
    ],
)
async def test_a_display_gets_the_streams_for_the_size_it_draws_at(
    tmp_path: Path, viewport: str | None, expected: str
) -> None:
    layout = {
        "version": 1, "id": "quad", "name": "quad", "domain": "mixed",
        "for_wall": {"rows": 2, "cols": 2, "panel_w_px": 1920, "panel_h_px": 1080},
        "tiles": [{"id": "q", "rect": {"x": 0, "y": 0, "w": 960, "h": 540},
                   "content": {"kind": "camera", "camera_id": "demo-1"}}],
    }  # fmt: skip
    with_sub = camera("demo-1", "rtsp://127.0.0.1:9/main", "rtsp://127.0.0.1:9/sub")
    settings = site(tmp_path).model_copy(update={"cameras": (with_sub,)})
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        r = await c.post("/api/v1/layouts", json=layout, headers=svc.auth())
        assert r.status_code == 201, r.text
        r = await c.post(
            "/api/v1/walls/duty/layout", json={"layout_id": "quad"}, headers=svc.auth()
        )
        assert r.status_code == 200, r.text
        query = f"panel=0,0&access_token={svc.tokens[Role.VIEWER]}"
        if viewport:
            query += f"&viewport={viewport}"
        url = svc.base_url.replace("http", "ws") + f"/api/v1/walls/duty/ws?{query}"
        async with websockets.connect(url) as ws:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
    (tile,) = msg["panels"][0]["tiles"]
    assert tile["content"]["stream_role"] == expected


async def test_a_malformed_viewport_closes_the_feed_with_a_reason(
    tmp_path: Path,
) -> None:
    async with running_service(site(tmp_path)) as svc:
        query = f"viewport=wide&access_token={svc.tokens[Role.VIEWER]}"
        url = svc.base_url.replace("http", "ws") + f"/api/v1/walls/duty/ws?{query}"
        async with websockets.connect(url) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4404
    assert "viewport must be WIDTHxHEIGHT" in closed.value.rcvd.reason


@pytest.mark.parametrize(
    ("panel", "reason"),
    [
        ("0,9", "has 3 rows and 4 columns: no panel 0,9"),  # col ≥ cols (index 9 < 12)
        ("1,-1", "panel must be ROW,COL"),  # was read as panel 3
        ("3,0", "no panel 3,0"),
        ("12", "has no panel 12"),
        ("-1", "panel must be ROW,COL"),
        ("1,2,3", "panel must be ROW,COL"),
        ("a,b", "panel must be ROW,COL"),
        ("9" * 40, "panel must be ROW,COL"),
    ],
)
async def test_a_panel_outside_the_wall_closes_the_feed_with_a_reason(
    tmp_path: Path, panel: str, reason: str
) -> None:
    async with running_service(site(tmp_path)) as svc:
        query = f"panel={panel}&access_token={svc.tokens[Role.VIEWER]}"
        url = svc.base_url.replace("http", "ws") + f"/api/v1/walls/main/ws?{query}"
        async with websockets.connect(url) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, reason in closed.value.rcvd.reason) == (4404, True)


async def test_the_last_panel_of_the_wall_is_accepted(tmp_path: Path) -> None:
    async with running_service(site(tmp_path)) as svc:
        query = f"panel=2,3&access_token={svc.tokens[Role.VIEWER]}"
        url = svc.base_url.replace("http", "ws") + f"/api/v1/walls/main/ws?{query}"
        async with websockets.connect(url) as ws:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert (msg["type"], msg["panel"]) == ("wall_state", 11)

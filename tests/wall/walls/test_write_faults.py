"""No write is half-done: a wall switch the store cannot take changes nothing.

The fault is real: another connection holds the database's write lock (a
backup, say) on the running service's file. The switch waits its busy
timeout and answers 503 with a JSON error; meanwhile authenticated reads
carry on, ``/healthz`` calls the store degraded, and afterwards the API, the
database and the audit log all hold the old revision while the displays got
nothing of the refused one.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from tests.integration.camera_helpers import four_cameras, wall_site
from tests.support.service import RunningService, running_service
from tests.wall.platform.store_lock import locked_by_backup, raw_rows
from wall.config.settings import Settings
from wall.platform.auth import Role
from wall.platform.store.sqlite.health import WRITE_WAIT_BOUND_S
from wall.walls.settings import WallSettings


def site(tmp_path: Path) -> Settings:
    main = WallSettings(
        id="main", name="主屏", rows=3, cols=4, default_layout="mixed_4x3"
    )
    return wall_site(tmp_path, four_cameras(), main)


async def _get(c: httpx.AsyncClient, svc: RunningService, path: str) -> Any:
    r = await c.get(path, headers=svc.auth())
    assert r.status_code == 200, r.text
    return r.json()


def stored_revision(db: Path) -> int:
    [(value,)] = raw_rows(db, "SELECT value FROM kv WHERE key = 'wall_state:main'")
    revision: int = json.loads(str(value))["revision"]
    return revision


def audited_revisions(db: Path) -> list[int]:
    rows = raw_rows(
        db,
        "SELECT json_extract(detail, '$.revision') FROM audit_log"
        " WHERE target = 'wall:main' ORDER BY id",
    )
    return [int(str(r[0])) for r in rows]


async def revisions_received(ws: websockets.ClientConnection, for_s: float) -> set[int]:
    seen: set[int] = set()
    try:
        async with asyncio.timeout(for_s):
            while True:
                message = json.loads(await ws.recv())
                if message.get("type") == "wall_state":
                    seen.add(int(message["revision"]))
    except TimeoutError:
        return seen


async def switch_while_locked(
    c: httpx.AsyncClient, svc: RunningService, db: Path
) -> tuple[httpx.Response, list[str], float, float, dict[str, Any]]:
    """Switch with the lock held; watch health and time one read meanwhile."""
    health: list[str] = []
    with locked_by_backup(db):
        started = time.monotonic()
        switch = asyncio.create_task(
            c.post(
                "/api/v1/walls/main/layout",
                json={"layout_id": "flood_drought_4x3"},
                headers=svc.auth(Role.DUTY_OFFICER),
            )
        )
        await asyncio.sleep(WRITE_WAIT_BOUND_S + 0.2)
        read_started = time.monotonic()
        during = await _get(c, svc, "/api/v1/walls/main")
        read_s = time.monotonic() - read_started
        while not switch.done():
            store = (await c.get("/healthz")).json()["components"]["store"]
            health.append(f"{store['status']}:{store.get('reason', '')}")
            await asyncio.sleep(0.1)
        response = await switch
        write_s = time.monotonic() - started
        store = (await c.get("/healthz")).json()["components"]["store"]
        health.append(f"{store['status']}:{store.get('reason', '')}")
    return response, health, read_s, write_s, during


async def test_a_switch_the_store_refuses_changes_nothing_anywhere(
    tmp_path: Path,
) -> None:
    settings = site(tmp_path)
    db = settings.storage.sqlite_path
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url, timeout=30) as c,
    ):
        before = await _get(c, svc, "/api/v1/walls/main")
        rev = before["revision"]
        # both tokens have been used once, so their next use writes nothing
        r = await c.get("/api/v1/walls/main", headers=svc.auth(Role.DUTY_OFFICER))
        assert r.status_code == 200
        assert (await c.get("/healthz")).json()["components"]["store"]["status"] == "ok"
        query = f"access_token={svc.tokens[Role.ADMIN]}"
        url = svc.base_url.replace("http", "ws") + f"/api/v1/walls/main/ws?{query}"
        async with websockets.connect(url) as ws:
            assert await revisions_received(ws, 1.0) == {rev}

            r, health, read_s, write_s, during = await switch_while_locked(c, svc, db)

            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/json")
            assert r.json()["error"] == "store_unavailable"
            assert "retry" in r.json()["message"]
            assert during["revision"] == rev  # the state waited for the commit
            assert read_s < write_s / 5, (read_s, write_s)  # reads did not queue
            assert any(h.startswith("degraded:a write has waited") for h in health)
            assert health[-1].startswith("degraded:"), health  # failed or waiting
            # API, database and audit log agree on the old revision
            assert (await _get(c, svc, "/api/v1/walls/main"))["revision"] == rev
            assert stored_revision(db) == rev
            assert audited_revisions(db)[-1] == rev
            assert await revisions_received(ws, 0.5) <= {rev}  # displays: nothing new
            store = (await c.get("/healthz")).json()["components"]["store"]
            assert store["write_failures"] >= 1

            # the lock is gone: the same switch goes through everywhere
            r = await c.post(
                "/api/v1/walls/main/layout",
                json={"layout_id": "flood_drought_4x3"},
                headers=svc.auth(Role.DUTY_OFFICER),
            )
            assert r.status_code == 200, r.text
            assert r.json()["revision"] == rev + 1
            assert rev + 1 in await revisions_received(ws, 2.0)
        assert stored_revision(db) == rev + 1
        assert audited_revisions(db)[-1] == rev + 1
        assert (await c.get("/healthz")).json()["components"]["store"]["status"] == "ok"

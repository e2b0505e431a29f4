"""Alarms end to end: service, store, audit, HTTP API, WebSocket (A5-A7, O1, O2)."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from layouts.schema import Domain
from tests.support.browser import chromium
from tests.support.clocks import SettableClock
from tests.support.service import RunningService, running_service
from wall.alarms.core import AlarmQuery, AlarmStatus, EventKind, Originator, Severity
from wall.alarms.service import AlarmForbidden, AlarmService
from wall.alarms.store import SqliteAlarmStore
from wall.config.settings import Settings, StorageSettings
from wall.platform.auth import Role
from wall.platform.errors import Conflict, NotFound
from wall.platform.event_bus import BusSubscription, EventBus
from wall.platform.store.sqlite import SqliteStore
from wall.platform.wire import wire_time
from wall.walls.settings import WallSettings

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
T0 = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)
BRIDGE = Originator("camera", "nankan-bridge/zone:riverbank")


def drain(sub: BusSubscription) -> list[tuple[str, str]]:
    """(topic, status) of every event queued so far."""
    out: list[tuple[str, str]] = []
    while sub._queue:
        event = sub._queue.popleft()
        out.append((event.topic, event.data["status"]))
    return out


async def test_service_keeps_one_alarm_per_key_audits_and_survives_restart(
    tmp_path: Path,
) -> None:
    db, clock, bus = tmp_path / "wall.sqlite", SettableClock(T0), EventBus()
    events = bus.subscribe(frozenset({"alarm.*"}))
    async with (
        SqliteStore(db, now=clock) as store,
        AlarmService(SqliteAlarmStore(store), bus, now=clock) as alarms,
    ):
        first = await alarms.raise_("crowding", BRIDGE, Severity.MAJOR, {"persons": 31})
        clock.advance(5)
        again = await alarms.raise_(
            "crowding", BRIDGE, Severity.CRITICAL, {"persons": 44}
        )
        assert again.id == first.id and again.count == 1
        clock.advance(5)
        gone = await alarms.clear("crowding", BRIDGE, cause="density below 3 p/m²")
        assert gone is not None and gone.latched  # A5: critical, never acked
        assert await alarms.clear("crowding", BRIDGE) is None  # nothing active
        assert drain(events) == [
            ("alarm.raised", "active_unack"),
            ("alarm.updated", "active_unack"),
            ("alarm.cleared", "cleared_unack"),
        ]
    # restart: the latched alarm is still shown, and a re-raise inside the
    # reactivation threshold reactivates it (A6) rather than creating another
    async with (
        SqliteStore(db, now=clock) as store,
        AlarmService(SqliteAlarmStore(store), bus, now=clock) as alarms,
    ):
        [shown] = alarms.active()
        assert (shown.id, shown.latched, shown.status) == (
            first.id,
            True,
            AlarmStatus.CLEARED_UNACK,
        )
        clock.advance(30)
        back = await alarms.raise_("crowding", BRIDGE, Severity.CRITICAL)
        assert (back.id, back.count, back.latched) == (first.id, 2, False)
        acked = await alarms.acknowledge(first.id, "duty-1", note="on CCTV")
        assert acked.status is AlarmStatus.ACTIVE_ACK
        with pytest.raises(Conflict, match="already acknowledged"):
            await alarms.acknowledge(first.id, "duty-2")
        with pytest.raises(AlarmForbidden, match="only an admin"):
            await alarms.acknowledge(first.id, "duty-1", forced=True)
        closed = await alarms.acknowledge(
            first.id, "admin-1", forced=True, privileged=True
        )
        assert closed.status is AlarmStatus.CLEARED_ACK and alarms.active() == []
        with pytest.raises(NotFound, match="no alarm"):
            await alarms.get("nope")
        history = await alarms.history(first.id)
        assert [e.kind for e in history] == [
            EventKind.CREATED,
            EventKind.SEVERITY_CHANGED,
            EventKind.CLEARED,
            EventKind.REACTIVATED,
            EventKind.ACKNOWLEDGED,
            EventKind.FORCED_ACK,
        ]
        assert drain(events)[-3:] == [
            ("alarm.acknowledged", "active_ack"),
            ("alarm.cleared", "cleared_ack"),
            ("alarm.acknowledged", "cleared_ack"),
        ]
        audit = [(e.actor, e.action, e.cause) for e in await store.list_audit()]
        assert audit == [  # O2: every ack, clear and forced ack, newest first
            ("admin-1", "alarm.forced_ack", f"crowding@{BRIDGE}"),
            ("duty-1", "alarm.acknowledge", "on CCTV"),
            ("system", "alarm.clear", "density below 3 p/m²"),
        ]
        clock.advance(61)  # beyond the threshold: a new alarm
        fresh = await alarms.raise_("crowding", BRIDGE, Severity.MINOR)
        assert fresh.id != first.id and fresh.count == 0


async def test_closed_alarms_in_memory_are_bounded_but_the_store_keeps_all(
    tmp_path: Path,
) -> None:
    ids = (f"alarm-{i}" for i in itertools.count())
    async with (
        SqliteStore(tmp_path / "wall.sqlite") as store,
        AlarmService(
            SqliteAlarmStore(store),
            EventBus(),
            max_closed_in_memory=3,
            new_id=lambda: next(ids),
        ) as alarms,
    ):
        for i in range(8):
            cam = Originator("camera", f"cam-{i}")
            alarm = await alarms.raise_("intrusion", cam, Severity.WARNING)
            await alarms.acknowledge(alarm.id, "duty-1")
            await alarms.clear("intrusion", cam)
        live = await alarms.raise_("intrusion", "camera:gate/zone:a", Severity.MAJOR)
        assert live.originator == Originator("camera", "gate/zone:a")  # text accepted
        assert alarms._cache.closed_count == 3 and len(alarms._cache.open) == 1
        assert len(await alarms.list(AlarmQuery.ALL, 100)) == 9
        assert len(await alarms.list(AlarmQuery.CLEARED_ACK, 100)) == 8
        evicted = await alarms.get("alarm-0")  # read back from the store
        assert evicted.status is AlarmStatus.CLEARED_ACK
        assert [e.kind for e in await alarms.history("alarm-0")] == [
            EventKind.CREATED,
            EventKind.ACKNOWLEDGED,
            EventKind.CLEARED,
        ]
        # an evicted alarm's key still finds it for reactivation (A6)
        back = await alarms.raise_(
            "intrusion", Originator("camera", "cam-0"), Severity.WARNING
        )
        assert back.id == "alarm-0" and back.count == 1


async def _ack(
    c: httpx.AsyncClient, svc: RunningService, alarm_id: str, role: Role, **body: Any
) -> httpx.Response:
    return await c.post(
        f"/api/v1/alarms/{alarm_id}/ack", json=body, headers=svc.auth(role)
    )


async def test_api_lists_acks_and_forces_by_role_and_keeps_alarms_over_restart(
    tmp_path: Path,
) -> None:
    settings = Settings(storage=StorageSettings(data_dir=tmp_path))
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        alarms = svc.runtime.alarms
        crowd = await alarms.raise_(
            "crowding", BRIDGE, Severity.MAJOR, {"persons": 31, "zone": "riverbank"}
        )
        r = await c.get("/api/v1/alarms", headers=svc.auth(Role.VIEWER))
        assert r.status_code == 200, r.text
        [listed] = r.json()["alarms"]
        assert listed["id"] == crowd.id and listed["status"] == "active_unack"
        assert listed["originator"] == {"kind": "camera", "id": BRIDGE.id}
        assert listed["details"] == {"persons": 31, "zone": "riverbank"}
        assert listed["started_at"] == wire_time(crowd.started_at)  # RFC 3339, Z
        # O1: viewers and operators may not ack; duty officers may, not forced
        for role in (Role.VIEWER, Role.OPERATOR, Role.GRID_WORKER):
            assert (await _ack(c, svc, crowd.id, role)).status_code == 403, role
        r = await _ack(c, svc, crowd.id, Role.DUTY_OFFICER, forced=True)
        assert r.status_code == 403 and r.json()["error"] == "forced_ack_needs_admin"
        assert "admin" in r.json()["message"]
        r = await _ack(c, svc, crowd.id, Role.DUTY_OFFICER, note="seen on CCTV")
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["acked_by"]) == (
            "active_ack",
            "test-duty_officer",
        )
        r = await _ack(c, svc, crowd.id, Role.DUTY_OFFICER)
        assert r.status_code == 409 and r.json()["error"] == "already_acknowledged"
        r = await _ack(c, svc, crowd.id, Role.ADMIN, forced=True)
        assert r.status_code == 200 and r.json()["status"] == "cleared_ack"
        assert (await _ack(c, svc, "nope", Role.ADMIN)).status_code == 404
        r = await _ack(c, svc, crowd.id, Role.ADMIN, forced="yes please")
        assert r.status_code == 422
        r = await c.get(f"/api/v1/alarms/{crowd.id}", headers=svc.auth(Role.VIEWER))
        history = r.json()["history"]
        assert [(h["kind"], h["actor"]) for h in history] == [
            ("created", "system"),
            ("acknowledged", "test-duty_officer"),
            ("forced_ack", "test-admin"),
        ]
        assert history[1]["from"] == "active_unack" and history[1]["to"] == "active_ack"
        empty = await c.get("/api/v1/alarms", headers=svc.auth(Role.VIEWER))
        assert empty.json()["alarms"] == []
        r = await c.get("/api/v1/alarms?status=bogus", headers=svc.auth())
        assert r.status_code == 422 and "status" in r.json()["message"]
        audit = (await c.get("/api/v1/audit", headers=svc.auth())).json()["entries"]
        actions = {(e["action"], e["actor"]) for e in audit}
        assert {
            ("alarm.acknowledge", "test-duty_officer"),
            ("alarm.forced_ack", "test-admin"),
        } <= actions
        # A5: a critical alarm cleared unacknowledged stays listed, latched
        flood = Originator("station", "bz-h-001")
        latched = await alarms.raise_("water_level", flood, Severity.CRITICAL)
        await alarms.clear("water_level", flood)
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        r = await c.get("/api/v1/alarms", headers=svc.auth(Role.VIEWER))
        [shown] = r.json()["alarms"]
        assert (shown["id"], shown["latched"], shown["status"]) == (
            latched.id,
            True,
            "cleared_unack",
        )
        r = await c.get("/api/v1/alarms?status=all&limit=10", headers=svc.auth())
        assert {a["id"] for a in r.json()["alarms"]} == {crowd.id, latched.id}
        r = await c.post(  # no body: a plain acknowledgement
            f"/api/v1/alarms/{latched.id}/ack", headers=svc.auth(Role.DUTY_OFFICER)
        )
        assert r.status_code == 200 and r.json()["latched"] is False
        r = await c.get("/api/v1/alarms", headers=svc.auth(Role.VIEWER))
        assert r.json()["alarms"] == []


async def test_websocket_receives_alarm_events(tmp_path: Path) -> None:
    settings = Settings(storage=StorageSettings(data_dir=tmp_path))
    async with running_service(settings) as svc:
        url = (
            svc.base_url.replace("http", "ws")
            + f"/api/v1/ws?access_token={svc.tokens[Role.VIEWER]}"
        )
        async with connect(url) as ws:
            await ws.send(json.dumps({"type": "subscribe", "topics": ["alarm.*"]}))
            assert json.loads(await ws.recv())["type"] == "subscribed"
            alarms = svc.runtime.alarms
            raised = await alarms.raise_("intrusion", BRIDGE, Severity.MAJOR)
            await alarms.acknowledge(raised.id, "duty-1")
            received: list[dict[str, Any]] = []
            async with asyncio.timeout(5):
                while len(received) < 2:
                    received.append(json.loads(await ws.recv()))
        assert [(m["topic"], m["data"]["status"]) for m in received] == [
            ("alarm.raised", "active_unack"),
            ("alarm.acknowledged", "active_ack"),
        ]
        assert received[0]["data"]["id"] == raised.id
        assert received[0]["data"]["originator"]["kind"] == "camera"
        assert received[0]["data"]["started_at"] == wire_time(raised.started_at)


@pytest.mark.browser
async def test_wall_alarm_tile_and_console_ack_follow_events_live(
    tmp_path: Path,
) -> None:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path),
        walls=(
            WallSettings(
                id="duty", name="值班席", rows=2, cols=2, default_layout="emergency_2x2"
            ),
        ),
    )
    async with (
        running_service(settings) as svc,
        chromium() as browser,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        alarms = svc.runtime.alarms
        crowd = await alarms.raise_(
            "crowding", BRIDGE, Severity.MAJOR, domain=Domain.EMERGENCY
        )
        # below the tile's min_severity (major): never shown there
        await alarms.raise_("loitering", BRIDGE, Severity.WARNING)
        wall = await browser.new_page(viewport={"width": 1280, "height": 720})
        errors: list[str] = []
        wall.on("pageerror", lambda e: errors.append(str(e)))
        await wall.goto(f"{svc.base_url}/wall/duty#token={svc.tokens[Role.VIEWER]}")
        tile = wall.locator('.tile[data-kind="alarm_list"] .alarm-list')
        await wall.wait_for_selector('.alarm-list[data-count="1"]', timeout=5000)
        flood = Originator("station", "bz-h-001")
        fire = await alarms.raise_("water_level", flood, Severity.CRITICAL)
        await wall.wait_for_selector('.alarm-list[data-count="2"]', timeout=5000)
        rows = await tile.evaluate(
            "el => [...el.children].map(r => [r.dataset.alarm, r.dataset.status])"
        )
        assert rows == [[fire.id, "active_unack"], [crowd.id, "active_unack"]]
        console = await browser.new_page(viewport={"width": 1400, "height": 900})
        console.on("pageerror", lambda e: errors.append(str(e)))
        await console.goto(
            f"{svc.base_url}/console#token={svc.tokens[Role.DUTY_OFFICER]}"
        )
        await console.click(f'#alarms li[data-alarm="{fire.id}"] button.ack')
        await wall.wait_for_selector(
            f'.alarm-list [data-alarm="{fire.id}"][data-status="active_ack"]',
            timeout=5000,
        )
        r = await c.get(f"/api/v1/alarms/{fire.id}", headers=svc.auth())
        assert r.json()["acked_by"] == "test-duty_officer"
        assert (
            await console.locator(f'#alarms li[data-alarm="{fire.id}"] .ack').count()
            == 0
        )
        ARTIFACTS.mkdir(exist_ok=True)
        await wall.screenshot(path=str(ARTIFACTS / "wall_alarm_list.png"))
        await console.screenshot(path=str(ARTIFACTS / "console_alarms.png"))
        await alarms.clear("water_level", flood)
        await alarms.clear("crowding", BRIDGE)
        await alarms.clear("loitering", BRIDGE)
        await wall.locator(".alarm-list .placeholder", has_text="暂无告警").wait_for(
            timeout=5000
        )
        await console.locator("#alarms li.none").wait_for(timeout=5000)
        assert errors == []

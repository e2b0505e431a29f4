"""The stations read API on the running service, fed by a real Mosquitto (M3, M4, M11).

Payloads go through the broker into the service's own ingest and come back
out of ``/api/v1/stations…`` and ``/api/v1/ingest/dead-letters``. The last
test stops and starts the whole service in the middle of a QoS 1 stream.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.mosquitto import Mosquitto
from tests.support.service import RunningService, running_service
from tests.wall.sensors.test_ingest import (
    GAUGE,
    RAIN,
    WAIT_S,
    now_ms,
    publish,
    publisher,
    stations,
    stream,
)
from wall.config.settings import Settings, StorageSettings
from wall.platform.auth import Role
from wall.platform.wire import wire_time
from wall.sensors.ingest_settings import IngestSettings


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path / "mosquitto") as b:
        yield b


def settings_for(broker: Mosquitto, tmp_path: Path) -> Settings:
    ingest = IngestSettings(url=broker.url, client_id="citywall-api-test")
    return Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        stations=stations(),
        sensor_ingest=ingest,
    )


async def eventually(
    client: httpx.AsyncClient, path: str, svc: RunningService, check: Any
) -> Any:
    """GET ``path`` until ``check(body)`` holds; the body."""
    async with asyncio.timeout(WAIT_S):
        while True:
            r = await client.get(path, headers=svc.auth(Role.VIEWER))
            if r.status_code == 200 and check(r.json()):
                return r.json()
            await asyncio.sleep(0.05)


def latest_of(station: dict[str, Any]) -> dict[str, Any]:
    return {o["element"]: o for o in station["latest"]}


async def test_published_payloads_show_in_the_station_api(
    broker: Mosquitto, tmp_path: Path
) -> None:
    async with (
        running_service(settings_for(broker, tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as client,
    ):
        with publisher(broker) as pub:
            senml = [{"n": "wl", "u": "m", "v": 3.5, "t": -60}]
            publish(pub, f"citywall/stations/{GAUGE}/senml", senml)
            tb = {"ts": now_ms(-30), "values": {"rain_5min": 0.8}}
            publish(pub, f"citywall/stations/{RAIN}/tb", tb)
            plain = {"station": GAUGE, "element": "wl", "value": 3.6}
            publish(pub, f"citywall/stations/{GAUGE}/plain", plain)
        body = await eventually(
            client,
            "/api/v1/stations",
            svc,
            lambda b: (
                len(latest_of(b["stations"][1])) == 1
                and latest_of(b["stations"][0]).get("water_level", {}).get("value")
                == 3.6
            ),
        )
        one = (await client.get(f"/api/v1/stations/{RAIN}", headers=svc.auth())).json()
        series = (
            await client.get(
                f"/api/v1/stations/{GAUGE}/observations",
                params={"element": "water_level"},
                headers=svc.auth(Role.VIEWER),
            )
        ).json()
        bucketed = (
            await client.get(
                f"/api/v1/stations/{GAUGE}/observations",
                params={"element": "water_level", "bucket": 3600},
                headers=svc.auth(Role.VIEWER),
            )
        ).json()
        health = (await client.get("/healthz")).json()
        metrics = (await client.get("/metrics")).text
    assert [s["id"] for s in body["stations"]] == [GAUGE, RAIN]
    assert body["stations"][0]["kind"] == "water_level"
    assert latest_of(one)["rain_5min"]["value"] == 0.8
    assert latest_of(one)["rain_5min"]["observed_at"].endswith("Z")
    assert [p["value"] for p in series["points"]] == [3.5, 3.6]
    assert series["bucket_s"] is None and series["buckets"] == []
    assert sum(b["count"] for b in bucketed["buckets"]) == 2
    assert bucketed["bucket_s"] == 3600 and bucketed["points"] == []
    assert health["components"]["sensor_ingest"]["status"] == "ok"
    assert "citywall_ingest_stored_total 3.0" in metrics


async def test_a_malformed_payload_is_a_dead_letter_and_the_next_good_one_is_kept(
    broker: Mosquitto, tmp_path: Path
) -> None:
    async with (
        running_service(settings_for(broker, tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as client,
    ):
        with publisher(broker) as pub:
            for _ in range(3):
                publish(pub, f"citywall/stations/{GAUGE}/tb", b'{"wl": oops')
            publish(pub, f"citywall/stations/{GAUGE}/tb", {"wl": 2.5})
        await eventually(
            client,
            f"/api/v1/stations/{GAUGE}",
            svc,
            lambda b: bool(b["latest"]),
        )
        page = await client.get(
            "/api/v1/ingest/dead-letters",
            params={"limit": 2},
            headers=svc.auth(Role.DUTY_OFFICER),
        )
        rest = await client.get(
            "/api/v1/ingest/dead-letters",
            params={"limit": 2, "before_id": page.json()["next_before_id"]},
            headers=svc.auth(Role.ADMIN),
        )
        viewer = await client.get(
            "/api/v1/ingest/dead-letters", headers=svc.auth(Role.VIEWER)
        )
    assert page.status_code == 200
    first = page.json()
    assert [d["reason"] for d in first["dead_letters"]] == ["bad_json", "bad_json"]
    assert first["counts"] == {"bad_json": 3}
    assert first["dead_letters"][0]["raw_base64"] == "eyJ3bCI6IG9vcHM="
    assert len(rest.json()["dead_letters"]) == 1
    assert rest.json()["next_before_id"] is None
    assert viewer.status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"element": "water_level", "bucket": 0},
        {"element": "water_level", "max_points": 1},
        {"element": "water_level", "max_points": 20_000},
        {"element": "Water Level"},
        {"element": "water_level", "from": "2025-07-08T10:00:00"},  # no zone
        {"element": "water_level", "bucket": 60, "max_points": 100},
        {
            "element": "water_level",
            "from": "2025-07-08T10:00:00Z",
            "to": "2025-07-08T09:00:00Z",
        },
        {"element": "water_level", "bucket": 1, "from": "2025-01-01T00:00:00Z"},
        {},
    ],
)
async def test_unbounded_or_malformed_range_parameters_are_422(
    broker: Mosquitto, tmp_path: Path, params: dict[str, Any]
) -> None:
    async with (
        running_service(settings_for(broker, tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as client,
    ):
        r = await client.get(
            f"/api/v1/stations/{GAUGE}/observations",
            params=params,
            headers=svc.auth(Role.VIEWER),
        )
    assert r.status_code == 422, r.text


async def test_an_unknown_station_is_404_and_anonymous_is_401(
    broker: Mosquitto, tmp_path: Path
) -> None:
    async with (
        running_service(settings_for(broker, tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as client,
    ):
        one = await client.get("/api/v1/stations/nope", headers=svc.auth())
        series = await client.get(
            "/api/v1/stations/nope/observations",
            params={"element": "water_level"},
            headers=svc.auth(),
        )
        anonymous = await client.get("/api/v1/stations")
    assert (one.status_code, one.json()["error"]) == (404, "station_not_found")
    assert series.status_code == 404
    assert anonymous.status_code == 401


async def test_a_service_restart_mid_stream_stores_every_qos1_message_once(
    broker: Mosquitto, tmp_path: Path
) -> None:
    n, settings = 300, settings_for(broker, tmp_path)
    done = threading.Event()
    now = datetime.now(UTC)
    params: dict[str, str | int] = {
        "element": "water_level",
        "from": wire_time(now - timedelta(hours=1)),
        "to": wire_time(now + timedelta(hours=1)),
        "max_points": 1000,
    }
    async with running_service(settings) as svc:
        ingest = svc.runtime.ingest
        assert ingest is not None
        thread = stream(broker, n, now_ms(-n - 60), done)
        async with asyncio.timeout(WAIT_S):
            while ingest.stats().stored < n // 4:
                await asyncio.sleep(0.01)
        before = ingest.stats().stored
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as client,
    ):
        path = f"/api/v1/stations/{GAUGE}/observations"
        async with asyncio.timeout(60):
            while True:
                r = await client.get(path, params=params, headers=svc.auth())
                points = r.json()["points"]
                if done.is_set() and len(points) >= n:
                    break
                await asyncio.sleep(0.1)
    thread.join(timeout=5)
    assert before < n
    assert len(points) == n
    assert len({p["observed_at"] for p in points}) == n

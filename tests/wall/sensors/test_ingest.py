"""The MQTT ingest against a real Mosquitto and a real SQLite file (M3, M4, M11, M12).

Publishers are plain paho clients and ``mosquitto_pub``; the consumer is the
real :class:`~wall.sensors.ingest.IngestService` on the real store. The only
fault injected is a store that fails its first writes. Every wait is on a
condition under a timeout.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devices.mqtt.client import MqttClient
from devices.mqtt.inbox import InboundMessage
from tests.integration.test_mqtt_client import mosquitto_pub
from tests.support.mosquitto import Mosquitto
from wall.platform.store.migrations import StoreError
from wall.platform.store.sqlite import SqliteStore
from wall.sensors.core.quality import Quality
from wall.sensors.dead_letter_store import SqliteDeadLetters
from wall.sensors.dead_letters import DeadLetterRepository
from wall.sensors.ingest import IngestService
from wall.sensors.ingest_settings import IngestSettings
from wall.sensors.observation_store import SqliteObservations
from wall.sensors.observations import Observation, ObservationRepository
from wall.sensors.settings import StationSettings

GAUGE, RAIN = "ba-1", "rain-1"
WAIT_S = 20.0


def stations() -> tuple[StationSettings, ...]:
    """A water-level gauge (valid 0..20 m) and a rain gauge."""
    where = {"lon": 106.75, "lat": 31.86}
    return (
        StationSettings.model_validate(
            {
                "id": GAUGE,
                "name": "Ba river gauge 1",
                "kind": "water_level",
                "location": where,
                "min_valid": 0.0,
                "max_valid": 20.0,
            }
        ),
        StationSettings.model_validate(
            {"id": RAIN, "name": "Rain gauge 1", "kind": "rain", "location": where}
        ),
    )


def ingest_settings(broker: Mosquitto, **options: Any) -> IngestSettings:
    """The section for ``broker``, with short store retries."""
    base: dict[str, Any] = {
        "url": broker.url,
        "retry_initial_s": 0.05,
        "retry_max_s": 0.2,
    }
    return IngestSettings.model_validate(base | options)


def fast_client(settings: IngestSettings) -> MqttClient:
    """The service's client, reconnecting quickly after a broker restart."""
    config = replace(settings.client_config(), backoff_initial_s=0.2, backoff_max_s=0.5)
    return MqttClient(config)


def now_ms(offset_s: float = 0.0) -> int:
    """Epoch milliseconds, ``offset_s`` from now."""
    return int((time.time() + offset_s) * 1000)


@contextmanager
def publisher(
    broker: Mosquitto, client_id: str = "ingest-test-pub"
) -> Iterator[paho.Client]:
    """A plain paho client on its own thread."""
    pub = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    pub.connect("127.0.0.1", broker.port, keepalive=10)
    pub.loop_start()
    try:
        yield pub
    finally:
        pub.disconnect()
        pub.loop_stop()


def publish(pub: paho.Client, topic: str, payload: object, **kw: Any) -> None:
    """Publish at QoS 1 and wait for the broker's PUBACK."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    info = pub.publish(topic, data, qos=1, **kw)
    info.wait_for_publish(timeout=10)
    assert info.is_published()


async def until(check: Callable[[], Any], timeout_s: float = WAIT_S) -> None:
    """Poll an async-free or async ``check`` until it is truthy."""
    async with asyncio.timeout(timeout_s):
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)


def row_count(store: SqliteStore, table: str) -> Callable[[], Awaitable[int]]:
    """An async check's source: the rows of ``table``."""

    async def count() -> int:
        def work(conn: sqlite3.Connection) -> int:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608

        return await store.read(work)

    return count


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path / "mosquitto") as b:
        yield b


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(tmp_path / "db.sqlite3") as s:
        yield s


@asynccontextmanager
async def ingesting(
    settings: IngestSettings,
    store: SqliteStore,
    *,
    observations: ObservationRepository | None = None,
    dead_letters: DeadLetterRepository | None = None,
) -> AsyncIterator[IngestService]:
    """A running service, connected and subscribed."""
    service = IngestService(
        settings,
        [s.station() for s in stations()],
        observations or SqliteObservations(store),
        dead_letters or SqliteDeadLetters(store),
        client=fast_client(settings),
    )
    async with service:
        async with asyncio.timeout(WAIT_S):
            await service.client.wait_for(
                lambda h: h.state == "connected" and h.subscribed
            )
        yield service


async def latest(store: SqliteStore, station: str) -> dict[str, Observation]:
    return {o.element: o for o in await SqliteObservations(store).latest(station)}


async def test_senml_thingsboard_and_plain_payloads_are_stored_graded(
    broker: Mosquitto, store: SqliteStore
) -> None:
    async with ingesting(ingest_settings(broker), store) as service:
        with publisher(broker) as pub:
            publish(
                pub,
                f"citywall/stations/{GAUGE}/senml",
                [{"n": "wl", "u": "m", "v": 3.25}],
            )
            publish(
                pub,
                f"citywall/stations/{RAIN}/tb",
                {"ts": now_ms(-60), "values": {"rain_5min": 1.5}},
            )
            plain = {"station": GAUGE, "element": "voltage", "value": 12.4, "unit": "V"}
            publish(pub, f"citywall/stations/{GAUGE}/plain", plain)
        await until(lambda: service.stats().stored == 3)
        gauge, rain = await latest(store, GAUGE), await latest(store, RAIN)
    assert gauge["water_level"].value == 3.25
    assert gauge["water_level"].unit == "m"
    assert gauge["water_level"].quality is Quality.GOOD
    assert gauge["water_level"].source["protocol"] == "senml"
    assert gauge["voltage"].value == 12.4
    assert rain["rain_5min"].value == 1.5
    assert rain["rain_5min"].source["topic"] == f"citywall/stations/{RAIN}/tb"


async def test_an_out_of_range_value_is_stored_flagged_not_dropped(
    broker: Mosquitto, store: SqliteStore
) -> None:
    async with ingesting(ingest_settings(broker), store) as service:
        await mosquitto_pub(
            broker, f"citywall/stations/{GAUGE}/tb", '{"wl": 55.0}', "-q", "1"
        )
        await until(lambda: service.stats().stored == 1)
        level = (await latest(store, GAUGE))["water_level"]
    assert (level.value, level.quality) == (55.0, Quality.OUT_OF_RANGE)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "bad_json"),
        (b'{"wl": "high"}', "wrong_type"),
        (b'{"wl": NaN}', "non_finite"),
    ],
)
async def test_m4_a_malformed_payload_is_a_dead_letter_and_the_next_is_stored(
    broker: Mosquitto, store: SqliteStore, payload: bytes, reason: str
) -> None:
    topic = f"citywall/stations/{GAUGE}/tb"
    async with ingesting(ingest_settings(broker), store) as service:
        with publisher(broker) as pub:
            publish(pub, topic, payload)
            publish(pub, topic, {"wl": 3.0})
        await until(lambda: service.stats().stored == 1)
        stats = service.stats()
        letters = await SqliteDeadLetters(store).dead_letters()
    assert dict(stats.dead_letters) == {reason: 1}
    assert [(d.reason, d.raw, d.topic) for d in letters] == [(reason, payload, topic)]
    assert service.health().name == "sensor_ingest"


async def test_m4_readings_of_an_unknown_station_are_dead_letters(
    broker: Mosquitto, store: SqliteStore
) -> None:
    ts = now_ms(-5)
    gateway = {
        GAUGE: [{"ts": ts, "values": {"wl": 2.0}}],
        "nowhere-9": [{"ts": ts, "values": {"wl": 1.0}}],
    }
    async with ingesting(ingest_settings(broker), store) as service:
        with publisher(broker) as pub:
            publish(pub, "v1/gateway/telemetry", gateway)
        await until(lambda: service.stats().batches >= 1)
        (letter,) = await SqliteDeadLetters(store).dead_letters()
        gauge = await latest(store, GAUGE)
    assert letter.reason == "unknown_station"
    assert "nowhere-9" in letter.message
    assert gauge["water_level"].value == 2.0  # the known station's reading is kept
    assert await latest(store, "nowhere-9") == {}


async def test_m3_a_payload_delivered_twice_is_stored_once(
    broker: Mosquitto, store: SqliteStore
) -> None:
    payload = {"ts": now_ms(-30), "values": {"wl": 4.5}}
    async with ingesting(ingest_settings(broker), store) as service:
        with publisher(broker) as pub:
            publish(pub, f"citywall/stations/{GAUGE}/tb", payload)
            publish(pub, f"citywall/stations/{GAUGE}/tb", payload)
        await until(lambda: service.stats().received == 2)
        stats = service.stats()
    assert (stats.stored, stats.duplicates) == (1, 1)
    assert await row_count(store, "observations")() == 1


async def test_m11_a_retained_message_is_stored_and_marked_retained(
    broker: Mosquitto, store: SqliteStore
) -> None:
    topic = f"citywall/stations/{GAUGE}/tb"
    with publisher(broker) as pub:
        publish(pub, topic, {"ts": now_ms(-120), "values": {"wl": 6.0}}, retain=True)
    async with ingesting(ingest_settings(broker), store) as service:
        await until(lambda: service.stats().stored == 1)
        with publisher(broker) as pub:
            publish(pub, topic, {"ts": now_ms(-10), "values": {"wl": 6.1}})
        await until(lambda: service.stats().stored == 2)
        stats = service.stats()
        series = await SqliteObservations(store).range(
            GAUGE, "water_level", *_around_now()
        )
    assert [(o.value, o.source.get("retained")) for o in series.points] == [
        (6.0, True),
        (6.1, None),
    ]
    assert stats.retained == 1


def _around_now() -> tuple[Any, Any]:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    return now - timedelta(hours=1), now + timedelta(hours=1)


class FailingFirst:
    """The real observation store, failing its first ``n`` writes (a fault)."""

    def __init__(self, real: SqliteObservations, n: int) -> None:
        self.real, self.left, self.calls = real, n, 0
        self.acked_at_calls: list[int] = []
        self.client: MqttClient | None = None

    async def add_many(self, observations: Sequence[Observation]) -> int:
        self.calls += 1
        if self.client is not None:
            self.acked_at_calls.append(self.client.health().inbox.acked)
        if self.left > 0:
            self.left -= 1
            raise StoreError("database is locked", "store_busy")
        return await self.real.add_many(observations)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


async def test_a_failing_store_is_retried_and_nothing_is_acknowledged_before(
    broker: Mosquitto, store: SqliteStore
) -> None:
    failing = FailingFirst(SqliteObservations(store), 3)
    settings = ingest_settings(broker)
    async with ingesting(settings, store, observations=failing) as service:
        failing.client = service.client
        with publisher(broker) as pub:
            publish(pub, f"citywall/stations/{GAUGE}/tb", {"wl": 3.3})
            await until(lambda: failing.calls >= 2)
            assert service.health().status.value == "degraded"
            await until(lambda: service.stats().stored == 1)
            publish(pub, f"citywall/stations/{GAUGE}/tb", {"wl": 3.4})
            await until(lambda: service.stats().stored == 2)
        stats, health = service.stats(), service.health()
        acked = service.client.health().inbox.acked
    assert failing.acked_at_calls[:4] == [0, 0, 0, 0]  # no PUBACK while failing
    assert stats.store_retries == 3
    assert acked == 2
    assert health.status.value == "ok"


async def test_m12_a_broker_outage_degrades_the_ingest_and_it_recovers(
    broker: Mosquitto, store: SqliteStore
) -> None:
    async with ingesting(ingest_settings(broker), store) as service:
        assert service.health().status.value == "ok"
        broker.stop()
        await until(lambda: service.health().status.value == "degraded")
        assert service.health().detail["state"] == "reconnecting"
        broker.start()
        await until(lambda: service.health().status.value == "ok")
        await mosquitto_pub(
            broker, f"citywall/stations/{GAUGE}/tb", '{"wl": 2.2}', "-q", "1"
        )
        await until(lambda: service.stats().stored == 1)


def stream(
    broker: Mosquitto, n: int, base_ms: int, done: threading.Event
) -> threading.Thread:
    def run() -> None:
        with publisher(broker, "ingest-test-stream") as pub:
            for i in range(n):
                payload = {"ts": base_ms + i * 1000, "values": {"wl": 3.0 + i / 1000}}
                publish(pub, f"citywall/stations/{GAUGE}/tb", payload)
                time.sleep(0.002)
        done.set()

    thread = threading.Thread(target=run, name="qos1 stream", daemon=True)
    thread.start()
    return thread


async def test_a_service_restart_mid_stream_stores_every_message_exactly_once(
    broker: Mosquitto, store: SqliteStore
) -> None:
    n, settings = 400, ingest_settings(broker, client_id="ingest-restart")
    done = threading.Event()
    async with ingesting(settings, store) as first:
        thread = stream(broker, n, now_ms(-n - 60), done)
        await until(lambda: first.stats().stored >= n // 4)
    stored_before = first.stats().stored
    async with ingesting(settings, store):  # same client id: the session resumes
        await until(done.is_set, timeout_s=60)
        await until(_all_stored(store, n), timeout_s=WAIT_S)
    thread.join(timeout=5)
    assert stored_before < n  # the restart happened mid-stream
    assert await row_count(store, "observations")() == n


def _all_stored(store: SqliteStore, n: int) -> Callable[[], Awaitable[bool]]:
    count = row_count(store, "observations")

    async def check() -> bool:
        return await count() >= n

    return check


async def test_a_fault_grading_one_message_is_a_dead_letter_and_ingest_goes_on(
    broker: Mosquitto, store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = f"citywall/stations/{GAUGE}/tb"
    async with ingesting(ingest_settings(broker), store) as service:
        grade = service._grader.grade  # injected fault: the first message breaks it

        def broken_once(message: InboundMessage) -> Any:
            if b"boom" in message.payload:
                raise RuntimeError("injected")
            return grade(message)

        monkeypatch.setattr(service._grader, "grade", broken_once)
        with publisher(broker) as pub:
            publish(pub, topic, {"boom": 1.0})
            publish(pub, topic, {"wl": 3.0})
        await until(lambda: service.stats().stored == 1)
        stats = service.stats()
    assert dict(stats.dead_letters) == {"internal_error": 1}

"""The shared MQTT client against a real Mosquitto on 127.0.0.1 (M11, M12, HS9).

Publishers are ``mosquitto_pub`` (a subprocess) and plain paho clients; the
client under test is :class:`devices.mqtt.client.MqttClient`. Every wait is on
a condition under a timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devices.mqtt.client import MqttClient, MqttClientHealth
from devices.mqtt.connection import MqttClientConfig, MqttProtocol, Subscription
from devices.mqtt.inbox import InboundMessage
from tests.support.mosquitto import Mosquitto

MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
TOPIC = "citywall/stations/s1/plain"
PROTOCOLS: list[MqttProtocol] = ["3.1.1", "5"]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path / "mosquitto") as b:
        yield b


def config(broker: Mosquitto, **options: Any) -> MqttClientConfig:
    base: dict[str, Any] = {
        "client_id": "citywall-ingest-test",
        "subscriptions": (Subscription("citywall/#", 1),),
        "backoff_initial_s": 0.2,
        "backoff_max_s": 0.5,
    }
    return MqttClientConfig.from_url(broker.url, **(base | options))


async def until(
    client: MqttClient,
    predicate: Callable[[MqttClientHealth], bool],
    timeout_s: float = 10.0,
) -> MqttClientHealth:
    async with asyncio.timeout(timeout_s):
        return await client.wait_for(predicate)


def ready(h: MqttClientHealth) -> bool:
    return h.state == "connected" and h.subscribed


async def receive(
    client: MqttClient, n: int, timeout_s: float = 10.0
) -> list[InboundMessage]:
    out: list[InboundMessage] = []
    async with asyncio.timeout(timeout_s):
        while len(out) < n:
            out += await client.receive(n - len(out))
    return out


async def mosquitto_pub(
    broker: Mosquitto, topic: str, payload: str, *extra: str
) -> None:
    proc = await asyncio.create_subprocess_exec(
        MOSQUITTO_PUB,
        *("-h", "127.0.0.1", "-p", str(broker.port), "-t", topic, "-m", payload),
        *extra,
    )
    async with asyncio.timeout(10):
        assert await proc.wait() == 0


@contextmanager
def paho_publisher(
    broker: Mosquitto, client_id: str = "test-pub", tls_ca: Path | None = None
) -> Iterator[paho.Client]:
    """A plain paho client on its own thread, reconnecting after a restart."""
    pub = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    if tls_ca is not None:
        pub.tls_set(ca_certs=str(tls_ca))
    pub.reconnect_delay_set(1, 1)
    pub.connect("127.0.0.1", broker.port, keepalive=10)
    pub.loop_start()
    try:
        yield pub
    finally:
        pub.disconnect()
        pub.loop_stop()


@asynccontextmanager
async def running(cfg: MqttClientConfig) -> AsyncIterator[MqttClient]:
    async with MqttClient(cfg) as client:
        await until(client, ready)
        yield client


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_messages_from_mosquitto_pub_and_paho_arrive_with_their_flags(
    broker: Mosquitto, protocol: MqttProtocol
) -> None:
    before = datetime.now(UTC)
    async with running(config(broker, protocol=protocol)) as client:
        await mosquitto_pub(broker, TOPIC, '{"value": 1.25}', "-q", "1")
        with paho_publisher(broker) as pub:
            pub.publish("citywall/stations/s2/senml", b"[]", qos=0).wait_for_publish(5)
            got = await receive(client, 2)
        client.commit(got)
        health = client.health()
    by_topic = {m.topic: m for m in got}
    first, second = by_topic[TOPIC], by_topic["citywall/stations/s2/senml"]
    assert (first.payload, first.qos, first.retain) == (b'{"value": 1.25}', 1, False)
    assert (second.payload, second.qos, second.retain) == (b"[]", 0, False)
    assert first.received_at >= before and first.received_at.tzinfo is not None
    assert first.generation == second.generation == 1
    assert (health.inbox.received, health.inbox.acked, health.inbox.unacked) == (
        2,
        1,
        0,
    )
    assert health.connects == 1 and health.last_gap is not None


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_message_not_acknowledged_is_delivered_again_and_then_not(
    broker: Mosquitto, protocol: MqttProtocol
) -> None:
    cfg = config(broker, protocol=protocol)
    async with running(cfg) as client:
        await mosquitto_pub(broker, TOPIC, "first", "-q", "1")
        await receive(client, 1)
        # closed without committing: the service died before its store commit
    async with running(cfg) as client:
        (again,) = await receive(client, 1)
        assert (again.payload, again.duplicate) == (b"first", True)
        assert client.health().session_present
        client.commit([again])
        await until(client, lambda h: h.inbox.acked == 1)
    async with running(cfg) as client:
        await mosquitto_pub(broker, TOPIC, "marker", "-q", "1")
        (next_one,) = await receive(client, 1)
        assert next_one.payload == b"marker"  # "first" was acknowledged for good
        client.commit([next_one])


async def test_retained_messages_are_flagged_as_old_values(broker: Mosquitto) -> None:
    # M11: a value retained before we subscribed is not a new event
    await mosquitto_pub(broker, TOPIC, "retained", "-q", "1", "-r")
    async with running(config(broker, persistent_session=False)) as client:
        (old,) = await receive(client, 1)
        await mosquitto_pub(broker, TOPIC, "live", "-q", "1")
        (new,) = await receive(client, 1)
        client.commit([old, new])
    assert (old.payload, old.retain) == (b"retained", True)
    assert (new.payload, new.retain) == (b"live", False)


async def test_a_broker_outage_is_recorded_as_a_gap_and_subscriptions_return(
    broker: Mosquitto,
) -> None:
    # M12: clean session, so the broker forgets our subscriptions: only a
    # re-subscription after the reconnect brings the next message
    async with running(config(broker, persistent_session=False)) as client:
        before_stop = datetime.now(UTC)
        await asyncio.to_thread(broker.stop)
        down = await until(client, lambda h: h.state == "reconnecting")
        assert down.disconnected_since is not None
        assert down.disconnected_since >= before_stop
        assert down.disconnected_since_monotonic_s is not None
        await asyncio.to_thread(broker.start)
        up = await until(client, lambda h: ready(h) and h.connects == 2)
        await mosquitto_pub(broker, TOPIC, "after", "-q", "1")
        (after,) = await receive(client, 1)
        client.commit([after])
    assert after.generation == 2
    assert up.disconnects == 1 and up.disconnected_since is None
    gap = up.last_gap
    assert gap is not None and gap.started_at == down.disconnected_since
    assert gap.started_at <= gap.ended_at and gap.duration_s > 0


async def consume(
    client: MqttClient, store: dict[int, int], n: int, progress: asyncio.Event
) -> None:
    """Commit to ``store`` (id -> times seen), then acknowledge."""
    while len(store) < n:
        for m in (batch := await client.receive(500)):
            key = json.loads(m.payload)["id"]
            store[key] = store.get(key, 0) + 1
        client.commit(batch)
        progress.set()


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.timeout(90)
async def test_a_broker_restart_mid_stream_loses_no_qos1_message(
    broker: Mosquitto, protocol: MqttProtocol
) -> None:
    n, window, restart_at = 5000, 400, 2000
    store: dict[int, int] = {}
    progress = asyncio.Event()
    cfg = config(broker, protocol=protocol, max_unacked=200)
    async with running(cfg) as client, asyncio.TaskGroup() as tg:
        consumer = tg.create_task(consume(client, store, n, progress))
        with paho_publisher(broker) as pub:
            for i in range(n):
                # keep the broker's per-client queue (1,000 by default) from
                # overflowing: that limit is the broker's, not the client's
                while i - len(store) >= window:
                    progress.clear()
                    async with asyncio.timeout(30):
                        await progress.wait()
                pub.publish(TOPIC, json.dumps({"id": i}), qos=1)
                if i == restart_at:
                    await asyncio.to_thread(broker.restart)
            async with asyncio.timeout(60):
                await consumer
        health = client.health()
    assert sorted(store) == list(range(n))  # none missing after de-duplication
    assert health.connects == 2 and health.session_present
    assert sum(store.values()) >= n


async def test_a_consumer_that_acks_after_commit_loses_nothing_across_restarts(
    broker: Mosquitto,
) -> None:
    n = 600
    store: list[int] = []
    cfg = config(broker, max_unacked=50)
    with paho_publisher(broker) as pub:
        async with running(cfg) as client:
            for i in range(n):
                pub.publish(TOPIC, json.dumps({"id": i}), qos=1)
            for _ in range(3):  # three committed batches, then the "kill"
                batch = await client.receive(40)
                store += [json.loads(m.payload)["id"] for m in batch]
                client.commit(batch)
            lost_in_crash = await client.receive(40)
            # closing without committing or acking the batch in hand
        assert lost_in_crash
        async with running(cfg) as client:
            while len(set(store)) < n:
                async with asyncio.timeout(15):
                    batch = await client.receive(100)
                store += [json.loads(m.payload)["id"] for m in batch]
                client.commit(batch)
            health = client.health()
    assert sorted(set(store)) == list(range(n))
    assert {json.loads(m.payload)["id"] for m in lost_in_crash} <= set(store)
    assert health.session_present and health.inbox.unacked == 0


USER, PASSWORD = "ingest", "Gauge-Secret-Pw-58"


async def test_credentials_are_used_and_never_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = PASSWORD + "-wrong"
    with Mosquitto(tmp_path / "auth", users={USER: PASSWORD}) as broker:
        good = config(broker, username=USER, password=PASSWORD)
        bad = config(broker, client_id="intruder", username=USER, password=wrong)
        async with running(good) as client, MqttClient(bad) as refused:
            down = await until(refused, lambda h: h.state == "refused")
            await mosquitto_pub(
                broker, TOPIC, "ok", "-q", "1", "-u", USER, "-P", PASSWORD
            )
            (got,) = await receive(client, 1)
            client.commit([got])
        texts = [caplog.text, repr(good), repr(bad), repr(down), broker.log_text()]
    assert got.payload == b"ok" and down.detail
    for text in texts:
        assert PASSWORD not in text and wrong not in text


class TlsMosquitto(Mosquitto):
    """The test broker with its listener behind TLS (a self-signed certificate)."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.ca = workdir / "ca.pem"

    def _write_config(self) -> Path:
        path = super()._write_config()
        key, cert = self.workdir / "key.pem", self.ca
        if not cert.exists():
            subprocess.run(
                [
                    *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes"),
                    *("-keyout", str(key), "-out", str(cert), "-days", "1"),
                    *(
                        "-subj",
                        "/CN=127.0.0.1",
                        "-addext",
                        "subjectAltName=IP:127.0.0.1",
                    ),
                ],
                check=True,
                capture_output=True,
            )
        tls = f"certfile {cert}\nkeyfile {key}\n"
        path.write_text(path.read_text() + tls)
        return path


async def test_tls_with_a_given_ca_connects_and_receives(tmp_path: Path) -> None:
    with TlsMosquitto(tmp_path / "tls") as broker:
        cfg = replace(config(broker, protocol="5"), tls=True, ca_file=str(broker.ca))
        async with running(cfg) as client:
            with paho_publisher(broker, tls_ca=broker.ca) as pub:
                pub.publish(TOPIC, b"secure", qos=1).wait_for_publish(5)
                (got,) = await receive(client, 1)
            client.commit([got])
        untrusted = replace(config(broker, client_id="no-ca"), tls=True)
        async with MqttClient(untrusted) as refused:
            down = await until(refused, lambda h: h.state == "reconnecting")
    assert got.payload == b"secure"
    assert down.detail is not None and "SSL" in down.detail

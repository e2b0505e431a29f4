"""The MQTT publisher against a real Mosquitto on 127.0.0.1 (HS9, HS11)."""

from __future__ import annotations

import asyncio
import json
import logging
import queue
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devices.mqtt.publisher import MqttPublisher, MqttPublisherConfig
from tests.support.mosquitto import Mosquitto

USER, PASSWORD = "citywall", "Sup3r-Secret-Pw-41"
WRONG_PASSWORD = "Wr0ng-Secret-Pw-77"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path / "mosquitto") as b:
        yield b


class Subscriber:
    """A plain paho subscriber on its own thread; messages land in a queue."""

    def __init__(
        self,
        broker: Mosquitto,
        topics: tuple[str, ...],
        *,
        client_id: str = "test-subscriber",
        persistent: bool = False,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.port = broker.port
        self.topics = topics
        self.messages: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
        self.subscribed: queue.Queue[bool] = queue.Queue()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
        )
        self.client.reconnect_delay_set(1, 1)
        if auth is not None:
            self.client.username_pw_set(*auth)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self.subscribed.put(True)

    def _on_connect(self, client: paho.Client, *_: Any) -> None:
        client.subscribe([(t, 1) for t in self.topics])

    def _on_message(self, client: paho.Client, _: Any, msg: paho.MQTTMessage) -> None:
        self.messages.put((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def __enter__(self) -> Self:
        self.client.connect("127.0.0.1", self.port, keepalive=10)
        self.client.loop_start()
        assert self.subscribed.get(timeout=5)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    async def next(self, timeout_s: float = 5.0) -> tuple[str, bytes, bool]:
        return await asyncio.to_thread(self.messages.get, True, timeout_s)

    async def payloads(self, topic: str, n: int, timeout_s: float = 10.0) -> list[Any]:
        out: list[Any] = []
        async with asyncio.timeout(timeout_s):
            while len(out) < n:
                got_topic, payload, _ = await self.next(timeout_s)
                if got_topic == topic:
                    out.append(json.loads(payload))
        return out


def config(broker: Mosquitto, **options: Any) -> MqttPublisherConfig:
    return MqttPublisherConfig.from_url(
        broker.url,
        client_id="citywall-test",
        backoff_initial_s=1,
        backoff_max_s=1,
        **options,
    )


async def wait_state(
    publisher: MqttPublisher, *states: str, timeout_s: float = 10
) -> None:
    async with asyncio.timeout(timeout_s):
        while publisher.health().state not in states:
            await asyncio.sleep(0.02)


async def test_published_json_reaches_a_subscriber_and_status_is_online(
    broker: Mosquitto,
) -> None:
    with Subscriber(broker, ("wall/#",)) as sub:
        async with MqttPublisher(config(broker)) as mqtt:
            await wait_state(mqtt, "connected")
            event = {"camera": "gate", "zone": "square", "count": 4, "名": "广场"}
            assert mqtt.publish_json("wall/events/gate/crowding", event)

            seen: dict[str, tuple[bytes, bool]] = {}
            async with asyncio.timeout(5):
                while "wall/events/gate/crowding" not in seen:
                    topic, payload, retain = await sub.next()
                    seen[topic] = (payload, retain)
            assert json.loads(seen["wall/events/gate/crowding"][0]) == event
            assert seen["wall/status"][0] == b"online"
            async with asyncio.timeout(5):
                while mqtt.health().acked < 1:
                    await asyncio.sleep(0.02)
            health = mqtt.health()
            assert (health.queued, health.in_flight, health.dropped) == (0, 0, 0)
            assert health.connects == 1
        topic, payload, _ = await sub.next()
        assert (topic, payload) == ("wall/status", b"offline")
    assert mqtt.health().state == "closed"
    assert not mqtt.publish_json("wall/events/x/y", {})


async def test_outbox_is_bounded_while_the_broker_is_down_then_flushed(
    broker: Mosquitto,
) -> None:
    topic = "wall/events/gate/crowding"
    with Subscriber(broker, (topic,), client_id="durable", persistent=True) as sub:
        async with MqttPublisher(config(broker, outbox_max=20)) as mqtt:
            await wait_state(mqtt, "connected")
            for i in range(3):
                mqtt.publish_json(topic, {"seq": i})
            assert [p["seq"] for p in await sub.payloads(topic, 3)] == [0, 1, 2]

            broker.stop()
            await wait_state(mqtt, "disconnected")
            for i in range(100, 150):
                assert mqtt.publish_json(topic, {"seq": i})
            health = mqtt.health()
            assert (health.queued, health.dropped, health.in_flight) == (20, 30, 0)

            broker.start()
            await wait_state(mqtt, "connected")
            # QoS 1 is at-least-once: the broker may redeliver an old message
            fresh: list[int] = []
            async with asyncio.timeout(15):
                while len(fresh) < 20:
                    (payload,) = await sub.payloads(topic, 1)
                    if payload["seq"] >= 100:
                        fresh.append(payload["seq"])
            assert fresh == list(range(130, 150))  # the newest 20, in order
            assert mqtt.health().connects == 2


async def test_credentials_are_never_logged_or_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with Mosquitto(tmp_path / "auth-broker", users={USER: PASSWORD}) as broker:
        good = config(broker, username=USER, password=PASSWORD)
        bad = config(broker, username=USER, password=WRONG_PASSWORD)
        with Subscriber(broker, ("wall/events/#",), auth=(USER, PASSWORD)) as sub:
            async with MqttPublisher(good) as ok, MqttPublisher(bad) as refused:
                await wait_state(ok, "connected")
                await wait_state(refused, "refused")
                ok.publish_json("wall/events/c/intrusion", {"n": 1})
                refused.publish_json("wall/events/c/intrusion", {"n": 2})
                assert await sub.payloads("wall/events/c/intrusion", 1) == [{"n": 1}]
                health = refused.health()
                assert health.queued == 1 and health.detail
        texts = [
            caplog.text,
            repr(good),
            repr(bad),
            repr(health),
            broker.log_text(),
        ]
    for text in texts:
        assert PASSWORD not in text
        assert WRONG_PASSWORD not in text
    assert "refused" in caplog.text


async def test_without_a_broker_publishing_is_a_no_op() -> None:
    async with MqttPublisher(None) as mqtt:
        assert not mqtt.publish_json("wall/events/a/b", {"x": 1})
        health = mqtt.health()
    assert health.state == "not_configured" and health.broker is None


@pytest.mark.parametrize(
    "url",
    ["http://h:1883", "mqtt://user:pw@h:1883", "mqtt://:1883", "mqtt://h:99999"],
)
def test_bad_broker_urls_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(ValueError, match="broker URL") as err:
        MqttPublisherConfig.from_url(url)
    assert "pw" not in str(err.value)

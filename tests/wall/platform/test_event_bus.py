"""The event bus: typed topics, prefixes, and drop-oldest queues per subscriber."""

from __future__ import annotations

import pytest

from wall.platform.event_bus import EventBus, Topic, topic
from wall.platform.health import CAMERA_HEALTH
from wall.platform.wire import WireModel


class Tick(WireModel):
    i: int


class Other(WireModel):
    name: str


# built directly, not declared: the catalogue lists the product's topics only
CAMERA_TICK = Topic("camera.tick", Tick, "a test tick")
ALARM_TICK = Topic("alarm.tick", Tick, "a test tick")


async def test_topics_and_prefixes() -> None:
    bus = EventBus()
    cams = bus.subscribe(frozenset({"camera.*"}))
    exact = bus.subscribe(frozenset({"alarm.tick"}))
    bus.emit(CAMERA_TICK, Tick(i=1))
    bus.emit(ALARM_TICK, Tick(i=2))
    got = await cams.get()
    assert got is not None and (got.topic, got.data) == ("camera.tick", {"i": 1})
    got2 = await exact.get()
    assert got2 is not None and got2.topic == "alarm.tick"
    bus.close()
    # nothing else was queued: get() drains a closed queue before it ends
    assert await cams.get() is None  # no alarm.tick for camera.*
    assert await exact.get() is None  # no camera.tick for the exact topic


def test_a_topic_carries_only_its_own_payload_model() -> None:
    with pytest.raises(TypeError, match=r"camera\.tick carries Tick, not Other"):
        EventBus().emit(CAMERA_TICK, Other(name="x"))  # type: ignore[misc]


def test_a_topic_name_is_declared_once() -> None:
    assert CAMERA_HEALTH.name == "camera.health"
    with pytest.raises(ValueError, match="declared twice"):
        topic("camera.health", Tick, "a second camera.health")


async def test_slow_subscriber_drops_oldest_and_counts_without_blocking_others() -> (
    None
):
    bus = EventBus(max_events_per_subscriber=4)
    slow = bus.subscribe()
    fast = bus.subscribe()
    for i in range(10):
        bus.emit(CAMERA_TICK, Tick(i=i))
        got = await fast.get()
        assert got is not None and got.data["i"] == i
    assert slow.dropped == 6
    first = await slow.get()
    assert first is not None and first.data["i"] == 6
    assert bus.dropped_total == 6
    bus.close()

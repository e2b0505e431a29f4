from __future__ import annotations

from wall.platform.event_bus import EventBus


async def test_topics_and_prefixes() -> None:
    bus = EventBus()
    cams = bus.subscribe(frozenset({"camera.*"}))
    exact = bus.subscribe(frozenset({"alarm.raised"}))
    bus.publish("camera.health", {"camera_id": "a"})
    bus.publish("alarm.raised", {"id": 1})
    got = await cams.get()
    assert got is not None and got.topic == "camera.health"
    got2 = await exact.get()
    assert got2 is not None and got2.topic == "alarm.raised"
    bus.close()
    assert await cams.get() is None


async def test_slow_subscriber_drops_oldest_and_counts_without_blocking_others() -> (
    None
):
    bus = EventBus(max_events_per_subscriber=4)
    slow = bus.subscribe()
    fast = bus.subscribe()
    for i in range(10):
        bus.publish("camera.health", {"i": i})
        got = await fast.get()
        assert got is not None and got.data["i"] == i
    assert slow.dropped == 6
    first = await slow.get()
    assert first is not None and first.data["i"] == 6
    assert bus.dropped_total == 6
    bus.close()

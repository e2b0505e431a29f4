"""Service health on the wire (O5) and the ``camera.health`` topic."""

from __future__ import annotations

import asyncio

from devices.cameras.camera import CameraStream, StreamKey
from devices.cameras.config import StreamConfig, StreamPolicy, StreamRole
from devices.cameras.health import FailureReason, StreamHealth, StreamState
from wall.platform.event_bus import EventBus, catalogue
from wall.platform.health import (
    CAMERA_HEALTH,
    ComponentHealth,
    HealthOut,
    Status,
    camera_component,
    camera_health_changed,
    overall,
)


def test_a_component_goes_out_flat_with_its_status_first() -> None:
    component = ComponentHealth("broker", Status.DEGRADED, {"queued": 3})
    assert list(component.to_wire().model_dump(mode="json").items()) == [
        ("status", "degraded"),
        ("queued", 3),
    ]


def test_health_out_lists_components_by_name() -> None:
    components = [
        ComponentHealth("store", Status.OK, {"kind": "sqlite"}),
        ComponentHealth("detector", Status.NOT_CONFIGURED),
    ]
    out = HealthOut(
        status=overall(components),
        uptime_s=1.5,
        components={c.name: c.to_wire() for c in components},
    )
    assert out.model_dump(mode="json") == {
        "status": "ok",
        "uptime_s": 1.5,
        "components": {
            "store": {"status": "ok", "kind": "sqlite"},
            "detector": {"status": "not_configured"},
        },
    }


def test_down_beats_degraded_beats_ok() -> None:
    ok, bad, down = (
        ComponentHealth(n, s)
        for n, s in (("a", Status.OK), ("b", Status.DEGRADED), ("c", Status.DOWN))
    )
    assert overall([ok]) is Status.OK
    assert overall([ok, bad]) is Status.DEGRADED
    assert overall([ok, bad, down]) is Status.DOWN


async def test_a_camera_component_and_its_health_event() -> None:
    stream = CameraStream(
        StreamKey("gate", StreamRole.MAIN),
        StreamConfig(url="rtsp://user:pw@10.0.0.5/main"),
        StreamPolicy(),
        buffer_s=4.0,
        loop=asyncio.get_running_loop(),
    )
    component = camera_component("gate", {"main": stream})
    assert component.name == "camera:gate" and component.status is Status.OK
    assert component.detail["main"]["state"] == "idle"
    assert "pw" not in str(component.to_wire().model_dump(mode="json"))

    bus = EventBus()
    sub = bus.subscribe(frozenset({"camera.*"}))
    health = StreamHealth(
        StreamState.OFFLINE,
        FailureReason.REFUSED,
        "connection refused",
        None,
        0.0,
        0.0,
        2,
        0,
        None,
        None,
    )
    bus.emit(CAMERA_HEALTH, camera_health_changed(stream, health))
    event = await sub.get()
    assert event is not None and event.topic == "camera.health"
    assert event.data == {
        "camera_id": "gate",
        "stream": "main",
        "state": "offline",
        "reason": "refused",
        "detail": "connection refused",
    }
    assert CAMERA_HEALTH in catalogue()

"""Detection end to end: RTSP sub stream → decode → batch → YOLOX-Nano → zone rules.

Real parts only: the GStreamer RTSP server serves an H.264 clip made at test
time from the ``bus.jpg`` sample photo of the ultralytics wheel (read from the
wheel, never committed), the real model from ``models/.cache``, a real
Mosquitto, the real store and HTTP API. Faults are injected only at the frame
source (frames delivered late) and in the weights cache (a corrupt file).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import zipfile
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import av
import cv2
import httpx
import numpy as np
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devices.cameras.camera import CameraStream
from devices.cameras.decoder import DecodedFrame, FrameDecoder
from tests.integration.camera_helpers import FAST_POLICY, camera
from tests.support.browser import chromium
from tests.support.mosquitto import Mosquitto
from tests.support.rtsp_server import MountSpec, RtspServer
from tests.support.service import running_service
from tests.vision.conftest import CACHE_DIR, MODELS_DIR, PHOTO_MEMBERS, _photo_wheel
from vision.onnx.fetch import fetch_all
from wall.alarms.service import AlarmQuery
from wall.config.loading import ConfigError, parse_settings
from wall.config.settings import ModelSettings, Settings, StorageSettings
from wall.detection.alarm_sink import AlarmSink
from wall.detection.analysis import CameraAnalysis
from wall.detection.service import DetectionService, FrameSource, SourceFactory
from wall.platform.auth import Role
from wall.platform.event_bus import BusSubscription, Event
from wall.platform.wire import JsonValue
from wall.runtime import Runtime, Seams
from wall.walls.settings import WallSettings

pytestmark = [pytest.mark.rtsp, pytest.mark.network]

CLIP_FPS = 10
PEOPLE_S = EMPTY_S = 6
# the feet of the four people in bus.jpg lie between y = 856 and 898
KERB = [[0, 700], [810, 700], [810, 1000], [0, 1000]]


# ---- media and model -------------------------------------------------------------
def _encode(path: Path, pictures: list[tuple[np.ndarray[Any, Any], int]]) -> Path:
    """A raw Annex-B H.264 clip (1 s GOP, SPS/PPS before every IDR)."""
    x264 = f"keyint={CLIP_FPS}:min-keyint={CLIP_FPS}:scenecut=0:bframes=0"
    options = {"preset": "veryfast", "tune": "zerolatency",
               "x264-params": f"{x264}:repeat-headers=1:open-gop=0"}  # fmt: skip
    with av.open(str(path), "w", format="h264") as out:
        stream = out.add_stream("libx264", rate=CLIP_FPS, options=options)
        height, width = pictures[0][0].shape[:2]
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for picture, seconds in pictures:
            for _ in range(seconds * CLIP_FPS):
                frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
                for packet in stream.encode(frame):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``people_then_empty.h264`` (6 s bus photo, 6 s grey) and ``people.h264``."""
    with zipfile.ZipFile(_photo_wheel()) as wheel:
        data = np.frombuffer(wheel.read(PHOTO_MEMBERS["bus"]), np.uint8)
    bus = np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8)
    grey = np.full_like(bus, 128)
    folder = tmp_path_factory.mktemp("detection-media")
    return {
        "people_then_empty": _encode(
            folder / "people_then_empty.h264", [(bus, PEOPLE_S), (grey, EMPTY_S)]
        ),
        "people": _encode(folder / "people.h264", [(bus, 2)]),
    }


@pytest.fixture(scope="session")
def models() -> ModelSettings:
    fetch_all(MODELS_DIR, CACHE_DIR, dynamic_batch=True)
    return ModelSettings(manifests_dir=MODELS_DIR, cache_dir=CACHE_DIR)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path / "mosquitto") as b:
        yield b


@pytest.fixture
def bus_server(clips: dict[str, Path]) -> Iterator[RtspServer]:
    """A private server: this test's client is the first, so clips start at 0."""
    mounts = {f"/{name}": MountSpec(str(path)) for name, path in clips.items()}
    mounts |= {f"/{name}_main": MountSpec(str(path)) for name, path in clips.items()}
    with RtspServer(next(iter(clips.values())).parent, mounts, fps=CLIP_FPS) as srv:
        yield srv


# ---- the service under test ------------------------------------------------------
class RecordingAlarms:
    """Records every alarm call, then forwards it to the runtime's AlarmService."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, Any, dict[str, Any]]] = []
        self.service: AlarmSink | None = None

    async def raise_(
        self,
        type: str,
        originator: str,
        severity: Any,
        details: Mapping[str, JsonValue],
    ) -> None:
        self.calls.append(("raise", type, originator, severity, dict(details)))
        if self.service is not None:
            await self.service.raise_(type, originator, severity, details)

    async def update(
        self, type: str, originator: str, *, details: Mapping[str, JsonValue]
    ) -> None:
        self.calls.append(("update", type, originator, None, dict(details)))
        if self.service is not None:
            await self.service.update(type, originator, details=details)

    async def clear(self, type: str, originator: str) -> None:
        self.calls.append(("clear", type, originator, None, {}))
        if self.service is not None:
            await self.service.clear(type, originator)

    def of(self, alarm_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [(c[0], c[4]) for c in self.calls if c[1] == alarm_type]

    async def wait_for(self, op: str, alarm_type: str, timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while not any(o == op for o, _ in self.of(alarm_type)):
                await asyncio.sleep(0.05)


@dataclass
class Site:
    base_url: str
    tokens: dict[Role, str]
    runtime: Runtime
    detection: DetectionService

    def auth(self, role: Role = Role.VIEWER) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def get(self, path: str, role: Role = Role.VIEWER) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            return await client.get(path, headers=self.auth(role))


@asynccontextmanager
async def detection_site(
    settings: Settings,
    *,
    alarms: RecordingAlarms | None = None,
    source_factory: SourceFactory = FrameDecoder,
) -> AsyncIterator[Site]:
    """The whole service, with an alarm recorder and injectable frame sources."""

    def sink(real: AlarmSink) -> AlarmSink:
        if alarms is None:
            return real
        alarms.service = real
        return alarms

    seams = Seams(frame_sources=source_factory, alarm_sink=sink)
    async with running_service(settings, seams) as service:
        runtime = service.runtime
        yield Site(service.base_url, service.tokens, runtime, runtime.detection)


def site_settings(
    tmp_path: Path,
    models: ModelSettings,
    urls: tuple[str, str],
    zones: list[dict[str, Any]],
    mqtt: dict[str, Any] | None = None,
    **detection: Any,
) -> Settings:
    return Settings.model_validate(
        {
            "storage": StorageSettings(data_dir=tmp_path / "data"),
            "streams": FAST_POLICY,
            "models": models,
            "cameras": (camera("gate", *urls),),
            "detection": {
                "enabled": True,
                "cameras": {"gate": {"zones": zones}},
                **detection,
            },
            "mqtt": mqtt,
        }
    )


def _t(record: Mapping[str, Any], key: str) -> datetime:
    return datetime.fromisoformat(record[key])


# ---- tests -----------------------------------------------------------------------
async def test_bus_clip_raises_exactly_one_crowding_alarm_then_clears_it(
    tmp_path: Path,
    models: ModelSettings,
    bus_server: RtspServer,
    broker: Mosquitto,
) -> None:
    kerb = {"id": "kerb", "name": "公交站", "kind": "crowd", "polygon": KERB,
            "crowding": {"warn_ppm2": None, "warn_count": 3, "min_duration_s": 2}}  # fmt: skip
    urls = (
        bus_server.url("/people_then_empty_main"),
        bus_server.url("/people_then_empty"),
    )
    mqtt = {"url": broker.url, "client_id": "citywall-test"}
    settings = site_settings(tmp_path, models, urls, [kerb], mqtt=mqtt)
    alarms, frames = RecordingAlarms(), Recorder()
    with MqttProbe(broker, "wall/events/#") as mqtt_seen:
        async with detection_site(
            settings, alarms=alarms, source_factory=frames
        ) as site:
            await alarms.wait_for("raise", "crowding", timeout_s=20)
            await alarms.wait_for("clear", "crowding", timeout_s=PEOPLE_S + 4)
            await asyncio.sleep(1.0)  # the clip loops after 12 s: stop well before
            asked_monotonic_s = time.monotonic()
            analysis = (await site.get("/api/v1/cameras/gate/analysis")).json()
            listed = (await site.get("/api/v1/detections?camera_id=gate")).json()
            raised = next(e for e in listed["detections"] if e["kind"] == "raised")
            jpeg = await site.get(raised["snapshot_url"])
            health = site.detection.health()
            (alarm,) = await site.runtime.alarms.list(AlarmQuery.ALL)
        mqtt_records = [json.loads(p) for _, p in await mqtt_seen.drain(2)]

    ops = [op for op, _ in alarms.of("crowding")]
    assert ops[0] == "raise" and ops[-1] == "clear"
    assert ops.count("raise") == 1 and ops.count("clear") == 1  # exactly one alarm
    first, cleared = alarms.of("crowding")[0][1], listed["detections"][0]
    assert cleared["kind"] == "cleared" and cleared["started_at"] == first["started_at"]
    assert first["originator"] == "camera:gate/zone:kerb" and first["count"] >= 3
    assert alarms.calls[0][3] == "major"  # the alarm model's Severity.MAJOR
    assert (alarm.type, str(alarm.originator)) == ("crowding", "camera:gate/zone:kerb")
    assert not alarm.active and alarm.severity == "major"
    assert alarm.count == 0  # never re-raised
    assert alarm.details["kind"] == "raised"
    # raised after min_duration_s of crowding, cleared when the people vanish
    gap_s = frames.max_gap_s()
    assert_rise(first, 2.0, gap_s)
    lasted_s = (_t(cleared, "at") - _t(cleared, "started_at")).total_seconds()
    assert PEOPLE_S - 0.7 <= lasted_s <= PEOPLE_S + gap_s + 0.3, (lasted_s, gap_s)
    assert (
        first["model"]["name"] == "yolox_nano" and len(first["model"]["sha256"]) == 64
    )
    assert {"version", "file_sha256"} <= first["model"].keys()

    picture = cv2.imdecode(np.frombuffer(jpeg.content, np.uint8), cv2.IMREAD_COLOR)
    assert jpeg.headers["content-type"] == "image/jpeg"
    assert picture is not None and picture.shape == (1080, 810, 3)
    transitions = [r for r in mqtt_records if r["kind"] != "updated"]
    assert [r["kind"] for r in transitions] == ["raised", "cleared"]
    assert transitions[0]["id"] == raised["id"]
    assert analysis["state"] == "ok" and not analysis["lagging"]
    assert analysis["zones"][0]["count"] == 0 and analysis["boxes"] == []
    # the service's rate agrees with the frames handed out over its 5 s window,
    # and over the whole run the scheduler never beat analysis_fps (5)
    arrivals = sorted(frames.sources[0].arrivals.values())
    handed_fps = sum(1 for t in arrivals if t >= asked_monotonic_s - 5.0) / 5.0
    assert abs(analysis["fps_analysed"] - handed_fps) <= 0.3 * handed_fps + 0.5
    assert len(arrivals) <= 5.0 * (arrivals[-1] - arrivals[0]) + 2
    assert health.detail["state"] == "ok"
    assert health.detail["letterbox"] == "fit"  # 810x1080 frames in 320x416


async def test_motion_gating_skips_still_frames_and_keeps_the_alarm_timing(
    tmp_path: Path, models: ModelSettings, bus_server: RtspServer
) -> None:
    # the clip is a still photo, then a still grey picture: with gating on the
    # model sees the first frame of each, one frame per max_skip_s, and the
    # change; the rules step on every analysed frame with the carried boxes
    kerb = {"id": "kerb", "name": "公交站", "kind": "crowd", "polygon": KERB,
            "crowding": {"warn_ppm2": None, "warn_count": 3, "min_duration_s": 2}}  # fmt: skip
    urls = (
        bus_server.url("/people_then_empty_main"),
        bus_server.url("/people_then_empty"),
    )
    settings = site_settings(
        tmp_path, models, urls, [kerb],
        motion_gating={"enabled": True, "max_skip_s": 2.0},
    )  # fmt: skip
    alarms, frames = RecordingAlarms(), Recorder()
    async with detection_site(settings, alarms=alarms, source_factory=frames) as site:
        await alarms.wait_for("raise", "crowding", timeout_s=20)
        await alarms.wait_for("clear", "crowding", timeout_s=PEOPLE_S + 4)
        analysis = (await site.get("/api/v1/cameras/gate/analysis")).json()
        analysed, batches = (
            site.detection.cameras["gate"].analysed,
            site.detection.batches,
        )
    ops = [op for op, _ in alarms.of("crowding")]
    assert ops[0] == "raise" and ops[-1] == "clear"
    assert ops.count("raise") == 1 and ops.count("clear") == 1
    first = alarms.of("crowding")[0][1]
    assert_rise(first, 2.0, frames.max_gap_s())
    assert first["count"] >= 3  # carried boxes, not zero
    skipped = analysis["frames_skipped_unchanged"]
    # most analysed frames were still: far fewer inferences than frames
    assert skipped >= analysed // 2, (skipped, analysed)
    assert batches <= analysed - skipped + 1
    assert analysis["frames_analysed"] >= analysed - 5


async def test_intrusion_is_armed_only_while_its_condition_holds(
    tmp_path: Path, models: ModelSettings, bus_server: RtspServer
) -> None:
    hazards = {"intrusion": {"condition": "flood_warning", "clear_after_s": 0.5}}
    quay = {"id": "quay", "kind": "danger", "polygon": KERB, "hazards": hazards}
    urls = (bus_server.url("/people_main"), bus_server.url("/people"))
    settings = site_settings(tmp_path, models, urls, [quay])
    alarms = RecordingAlarms()
    async with detection_site(settings, alarms=alarms) as site:
        watch = site.runtime.bus.subscribe(frozenset({"detection.analysis"}))
        watched_from_s = time.monotonic()
        async with asyncio.timeout(10):
            while site.detection.cameras["gate"].analysed < 10:
                await asyncio.sleep(0.1)
        watched_s = time.monotonic() - watched_from_s
        polled = (await site.get("/api/v1/cameras/gate/analysis")).json()
        published = [e.data for e in await drained(watch)]
        # read after the drain, which runs on while frames are still analysed
        analysed = site.detection.cameras["gate"].analysed
        assert alarms.calls == []  # people in the zone, but disarmed
        listed = (await site.get("/api/v1/detection/conditions")).json()
        assert listed["conditions"] == [
            {"name": "flood_warning", "active": False, "changed_at": None,
             "changed_by": None, "arms": ["camera:gate/zone:quay"]}
        ]  # fmt: skip

        url = f"{site.base_url}/api/v1/detection/conditions/flood_warning"
        async with httpx.AsyncClient() as client:
            refused = await client.put(
                url, json={"active": True}, headers=site.auth(Role.OPERATOR)
            )
            armed = await client.put(
                url, json={"active": True}, headers=site.auth(Role.DUTY_OFFICER)
            )
            await alarms.wait_for("raise", "intrusion", timeout_s=3)
            disarmed = await client.put(
                url, json={"active": False}, headers=site.auth(Role.DUTY_OFFICER)
            )
            await alarms.wait_for("clear", "intrusion", timeout_s=3)
            bad = await client.put(
                f"{url}%20x", json={"active": True}, headers=site.auth(Role.ADMIN)
            )
        audit = await site.runtime.store.list_audit()

    # the overlay's data over the socket: the endpoint's JSON, paced, newest only
    assert published and {p["camera_id"] for p in published} == {"gate"}
    assert all(p.keys() == polled.keys() for p in published)
    assert all(CameraAnalysis.model_validate(p) for p in published)
    counts = [p["frames_analysed"] for p in published]
    assert counts == sorted(set(counts)) and counts[-1] <= analysed
    assert len(published) <= watched_s / 0.25 + 2, (len(published), watched_s)
    assert any(p["boxes"] for p in published)
    assert refused.status_code == 403
    assert armed.status_code == 200 and armed.json()["active"] is True
    assert armed.json()["changed_at"].endswith("Z")  # the wire's time format
    assert disarmed.json()["changed_by"] == "test-duty_officer"
    assert bad.status_code == 422
    raised = alarms.of("intrusion")[0][1]
    assert raised["condition"] == "flood_warning" and raised["count"] >= 3
    assert raised["labels"] == ["person"] * raised["count"]
    assert [op for op, _ in alarms.of("intrusion")][-1] == "clear"
    changes = [e for e in audit if e.action == "detection.condition.set"]
    assert [e.detail["active"] for e in reversed(changes)] == [True, False]
    assert {e.actor for e in changes} == {"test-duty_officer"}


def broken_model(tmp_path: Path) -> ModelSettings:
    """The real manifest with weights that are not an ONNX graph."""
    broken = tmp_path / "models"
    (broken / ".cache").mkdir(parents=True)
    (broken / "yolox_nano.toml").write_bytes(
        (MODELS_DIR / "yolox_nano.toml").read_bytes()
    )
    (broken / ".cache" / "yolox_nano.onnx").write_bytes(b"not an onnx graph")
    return ModelSettings(manifests_dir=broken, cache_dir=broken / ".cache")


async def test_model_load_failure_leaves_the_detector_unavailable_and_video_served(
    tmp_path: Path, models: ModelSettings, rtsp_server: RtspServer
) -> None:
    bad = broken_model(tmp_path)
    zone = {"id": "all", "kind": "crowd", "polygon": [[0, 0], [640, 0], [640, 360]]}
    url = rtsp_server.url("/sub")
    settings = site_settings(tmp_path, bad, (rtsp_server.url("/main"), url), [zone])
    async with detection_site(settings) as site:
        snapshot = await site.get("/api/v1/cameras/gate/snapshot.jpg")
        analysis = (await site.get("/api/v1/cameras/gate/analysis")).json()
        unknown = await site.get("/api/v1/cameras/nope/analysis")
        no_event = await site.get("/api/v1/detections/det-00000001/snapshot.jpg")
        health = site.detection.health()

    assert snapshot.status_code == 200
    assert snapshot.headers["content-type"] == "image/jpeg"
    assert health.status == "degraded" and health.detail["state"] == "unavailable"
    assert "SHA-256" in health.detail["reason"] or "sha256" in health.detail["reason"]
    assert analysis["state"] == "unavailable" and analysis["reason"]
    assert unknown.status_code == 404 and no_event.status_code == 404


class RecordedFrames:
    """A real decoder that notes the arrival of every distinct frame it hands out.

    The detector analyses each new fresh frame it gets exactly once, so the
    notes are the arrival times of the analysed frames: the rules' clock.
    """

    def __init__(self, stream: CameraStream) -> None:
        self.decoder = FrameDecoder(stream)
        self.arrivals: dict[int, float] = {}

    async def __aenter__(self) -> Self:
        await self.decoder.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.decoder.aclose()

    def latest(self) -> DecodedFrame | None:
        frame = self.decoder.latest()
        if frame is not None:
            self.arrivals.setdefault(frame.seq, frame.received_monotonic_s)
        return frame

    def max_gap_s(self) -> float:
        """The longest wait between two analysed frames in this run."""
        times = sorted(self.arrivals.values())
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


class Recorder:
    """A source factory of :class:`RecordedFrames`, keeping them for the test."""

    def __init__(self) -> None:
        self.sources: list[RecordedFrames] = []

    def __call__(self, stream: CameraStream) -> RecordedFrames:
        self.sources.append(RecordedFrames(stream))
        return self.sources[-1]

    def max_gap_s(self) -> float:
        return max(s.max_gap_s() for s in self.sources)


def assert_rise(record: Mapping[str, Any], min_duration_s: float, gap_s: float) -> None:
    """Raised on the first analysed frame ``min_duration_s`` after the start.

    That frame comes at most one frame gap late; ``gap_s`` is the longest gap
    measured in the same run, so a busy machine widens the margin with it.
    """
    rise_s = (_t(record, "at") - _t(record, "started_at")).total_seconds()
    slack_s = 0.01  # both times are millisecond text, their clocks read apart
    assert min_duration_s - slack_s <= rise_s <= min_duration_s + gap_s + slack_s, (
        rise_s,
        gap_s,
    )


class LateFrames(RecordedFrames):
    """Fault: a frame source that hands out frames only once they are old."""

    def __init__(self, stream: CameraStream, delay_s: float) -> None:
        super().__init__(stream)
        self.delay_s = delay_s
        self.seen: deque[DecodedFrame] = deque(maxlen=200)

    def latest(self) -> DecodedFrame | None:
        frame = self.decoder.latest()
        if frame is not None and (not self.seen or self.seen[-1].seq != frame.seq):
            self.seen.append(frame)
        now = time.monotonic()
        old = [f for f in self.seen if f.decoded_monotonic_s + self.delay_s <= now]
        return old[-1] if old else None


def gate_and_calm(
    tmp_path: Path, models: ModelSettings, rtsp_server: RtspServer
) -> Settings:
    """Two analysed cameras, ``gate`` and ``calm``, frames older than 1 s stale."""
    zone = {"id": "all", "kind": "crowd", "polygon": [[0, 0], [640, 0], [640, 360]]}
    main, sub = rtsp_server.url("/main"), rtsp_server.url("/sub")
    return Settings.model_validate(
        {
            "storage": StorageSettings(data_dir=tmp_path / "data"),
            "streams": FAST_POLICY,
            "models": models,
            "cameras": (camera("gate", main, sub), camera("calm", main, sub)),
            "detection": {
                "enabled": True,
                "max_frame_age_s": 1.0,
                "cameras": {"gate": {"zones": [zone]}, "calm": {"zones": [zone]}},
            },
        }
    )


async def test_stale_frames_are_skipped_and_the_camera_is_lagging(
    tmp_path: Path, models: ModelSettings, rtsp_server: RtspServer
) -> None:
    def sources(stream: CameraStream) -> AbstractAsyncContextManager[FrameSource]:
        if stream.key.camera_id == "gate":
            return LateFrames(stream, delay_s=1.5)
        return FrameDecoder(stream)

    settings = gate_and_calm(tmp_path, models, rtsp_server)
    async with detection_site(settings, source_factory=sources) as site:
        watch = site.runtime.bus.subscribe(frozenset({"detection.analysis"}))
        published: list[dict[str, Any]] = []
        # until both cameras are published on their own, the lagging one
        # flagged, with a few frames behind each figure
        async with asyncio.timeout(30):
            while True:
                published += [e.data for e in await drained(watch)]  # 50 ms poll
                gate = (await site.get("/api/v1/cameras/gate/analysis")).json()
                calm = (await site.get("/api/v1/cameras/calm/analysis")).json()
                if (
                    any(p["camera_id"] == "gate" and p["lagging"] for p in published)
                    and any(
                        p["camera_id"] == "calm" and p["state"] == "ok"
                        for p in published
                    )
                    and gate["frames_skipped_stale"] >= 5
                    and calm["frames_analysed"] >= 5
                ):
                    break
        health = site.detection.health()

    assert gate["lagging"] and gate["frames_analysed"] == 0
    assert gate["frames_skipped_stale"] >= 5 and gate["last_frame_age_s"] > 1.0
    assert calm["state"] == "ok" and calm["frames_analysed"] >= 5
    assert health.status == "degraded"
    assert health.detail["state"] == "lagging"
    assert health.detail["lagging_cameras"] == ["gate"]


@pytest.mark.parametrize(
    ("detection", "key"),
    [
        ({"enabled": True, "cameras": {"ghost": {}}}, "no camera with id 'ghost'"),
        ({"analysis_fps": 0}, "detection.analysis_fps"),
        ({"frame_rate": 5}, "detection.frame_rate"),
        (
            {
                "cameras": {
                    "gate": {
                        "zones": [
                            {"id": "z", "kind": "crowd", "polygon": [[0, 0], [1, 1]]}
                        ]
                    }
                }
            },
            "detection.cameras.gate.zones[0].polygon",
        ),
        (
            {"cameras": {"gate": {"crowding": {"warn_ppm2": 2, "clear_ppm2": 3}}}},
            "detection.cameras.gate.crowding",
        ),
    ],
)
def test_config_errors_name_the_key(detection: dict[str, Any], key: str) -> None:
    text = json.dumps(
        {
            "cameras": [
                {
                    "id": "gate",
                    "name": "gate",
                    "streams": {"main": {"url": "rtsp://h/x"}},
                }
            ],
            "detection": detection,
        }
    )
    with pytest.raises(ConfigError) as err:
        parse_settings(text)
    assert key in str(err.value)


async def drained(sub: BusSubscription) -> list[Event]:
    """The events queued on a subscription so far."""
    out: list[Event] = []
    while True:
        try:
            async with asyncio.timeout(0.05):
                event = await sub.get()
        except TimeoutError:
            return out
        if event is None:
            return out
        out.append(event)


class MqttProbe:
    """A paho subscriber (own thread) collecting messages of one filter."""

    def __init__(self, broker: Mosquitto, topic: str) -> None:
        self.queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self.loop = asyncio.get_running_loop()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="probe")
        self.client.on_message = self._on_message
        self.port, self.topic = broker.port, topic

    def _on_message(self, client: paho.Client, _: Any, msg: paho.MQTTMessage) -> None:
        item = (msg.topic, bytes(msg.payload))
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)

    def __enter__(self) -> Self:
        self.client.connect("127.0.0.1", self.port)
        self.client.subscribe(self.topic, qos=1)
        self.client.loop_start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    async def drain(
        self, at_least: int, timeout_s: float = 5.0
    ) -> list[tuple[str, bytes]]:
        out: list[tuple[str, bytes]] = []
        async with asyncio.timeout(timeout_s):
            while len(out) < at_least:
                out.append(await self.queue.get())
        while not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out


def whole_picture_site(
    tmp_path: Path, models: ModelSettings, server: RtspServer
) -> Settings:
    """Camera ``gate`` on the people clip, one crowd zone over the whole picture."""
    urls = (server.url("/people_main"), server.url("/people"))
    zone = {
        "id": "all",
        "name": "全景",
        "kind": "crowd",
        "polygon": [[0, 0], [810, 0], [810, 1080], [0, 1080]],
    }
    return site_settings(tmp_path, models, urls, [zone])


async def test_the_runtime_runs_its_own_detector_through_the_real_app(
    tmp_path: Path,
    models: ModelSettings,
    bus_server: RtspServer,
) -> None:
    # the production wiring (Runtime + create_app), not the test-owned detector
    settings = whole_picture_site(tmp_path, models, bus_server)
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        async with asyncio.timeout(20):
            while True:
                health = (await c.get("/healthz")).json()["components"]["detector"]
                if health["status"] == "ok" and health.get("fps_analysed", 0) > 0:
                    break
                await asyncio.sleep(0.2)
        r = await c.get("/api/v1/cameras/gate/analysis", headers=svc.auth())
        assert r.status_code == 200, r.text
        r = await c.put(
            "/api/v1/detection/conditions/flood_warning",
            json={"active": True},
            headers=svc.auth(Role.DUTY_OFFICER),
        )
        assert r.status_code == 200, r.text


@pytest.mark.browser
async def test_a_camera_tile_can_overlay_boxes_and_zone_counts(
    tmp_path: Path,
    models: ModelSettings,
    bus_server: RtspServer,
) -> None:
    settings = whole_picture_site(tmp_path, models, bus_server)
    settings = settings.model_copy(
        update={"walls": (WallSettings(id="main", name="主屏", rows=1, cols=1),)}
    )
    layout = {
        "version": 1,
        "id": "overlay_1x1",
        "name": "检测叠加",
        "domain": "mixed",
        "for_wall": {"rows": 1, "cols": 1},
        "tiles": [
            {
                "id": "cam",
                "rect": {"x": 0, "y": 0, "w": 1920, "h": 1080},
                "title": "公交站",
                "content": {
                    "kind": "camera",
                    "camera_id": "gate",
                    "overlay_detections": True,
                },
            }
        ],
    }
    async with (
        running_service(settings) as svc,
        chromium() as browser,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        assert (
            await c.post("/api/v1/layouts", json=layout, headers=svc.auth())
        ).status_code == 201
        r = await c.post(
            "/api/v1/walls/main/layout",
            json={"layout_id": "overlay_1x1"},
            headers=svc.auth(),
        )
        assert r.status_code == 200
        page = await browser.new_page(viewport={"width": 960, "height": 540})
        seen: list[int] = []
        page.on(
            "response",
            lambda resp: seen.append(resp.status) if "/analysis" in resp.url else None,
        )
        await page.goto(f"{svc.base_url}/wall/main#token={svc.tokens[Role.VIEWER]}")
        await page.wait_for_selector("canvas.overlay", timeout=10_000)
        # boxes of the people in the picture are drawn (blue pixels on the overlay)
        await page.wait_for_function(
            """() => { const c = document.querySelector('canvas.overlay'); if (!c || !c.width) return false;
                       const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                       for (let i = 0; i < d.length; i += 4) if (d[i+3] > 0 && d[i+2] > 200 && d[i] < 100) return true;
                       return false }""",
            timeout=20_000,
        )
        # the overlay comes over the socket (detection.analysis): no polling
        assert seen == []

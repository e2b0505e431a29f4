"""Detection service: sub-stream frames → batched ONNX inference → zone rules.

Per analysed camera a :class:`~devices.cameras.decoder.FrameDecoder` decodes the
sub stream on its own thread into a latest-frame mailbox. The scheduler (one
task on the loop) takes each camera's newest frame at ``analysis_fps``
(latest-frame-wins); a frame older than ``max_frame_age_s`` is never analysed
and flags the camera ``lagging`` (X4). Due frames are batched *across*
cameras and run by :class:`~wall.detection.batches.BatchRunner` (BGR,
letterbox and postprocessing on one prep thread, ``session.run`` alone in a
pool of ``workers`` threads, HS8). Up to twice as many batches as workers,
plus one, are in flight, so a worker finds the next batch ready. Results
come back to the loop, where the tracker, zone counts and the crowding /
intrusion / loitering state machines step
(:func:`~wall.detection.camera_run.step_rules`); their changes go to
:class:`~wall.detection.events.DetectionEvents` (alarms, records, bus, MQTT,
snapshots), and each camera's live analysis goes on the bus
(``detection.analysis``, about 4 a second at most). Conditional intrusion
rules read the arming conditions through
:class:`~wall.detection.arming.ArmingConditions`. A model that cannot load
leaves the service running with the detector ``unavailable`` and video
untouched (X1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from devices.cameras.camera import CameraStream
from devices.cameras.config import StreamRole
from devices.cameras.decoder import DecodedFrame, FrameDecoder
from devices.cameras.fleet import CameraFleet
from vision.errors import InferenceFailed, ManifestInvalid, ModelUnavailable
from vision.hazards import IntrusionRule
from vision.types import Detection
from wall.detection.alarm_sink import AlarmSink
from wall.detection.analysis import CameraAnalysis, CameraState, camera_analysis
from wall.detection.arming import ArmingConditions
from wall.detection.batches import BatchRunner
from wall.detection.camera_run import CameraRun, FrameSource, step_rules
from wall.detection.core import (
    AnalysisThrottle,
    DetectionChange,
    FrameContext,
    originator,
)
from wall.detection.events import DetectionEvents, MessagePublisher
from wall.detection.model import ModelPaths, open_model
from wall.detection.repository import DetectionRepository
from wall.detection.settings import DetectionSettings, camera_plan
from wall.detection.status import detector_health
from wall.detection.topics import DETECTION_ANALYSIS
from wall.platform.clock import utc_now
from wall.platform.event_bus import EventBus
from wall.platform.health import ComponentHealth

__all__ = ["CameraRun", "DetectionService", "FrameSource", "SourceFactory"]

log = logging.getLogger(__name__)

LAG_HOLD_S = 5.0  # a camera stays 'lagging' this long after a stale frame
NO_FRAME_POLL_S = 0.01  # look again this soon when a due camera has no new frame
ANALYSIS_INTERVAL_S = 0.25  # live analysis on the bus: about 4 a second per camera


SourceFactory = Callable[[CameraStream], AbstractAsyncContextManager[FrameSource]]
"""Opens the frame source of a stream (tests wrap it to inject faults)."""


class DetectionService:
    """Owns the detector: model session, frame sources, scheduler and rules.

    Use as ``async with DetectionService(...) as detection:``.

    Args:
        settings: The ``detection:`` section.
        models: Where manifests and weights are.
        fleet: The started camera fleet.
        events: Where event records are kept.
        bus: Internal event bus (``detection.event``, ``detection.analysis``).
        alarms: The alarm service, if any.
        mqtt: Outbound MQTT, if any.
        conditions: The arming conditions (None: none ever holds).
        source_factory: Frame source per stream (a ``FrameDecoder`` by default).
        clock: Monotonic clock in seconds (the decoders' time base).
        wall_clock: Current UTC time.
        snapshot_dir: Where event JPEGs are kept (None: the newest in memory).
    """

    def __init__(
        self,
        settings: DetectionSettings,
        models: ModelPaths,
        fleet: CameraFleet,
        events: DetectionRepository,
        bus: EventBus,
        *,
        alarms: AlarmSink | None = None,
        mqtt: MessagePublisher | None = None,
        conditions: ArmingConditions | None = None,
        source_factory: SourceFactory = FrameDecoder,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utc_now,
        snapshot_dir: Path | None = None,
    ) -> None:
        self.settings, self.models, self.fleet, self.bus = settings, models, fleet, bus
        self._source_factory, self._clock = source_factory, clock
        self.state: Literal["not_configured", "starting", "ok", "unavailable"] = (
            "starting" if settings.enabled and settings.cameras else "not_configured"
        )
        self.reason: str | None = None
        self.cameras = {
            cid: CameraRun(camera_plan(cid, cs)) for cid, cs in settings.cameras.items()
        }
        self.conditions = conditions
        if conditions is not None:
            self._declare_arms(conditions)
        self.events = DetectionEvents(
            events,
            bus,
            max_events=settings.max_events,
            snapshots=settings.snapshots,
            update_interval_s=settings.update_interval_s,
            snapshot_dir=snapshot_dir,
            alarms=alarms,
            mqtt=mqtt,
            clock=clock,
            wall_clock=wall_clock,
        )
        self.runner: BatchRunner | None = None
        self.model_identity: dict[str, str] = {}
        self._stack = AsyncExitStack()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._in_flight = 0
        self._analysis = AnalysisThrottle(ANALYSIS_INTERVAL_S)
        self.failures = 0

    def _declare_arms(self, conditions: ArmingConditions) -> None:
        """Tell the conditions which intrusion rules each one arms."""
        arms: dict[str, list[str]] = {}
        for cam in self.cameras.values():
            for h in cam.plan.hazards:
                if isinstance(h.rule, IntrusionRule) and h.rule.condition:
                    origin = originator(cam.plan.camera_id, h.zone_id)
                    arms.setdefault(h.rule.condition, []).append(origin)
        for name, origins in arms.items():
            conditions.declare_arms(name, origins)

    @property
    def batches(self) -> int:
        """Inference calls made."""
        return 0 if self.runner is None else self.runner.batches

    @property
    def inference_s(self) -> float:
        """Seconds spent in ``session.run``, summed."""
        return 0.0 if self.runner is None else self.runner.inference_s

    @property
    def letterbox(self) -> str:
        """The letterbox in use: ``fit`` needs a model with a dynamic input size."""
        fit = self.runner is not None and self.runner.pipeline.stride
        return "fit" if fit else "square"

    # ---- lifecycle --------------------------------------------------------------
    async def __aenter__(self) -> DetectionService:
        if self.state == "not_configured":
            self.reason = "detection is disabled or has no cameras"
            return self
        await self.events.load()
        classes = set().union(*(c.plan.classes for c in self.cameras.values()))
        try:
            model = await asyncio.to_thread(
                open_model, self.settings, self.models, classes
            )
        except (ModelUnavailable, ManifestInvalid, ValueError) as err:
            self.state, self.reason = "unavailable", str(err)
            log.error("detector[%s] unavailable: %s", self.settings.model, err)
            return self
        self.model_identity = model.identity
        self.runner = BatchRunner(model, self.settings)
        try:
            await self._open_sources()
        except BaseException:
            await self.aclose()
            raise
        self._task = asyncio.create_task(self._schedule(), name="detector scheduler")
        self.state = "ok"
        log.info("detector[%s] analysing %d camera(s)", self.settings.model,
                 len(self.cameras))  # fmt: skip
        return self

    async def _open_sources(self) -> None:
        """Open the sub-stream frame source of every analysed camera."""
        for cid, cam in self.cameras.items():
            camera = self.fleet.cameras.get(cid)
            if camera is None:
                log.warning("detector: camera[%s] is not configured", cid)
                continue
            stream = camera.stream(StreamRole.SUB)
            cam.role, cam.due_s = stream.key.role.value, self._clock()
            source = self._source_factory(stream)
            cam.source = await self._stack.enter_async_context(source)

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the scheduler, join the workers, stop the sources; idempotent."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])  # absorbs its cancellation, not ours
            self._task = None
        if self.runner is not None:
            await self.runner.aclose()
        await self._stack.aclose()

    # ---- scheduling -------------------------------------------------------------
    async def _schedule(self) -> None:
        period = 1.0 / self.settings.analysis_fps
        size = self.settings.batch_size
        # a batch queued behind each running one, and one being prepared: each
        # batch hops loop -> prep -> worker -> prep -> loop, and on a busy
        # machine those hops wait for a core. With only workers + 1 in flight
        # the workers sat idle between batches under load (16 cameras: 4.05
        # fps each with the workers at 0.65 cores and 0.2 cores free).
        max_in_flight = 2 * self.settings.workers + 1
        async with asyncio.TaskGroup() as tg:
            while True:
                self._wake.clear()
                now = self._clock()
                self._publish_analyses(now)
                ready = self._due_frames(now)
                while ready and self._in_flight < max_in_flight:
                    chunk, ready = ready[:size], ready[size:]
                    for cam, frame in chunk:
                        cam.busy, cam.last_seq = True, frame.seq
                        cam.due_s = max(cam.due_s + period, now)
                    self._in_flight += 1
                    tg.create_task(self._batch(chunk), name="detector batch")
                idle = [c.due_s - now for c in self.cameras.values() if not c.busy]
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.005, min([period, *idle]))):
                        await self._wake.wait()

    def _due_frames(self, now: float) -> list[tuple[CameraRun, DecodedFrame]]:
        """The newest unanalysed frame of each due camera; stale ones skipped."""
        ready = []
        for cam in self.cameras.values():
            if cam.busy or cam.source is None or now < cam.due_s:
                continue
            frame = cam.source.latest()
            if frame is None or frame.seq == cam.last_seq:
                cam.due_s = now + NO_FRAME_POLL_S  # no new picture yet
                continue
            if self._fresh(cam, now - frame.received_monotonic_s, now):
                ready.append((cam, frame))
            else:
                cam.last_seq = frame.seq  # skipped for good
        # longest-waiting first: under overload every camera slows down evenly
        # instead of the first ones in the config starving the rest
        return sorted(ready, key=lambda item: item[0].due_s)

    def _fresh(self, cam: CameraRun, age_s: float, now: float) -> bool:
        """False (and the camera lagging) for a frame older than the limit (X4)."""
        cam.last_age_s = age_s
        if age_s <= self.settings.max_frame_age_s:
            return True
        cam.stale += 1
        if cam.lagging_until_s < now:
            log.warning("detector: camera[%s] lagging, frame %.1f s old",
                        cam.plan.camera_id, age_s)  # fmt: skip
        cam.lagging_until_s = now + LAG_HOLD_S
        return False

    async def _batch(self, chunk: list[tuple[CameraRun, DecodedFrame]]) -> None:
        """Run one batch, step the rules of its frames, emit their changes."""
        changes: list[tuple[DetectionChange, FrameContext]] = []
        try:
            if self.runner is None:
                raise InferenceFailed(self.settings.model, "model not loaded")
            for (cam, frame), bgr, dets in await self.runner.run(chunk):
                stepped = self._step(cam, frame, bgr, dets)
                changes.extend((c, self._context(cam, c.zone_id)) for c in stepped)
        except InferenceFailed as err:
            self.failures += 1
            log.warning("detector[%s] inference failed: %s", self.settings.model, err)
        except Exception:  # a bug in one batch must not end the scheduler
            self.failures += 1
            log.exception("detector[%s] batch failed", self.settings.model)
        finally:
            self._in_flight -= 1
            for cam, _ in chunk:
                cam.busy = False
            self._wake.set()
        for change, context in changes:
            try:
                await self.events.emit(change, context)
            except Exception:  # a failing sink must not stop detection
                log.exception("detector: cannot emit a %s event", change.type)

    # ---- rules ---------------------------------------------------------------------
    def _step(
        self,
        cam: CameraRun,
        frame: DecodedFrame,
        bgr: NDArray[np.uint8],
        dets: tuple[Detection, ...],
    ) -> list[DetectionChange]:
        """Tracker, zone counts and state machines for one analysed frame."""
        now = self._clock()
        if not self._fresh(cam, now - frame.received_monotonic_s, now):
            return []
        t = frame.received_monotonic_s  # arrival time: the rules' clock
        armed = frozenset() if self.conditions is None else self.conditions.active()
        changes = step_rules(cam, dets, t, armed)
        cam.frame_bgr, cam.detections = bgr, dets
        cam.analysed += 1
        cam.rate.add(now, 0)
        return self.events.admit(cam.plan.camera_id, changes, now)

    def _context(self, cam: CameraRun, zone_id: str) -> FrameContext:
        """The frame a change was seen in, captured before the next one (X5)."""
        zone = next(z for z in cam.plan.zones if z.zone_id == zone_id)
        return FrameContext(cam.plan.camera_id, cam.plan.names[zone_id],
                            zone.polygon_px, cam.frame_bgr, cam.detections,
                            self.model_identity)  # fmt: skip

    def _publish_analyses(self, now: float) -> None:
        """Each analysed camera's live analysis on the bus, when due."""
        for camera_id, cam in self.cameras.items():
            if cam.source is None:
                continue
            marker = (cam.analysed, cam.stale, cam.lagging_until_s >= now)
            if self._analysis.due(camera_id, marker, now):
                self.bus.emit(DETECTION_ANALYSIS, self.analysis(camera_id))

    # ---- queries (API, health) --------------------------------------------------
    def camera_state(self, camera_id: str) -> CameraState:
        """``unavailable``, ``not_analysed``, ``waiting``, ``lagging`` or ``ok``."""
        cam = self.cameras[camera_id]
        if self.state != "ok":
            return "unavailable" if self.state == "unavailable" else "not_analysed"
        if cam.source is None:
            return "not_analysed"
        if cam.lagging_until_s >= self._clock():
            return "lagging"
        return "ok" if cam.analysed else "waiting"

    def fps_analysed(self, camera_id: str) -> float:
        """Frames of a camera analysed per second over the last few seconds."""
        return self.cameras[camera_id].rate.fps(self._clock())

    def analysis(self, camera_id: str) -> CameraAnalysis:
        """The live analysis of an analysed camera (KeyError for another)."""
        return camera_analysis(
            self.cameras[camera_id],
            self.camera_state(camera_id),
            self.reason,
            self.fps_analysed(camera_id),
            lambda zone_id: self.events.active_alarms(camera_id, zone_id),
        )

    def health(self) -> ComponentHealth:
        """The ``detector`` component: ok, unavailable, lagging or not_configured."""
        return detector_health(self)

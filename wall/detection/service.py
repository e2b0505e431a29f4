"""Detection service: sub-stream frames → batched ONNX inference → zone rules.

Per analysed camera a :class:`~devices.cameras.decoder.FrameDecoder` decodes the
sub stream on its own thread into a latest-frame mailbox. The scheduler (one
task on the loop) takes each camera's newest frame at ``analysis_fps``
(latest-frame-wins); a frame older than ``max_frame_age_s`` is never analysed
and flags the camera ``lagging`` (X4). Due frames are batched *across*
cameras. Conversion to BGR, letterbox (into the smallest stride-aligned
canvas when the model's input size is dynamic) and postprocessing run in one
worker thread and ``session.run`` alone in a pool of ``workers`` threads (HS8),
each call single-threaded by default: parallel batches keep the cores busy
without onnxruntime's intra-op spin-waiting. Up to twice as many batches as
workers, plus one, are in flight, so a worker finds the next batch ready.
Results come back to the loop, where the tracker, zone counts and the crowding
/ intrusion / loitering state machines step
(:func:`~wall.detection.camera_run.step_rules`); their changes go to
:class:`~wall.detection.events.DetectionEvents` (alarms, records, bus, MQTT,
snapshots). A model that cannot load leaves the service running with the
detector ``unavailable`` and video untouched (X1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from devices.cameras.camera import CameraStream
from devices.cameras.config import StreamRole
from devices.cameras.decoder import DecodedFrame, FrameDecoder
from devices.cameras.fleet import CameraFleet
from vision.errors import InferenceFailed, ManifestInvalid, ModelUnavailable
from vision.hazards import IntrusionRule
from vision.manifest import load_manifests
from vision.motion import MotionState
from vision.onnx.session import ModelSession, SessionOptions
from vision.pipeline import DetectionPipeline
from vision.types import Detection
from wall.config.settings import ModelSettings
from wall.detection.camera_run import CameraRun, FrameSource, step_rules
from wall.detection.events import (
    AlarmSink,
    DetectionChange,
    DetectionEvents,
    FrameContext,
    MessagePublisher,
    alarm_severity,
)
from wall.detection.frames import PreparedFrames, prepare_frames
from wall.detection.settings import DetectionSettings, camera_plan
from wall.platform.event_bus import EventBus
from wall.platform.health import ComponentHealth, Status
from wall.platform.store.sqlite import Store
from wall.platform.wire import JsonValue

__all__ = ["CameraRun", "DetectionService", "FrameSource", "SourceFactory"]

log = logging.getLogger(__name__)

LAG_HOLD_S = 5.0  # a camera stays 'lagging' this long after a stale frame
NO_FRAME_POLL_S = 0.01  # look again this soon when a due camera has no new frame


SourceFactory = Callable[[CameraStream], AbstractAsyncContextManager[FrameSource]]
"""Opens the frame source of a stream (tests wrap it to inject faults)."""


class DetectionService:
    """Owns the detector: model session, frame sources, scheduler and rules.

    Use as ``async with DetectionService(...) as detection:``.

    Args:
        settings: The ``detection:`` section.
        models: Where manifests and weights are.
        fleet: The started camera fleet.
        store: Event records, conditions and the audit log.
        bus: Internal event bus (``detection.event``, ``detection.condition``).
        alarms: The alarm service, if any.
        mqtt: Outbound MQTT, if any.
        source_factory: Frame source per stream (a ``FrameDecoder`` by default).
        severity_of: Maps a severity name to the alarm model's value.
        clock: Monotonic clock in seconds (the decoders' time base).
        wall_clock: Current UTC time.
        snapshot_dir: Where event JPEGs are kept (None: the newest in memory).
    """

    def __init__(
        self,
        settings: DetectionSettings,
        models: ModelSettings,
        fleet: CameraFleet,
        store: Store,
        bus: EventBus,
        *,
        alarms: AlarmSink | None = None,
        mqtt: MessagePublisher | None = None,
        source_factory: SourceFactory = FrameDecoder,
        severity_of: Callable[[str], object] = alarm_severity,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        snapshot_dir: Path | None = None,
    ) -> None:
        self.settings, self.models, self.fleet = settings, models, fleet
        self._source_factory, self._clock = source_factory, clock
        self.state: Literal["not_configured", "starting", "ok", "unavailable"] = (
            "starting" if settings.enabled and settings.cameras else "not_configured"
        )
        self.reason: str | None = None
        self.cameras = {
            cid: CameraRun(camera_plan(cid, cs)) for cid, cs in settings.cameras.items()
        }
        arms: dict[str, list[str]] = {}
        for cam in self.cameras.values():
            for h in cam.plan.hazards:
                if isinstance(h.rule, IntrusionRule) and h.rule.condition:
                    origin = f"camera:{cam.plan.camera_id}/zone:{h.zone_id}"
                    arms.setdefault(h.rule.condition, []).append(origin)
        self.events = DetectionEvents(
            store,
            bus,
            max_events=settings.max_events,
            snapshots=settings.snapshots,
            update_interval_s=settings.update_interval_s,
            snapshot_dir=snapshot_dir,
            alarms=alarms,
            mqtt=mqtt,
            arms=arms,
            severity_of=severity_of,
            clock=clock,
            wall_clock=wall_clock,
        )
        self.pipeline: DetectionPipeline | None = None
        self.session: ModelSession | None = None
        self.model_identity: dict[str, JsonValue] = {}
        self._prep: ThreadPoolExecutor | None = None  # BGR, letterbox, postprocess
        self._infer: ThreadPoolExecutor | None = None  # session.run only
        self._stack = AsyncExitStack()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._in_flight = 0
        self.batches, self.failures, self.inference_s = 0, 0, 0.0

    # ---- lifecycle --------------------------------------------------------------
    async def __aenter__(self) -> DetectionService:
        if self.state == "not_configured":
            self.reason = "detection is disabled or has no cameras"
            return self
        await self.events.load()
        try:
            self.pipeline, session = await asyncio.to_thread(self._open_model)
        except (ModelUnavailable, ManifestInvalid, ValueError) as err:
            self.state, self.reason = "unavailable", str(err)
            log.error("detector[%s] unavailable: %s", self.settings.model, err)
            return self
        self.session, identity = session, session.identity
        self.model_identity = {"name": identity.name, "version": identity.version,
                               "sha256": identity.sha256,
                               "file_sha256": session.sha256}  # fmt: skip
        self._prep = ThreadPoolExecutor(1, thread_name_prefix="detector-prep")
        self._infer = ThreadPoolExecutor(
            self.settings.workers, thread_name_prefix="detector"
        )
        try:
            for cid, cam in self.cameras.items():
                camera = self.fleet.cameras.get(cid)
                if camera is None:
                    log.warning("detector: camera[%s] is not configured", cid)
                    continue
                stream = camera.stream(StreamRole.SUB)
                cam.role, cam.due_s = stream.key.role.value, self._clock()
                source = self._source_factory(stream)
                cam.source = await self._stack.enter_async_context(source)
        except BaseException:
            await self.aclose()
            raise
        self._task = asyncio.create_task(self._schedule(), name="detector scheduler")
        self.state = "ok"
        log.info("detector[%s] analysing %d camera(s)", self.settings.model,
                 len(self.cameras))  # fmt: skip
        return self

    def _open_model(self) -> tuple[DetectionPipeline, ModelSession]:
        """Worker thread: find the manifest, build the pipeline, open and warm up."""
        s = self.settings
        manifests = load_manifests(self.models.manifests_dir)
        manifest = next((m for m in manifests if m.name == s.model), None)
        if manifest is None:
            raise ModelUnavailable(s.model, f"no manifest named {s.model!r}")
        classes = set().union(*(c.plan.classes for c in self.cameras.values()))
        options = SessionOptions(intra_op_threads=s.threads)
        session = ModelSession.open(manifest, self.models.cache_dir, options)
        fit = s.letterbox == "fit" and session.dynamic_size
        if s.letterbox == "fit" and not fit:
            log.info("detector[%s] input size is fixed: letterboxing into the "
                     "full square", s.model)  # fmt: skip
        pipeline = DetectionPipeline(
            manifest,
            score_threshold=s.score_threshold,
            classes=classes or None,
            fit_canvas=fit,
        )
        return pipeline, session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the scheduler, join the workers, stop the sources; idempotent."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])  # absorbs its cancellation, not ours
            self._task = None
        for pool in (self._prep, self._infer):
            if pool is not None:  # a batch in progress finishes first
                await asyncio.to_thread(pool.shutdown, True)
        self._prep = self._infer = None
        await self._stack.aclose()

    # ---- scheduling and inference -------------------------------------------------
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

    def _prepare(
        self, frames: list[DecodedFrame], gates: list[MotionState]
    ) -> PreparedFrames:
        """Prep thread: BGR, motion gate, and one letterboxed batch of the rest."""
        if self.pipeline is None:
            raise InferenceFailed(self.settings.model, "model not loaded")
        gating = self.settings.motion_gating
        rule = gating.rule() if gating.enabled else None
        return prepare_frames(self.pipeline, frames, gates, rule)

    def _run(self, tensor: NDArray[np.float32]) -> tuple[NDArray[np.float32], float]:
        """Inference thread: one batched run and nothing else (runs back to back)."""
        if self.session is None:
            raise InferenceFailed(self.settings.model, "model not loaded")
        t0 = time.perf_counter()
        return self.session.run(tensor), time.perf_counter() - t0

    async def _batch(self, chunk: list[tuple[CameraRun, DecodedFrame]]) -> None:
        loop = asyncio.get_running_loop()
        changes: list[tuple[DetectionChange, FrameContext]] = []
        try:
            frames = [f for _, f in chunk]
            gates = [cam.motion for cam, _ in chunk]
            ready = await loop.run_in_executor(self._prep, self._prepare, frames, gates)
            batch, inferred = ready.batch, []
            if batch is not None:
                out, seconds = await loop.run_in_executor(
                    self._infer, self._run, batch.tensor
                )
                if self.pipeline is None:
                    raise InferenceFailed(self.settings.model, "model not loaded")
                post = self.pipeline.postprocess
                inferred = await loop.run_in_executor(
                    self._prep, post, out, batch.infos
                )
                self.batches += 1
                self.inference_s += seconds
            fresh = iter(inferred)
            results = []
            for (cam, _), gate, ran in zip(
                chunk, ready.gates, ready.inferred, strict=True
            ):
                # an unchanged picture: the last detections still describe it
                results.append(next(fresh) if ran else cam.detections)
                cam.motion = gate
            for (cam, frame), bgr, dets in zip(chunk, ready.bgrs, results, strict=True):
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
        changes = step_rules(cam, dets, t, self.events.active_conditions)
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

    # ---- queries (API, health) --------------------------------------------------
    def camera_state(self, camera_id: str) -> str:
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

    def health(self) -> ComponentHealth:
        """The ``detector`` component: ok, unavailable, lagging or not_configured."""
        detail: dict[str, Any] = {"state": self.state, "reason": self.reason}
        if self.state == "not_configured":
            return ComponentHealth("detector", Status.NOT_CONFIGURED, detail)
        if self.state != "ok":
            return ComponentHealth("detector", Status.DEGRADED, detail)
        detail |= {
            "model": self.settings.model,
            # the letterbox in use: "fit" needs a model with a dynamic input size
            "letterbox": "fit" if self.pipeline and self.pipeline.stride else "square",
            "cameras": len(self.cameras),
            "fps_analysed": round(sum(map(self.fps_analysed, self.cameras)), 2),
            "batches": self.batches,
            "frames_skipped_unchanged": sum(
                c.motion.skipped for c in self.cameras.values()
            ),
            "inference_failures": self.failures,
            "mean_batch_ms": round(1000 * self.inference_s / max(1, self.batches), 1),
        }
        lagging = sorted(c for c in self.cameras if self.camera_state(c) == "lagging")
        if not lagging:
            return ComponentHealth("detector", Status.OK, detail)
        detail |= {
            "state": "lagging",
            "reason": f"frames older than {self.settings.max_frame_age_s:g} s skipped",
            "lagging_cameras": lagging,
        }
        return ComponentHealth("detector", Status.DEGRADED, detail)

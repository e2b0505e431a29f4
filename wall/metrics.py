"""Prometheus metrics, read from live state at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from devices.cameras.health import StreamState
from wall.detection.service import DetectionService
from wall.runtime import Runtime

DETECTOR_STATES = ("ok", "unavailable", "not_configured", "starting")
"""Every value of ``DetectionService.state``, each exported as a series."""


class RuntimeCollector(Collector):
    """Collects camera, relay, bus and detector figures from a runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        """Yield the metric families."""
        labels = ["camera", "stream"]
        state = GaugeMetricFamily(
            "citywall_stream_state",
            "1 for the stream's current state",
            labels=[*labels, "state"],
        )
        fps = GaugeMetricFamily(
            "citywall_stream_fps", "Measured packets per second", labels=labels
        )
        bps = GaugeMetricFamily(
            "citywall_stream_bitrate_bps", "Measured bits per second", labels=labels
        )
        users = GaugeMetricFamily(
            "citywall_stream_users", "Current users of the stream", labels=labels
        )
        reconnects = CounterMetricFamily(
            "citywall_stream_reconnects", "Reconnections since start", labels=labels
        )
        for stream in self.runtime.fleet.streams():
            h = stream.health()
            key = [stream.key.camera_id, stream.key.role.value]
            for s in StreamState:
                state.add_metric([*key, s.value], 1.0 if h.state is s else 0.0)
            fps.add_metric(key, h.fps)
            bps.add_metric(key, h.bitrate_bps)
            users.add_metric(key, h.viewers)
            reconnects.add_metric(key, h.reconnects)
        yield from (state, fps, bps, users, reconnects)
        viewers = GaugeMetricFamily(
            "citywall_live_viewers", "Open WebRTC viewer sessions"
        )
        viewers.add_metric([], self.runtime.relay.viewer_count)
        yield viewers
        published = CounterMetricFamily(
            "citywall_events_published", "Events published on the bus"
        )
        published.add_metric([], self.runtime.bus.published)
        yield published
        dropped = GaugeMetricFamily(
            "citywall_events_dropped",
            "Events dropped for slow subscribers (current subscribers)",
        )
        dropped.add_metric([], self.runtime.bus.dropped_total)
        yield dropped
        yield from DetectorCollector(self.runtime.detection).collect()


class DetectorCollector(Collector):
    """Collects the detector's state, per-camera analysis and inference figures.

    Reads the service at scrape time on the event loop, the only thread that
    changes its counters, so one scrape is a consistent picture.

    Args:
        detection: The detection service (the runtime's ``detection``).
    """

    def __init__(self, detection: DetectionService) -> None:
        self.detection = detection

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        """Yield the metric families; only the state when detection is off."""
        d = self.detection
        state = GaugeMetricFamily(
            "citywall_detector_state",
            "1 for the detector's current state",
            labels=["state"],
        )
        # every state gets a series (0 or 1) so an alert on 'unavailable' has a
        # series to watch before the first failure
        for s in DETECTOR_STATES:
            state.add_metric([s], 1.0 if d.state == s else 0.0)
        yield state
        if d.state == "not_configured":
            # the cameras of a disabled detection section are not analysed:
            # zero-valued series for them would read as a stalled detector
            return
        labels = ["camera"]
        analysed = CounterMetricFamily(
            "citywall_detector_frames_analysed",
            "Frames analysed by the detector",
            labels=labels,
        )
        stale = CounterMetricFamily(
            "citywall_detector_frames_skipped_stale",
            "Frames skipped for being older than max_frame_age_s",
            labels=labels,
        )
        unchanged = CounterMetricFamily(
            "citywall_detector_frames_skipped_unchanged",
            "Frames not inferred because the picture had not changed (motion gating)",
            labels=labels,
        )
        lagging = GaugeMetricFamily(
            "citywall_detector_lagging",
            "1 while the camera's frames arrive too old to analyse",
            labels=labels,
        )
        fps = GaugeMetricFamily(
            "citywall_detector_fps_analysed",
            "Frames analysed per second",
            labels=labels,
        )
        age = GaugeMetricFamily(
            "citywall_detector_last_frame_age_seconds",
            "Age of the newest frame the detector looked at",
            labels=labels,
        )
        for camera_id, cam in d.cameras.items():
            key = [camera_id]
            analysed.add_metric(key, cam.analysed)
            stale.add_metric(key, cam.stale)
            unchanged.add_metric(key, cam.motion.skipped)
            lagging.add_metric(
                key, 1.0 if d.camera_state(camera_id) == "lagging" else 0.0
            )
            fps.add_metric(key, d.fps_analysed(camera_id))
            if cam.last_age_s is not None:  # no frame looked at yet: no age
                age.add_metric(key, cam.last_age_s)
        yield from (analysed, stale, unchanged, lagging, fps, age)
        batches = CounterMetricFamily(
            "citywall_detector_batches", "Inference batches completed"
        )
        batches.add_metric([], d.batches)
        failures = CounterMetricFamily(
            "citywall_detector_inference_failures", "Inference batches that failed"
        )
        failures.add_metric([], d.failures)
        seconds = CounterMetricFamily(
            "citywall_detector_inference_seconds",
            "Seconds spent in model inference",
        )
        seconds.add_metric([], d.inference_s)
        yield from (batches, failures, seconds)


def render(runtime: Runtime) -> bytes:
    """The Prometheus text exposition of ``runtime``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime))
    return bytes(generate_latest(registry))

"""Prometheus figures of the detector: state, per-camera analysis, inference."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from wall.detection.service import DetectionService

DETECTOR_STATES = ("ok", "unavailable", "not_configured", "starting")
"""Every value of ``DetectionService.state``, each exported as a series."""


def detector_metrics(d: DetectionService) -> Iterator[Metric]:
    """The detector's state; per-camera and inference figures while configured.

    Reads the service at scrape time on the event loop, the only thread that
    changes its counters, so one scrape is a consistent picture.
    """
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
    yield from _camera_metrics(d)
    yield from _inference_metrics(d)


def _camera_metrics(d: DetectionService) -> Iterator[Metric]:
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
        lagging.add_metric(key, 1.0 if d.camera_state(camera_id) == "lagging" else 0.0)
        fps.add_metric(key, d.fps_analysed(camera_id))
        if cam.last_age_s is not None:  # no frame looked at yet: no age
            age.add_metric(key, cam.last_age_s)
    yield from (analysed, stale, unchanged, lagging, fps, age)


def _inference_metrics(d: DetectionService) -> Iterator[Metric]:
    for name, doc, value in (
        ("batches", "Inference batches completed", d.batches),
        ("inference_failures", "Inference batches that failed", d.failures),
        ("inference_seconds", "Seconds spent in model inference", d.inference_s),
    ):
        yield CounterMetricFamily(f"citywall_detector_{name}", doc, value=value)

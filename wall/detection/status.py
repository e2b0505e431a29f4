"""The detector's health component, as ``/healthz`` and the metrics read it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wall.platform.health import ComponentHealth, Status

if TYPE_CHECKING:
    from wall.detection.service import DetectionService

__all__ = ["detector_health"]


def detector_health(d: DetectionService) -> ComponentHealth:
    """The ``detector`` component: ok, unavailable, lagging or not_configured."""
    detail: dict[str, Any] = {"state": d.state, "reason": d.reason}
    if d.state == "not_configured":
        return ComponentHealth("detector", Status.NOT_CONFIGURED, detail)
    if d.state != "ok":
        return ComponentHealth("detector", Status.DEGRADED, detail)
    cameras = d.cameras
    detail |= {
        "model": d.settings.model,
        "letterbox": d.letterbox,
        "cameras": len(cameras),
        "fps_analysed": round(sum(map(d.fps_analysed, cameras)), 2),
        "batches": d.batches,
        "frames_skipped_unchanged": sum(c.motion.skipped for c in cameras.values()),
        "inference_failures": d.failures,
        "mean_batch_ms": round(1000 * d.inference_s / max(1, d.batches), 1),
    }
    lagging = sorted(c for c in cameras if d.camera_state(c) == "lagging")
    if not lagging:
        return ComponentHealth("detector", Status.OK, detail)
    detail |= {
        "state": "lagging",
        "reason": f"frames older than {d.settings.max_frame_age_s:g} s skipped",
        "lagging_cameras": lagging,
    }
    return ComponentHealth("detector", Status.DEGRADED, detail)

"""The detection capability's bus topics and their payloads."""

from __future__ import annotations

from wall.detection.analysis import CameraAnalysis
from wall.detection.records import DetectionRecord
from wall.platform.event_bus import topic

__all__ = ["DETECTION_ANALYSIS", "DETECTION_EVENT"]

DETECTION_EVENT = topic(
    "detection.event",
    DetectionRecord,
    "a zone's crowding, intrusion or loitering alarm was raised, updated or cleared",
)
"""Payload: a crowding or hazard record (a subclass of the declared model)."""

DETECTION_ANALYSIS = topic(
    "detection.analysis",
    CameraAnalysis,
    "live analysis of one camera (zone counts, boxes), about 4 a second at most",
)
"""Payload: what ``GET /api/v1/cameras/{id}/analysis`` returns."""

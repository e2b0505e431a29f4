"""Detection event records: the one shape kept, served, published and sent on MQTT.

A record describes one raised / updated / cleared change of a zone's alarm:
camera, zone, counts, density or labels, the model identity (X5), UTC times
and the snapshot URL. Crowding records and hazard (intrusion, loitering)
records differ in their facts; both share :class:`DetectionRecord`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, TypeAlias

from pydantic import Field, TypeAdapter

from wall.detection.core import DetectionChange, FrameContext, originator
from wall.platform.wire import WireModel, WireTime

__all__ = [
    "AnyDetectionRecord",
    "CrowdingRecord",
    "DetectionRecord",
    "HazardRecord",
    "ModelIdentityOut",
    "build_record",
    "event_id",
    "parse_record",
]


def event_id(number: int) -> str:
    """The id of the ``number``-th event, e.g. ``det-00000001``."""
    return f"det-{number:08d}"


class ModelIdentityOut(WireModel):
    """The model that saw the change (X5)."""

    name: str = Field(description="Model name from the manifest.")
    version: str | None = Field(None, description="Model revision.")
    sha256: str | None = Field(None, description="Weights SHA-256 of the manifest.")
    file_sha256: str | None = Field(None, description="SHA-256 of the loaded file.")


class DetectionRecord(WireModel):
    """What every detection event record carries (``detection.event``).

    The bus, MQTT (``wall/events/<camera>/<type>``) and the API carry a
    :class:`CrowdingRecord` or a :class:`HazardRecord`, told apart by ``type``.
    """

    id: str = Field(description="Event id, e.g. det-00000042.")
    type: str = Field(description="crowding, intrusion or loitering.")
    kind: Literal["raised", "updated", "cleared"] = Field(description="The change.")
    camera_id: str
    zone_id: str
    zone_name: str
    originator: str = Field(description="Alarm originator camera:<id>/zone:<zone>.")
    severity: str = Field(description="Severity name of the zone's rule.")
    count: int = Field(description="Persons (crowding) or objects (hazards) now.")
    started_at: WireTime = Field(description="When the condition began (UTC).")
    at: WireTime = Field(description="Time of the frame of this change (UTC).")
    model: ModelIdentityOut
    snapshot_url: str | None = Field(description="The event's JPEG, if drawn.")


class CrowdingRecord(DetectionRecord):
    """A crowding change (X2, X3): count and density with their peaks."""

    type: Literal["crowding"]
    density_ppm2: float | None = Field(description="Persons/m² now (None: no area).")
    peak_count: int = Field(description="Largest count since the crowding began.")
    peak_density_ppm2: float | None = Field(description="Largest density since.")


class HazardRecord(DetectionRecord):
    """An intrusion or loitering change in a danger zone."""

    type: Literal["intrusion", "loitering"]
    labels: list[str] = Field(description="Sorted labels of the objects.")
    track_ids: list[int] = Field(description="Loitering track ids (intrusion: none).")
    condition: str | None = Field(description="The intrusion rule's arming condition.")


AnyDetectionRecord: TypeAlias = Annotated[
    CrowdingRecord | HazardRecord, Field(discriminator="type")
]
"""A record of either kind (the API's response item)."""

_RECORD: TypeAdapter[CrowdingRecord | HazardRecord] = TypeAdapter(AnyDetectionRecord)


def parse_record(value: object) -> CrowdingRecord | HazardRecord:
    """A record from its JSON form (a stored row).

    Raises:
        pydantic.ValidationError: Not a record.
    """
    return _RECORD.validate_python(value)


def build_record(
    number: int,
    change: DetectionChange,
    ctx: FrameContext,
    times: tuple[datetime, datetime],
    snapshot: bool,
) -> CrowdingRecord | HazardRecord:
    """The record of one change.

    Args:
        number: The event's sequence number.
        change: What the rule reported.
        ctx: The frame it was seen in.
        times: UTC moments of the change's start and of its frame.
        snapshot: Whether the event has a picture.
    """
    eid = event_id(number)
    return parse_record(
        {
            "id": eid,
            "type": change.type,
            "kind": change.kind,
            "camera_id": ctx.camera_id,
            "zone_id": change.zone_id,
            "zone_name": ctx.zone_name,
            "originator": originator(ctx.camera_id, change.zone_id),
            "severity": change.severity,
            **change.facts,
            "started_at": times[0],
            "at": times[1],
            "model": dict(ctx.model),
            "snapshot_url": f"/api/v1/detections/{eid}/snapshot.jpg"
            if snapshot
            else None,
        }
    )

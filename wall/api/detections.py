"""Detection endpoints: events, snapshots, arming conditions, live analysis."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field
from starlette.requests import HTTPConnection

from wall.api.access import requires
from wall.api.deps import runtime_of
from wall.conditions.core import CONDITION_NAME_PATTERN, Condition
from wall.conditions.service import ConditionsService
from wall.detection.analysis import CameraAnalysis
from wall.detection.records import AnyDetectionRecord
from wall.detection.service import DetectionService
from wall.platform.auth import Permission, Principal
from wall.platform.errors import NotFound
from wall.platform.wire import WireModel, WireTime

router = APIRouter(prefix="/api/v1", tags=["detection"])

CanView = Annotated[Principal, Depends(requires(Permission.VIEW_CAMERAS))]
# raising a condition arms hazard alarms: duty officers and admins, like acks
CanArm = Annotated[Principal, Depends(requires(Permission.ACK_ALARMS))]


class ConditionUpdate(WireModel):
    """Body of ``PUT /api/v1/detection/conditions/{name}``."""

    active: bool = Field(description="Whether the condition holds now.")


class DetectionList(WireModel):
    """Detection events, newest first."""

    detections: list[AnyDetectionRecord]


class ConditionOut(WireModel):
    """An arming condition: its state, last change and the rules it arms."""

    name: str = Field(description="The condition, e.g. flood_warning.")
    active: bool = Field(description="Whether it holds now.")
    changed_at: WireTime | None = Field(description="When it last changed (UTC).")
    changed_by: str | None = Field(description="Who changed it.")
    arms: list[str] = Field(description="Originators of the rules it arms.")

    @classmethod
    def of(cls, condition: Condition) -> ConditionOut:
        """The wire form of a condition."""
        s = condition.state
        return cls(name=s.name, active=s.active, changed_at=s.changed_at,
                   changed_by=s.changed_by, arms=list(condition.arms))  # fmt: skip


class ConditionList(WireModel):
    """Every known arming condition, by name."""

    conditions: list[ConditionOut]


def detection_of(conn: HTTPConnection) -> DetectionService:
    """The runtime's detection service."""
    return runtime_of(conn).detection


def conditions_of(conn: HTTPConnection) -> ConditionsService:
    """The runtime's arming conditions."""
    return runtime_of(conn).conditions


@router.get("/detections", summary="Detection events, newest first")
async def list_detections(
    request: Request,
    _: CanView,
    camera_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DetectionList:
    """Stored events (raised, updated, cleared), optionally of one camera."""
    records = detection_of(request).events.events(camera_id, limit)
    return DetectionList(detections=list(records))


@router.get("/detections/{event_id}", summary="One detection event")
async def get_detection(
    request: Request, event_id: str, _: CanView
) -> AnyDetectionRecord:
    """An event record by id."""
    record = detection_of(request).events.event(event_id)
    if record is None:
        raise NotFound("detection_not_found", f"no detection event {event_id!r}")
    return record


@router.get(
    "/detections/{event_id}/snapshot.jpg",
    summary="The event's picture with boxes drawn",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
async def detection_snapshot(request: Request, event_id: str, _: CanView) -> Response:
    """JPEG of the analysed frame, kept for the newest 256 events."""
    data = await detection_of(request).events.snapshot(event_id)
    if data is None:
        raise NotFound("snapshot_not_found", f"no snapshot for event {event_id!r}")
    return Response(data, media_type="image/jpeg")


@router.get("/detection/conditions", summary="Arming conditions of hazard rules")
async def list_conditions(request: Request, _: CanView) -> ConditionList:
    """Every condition: active or not, last change, the rules it arms."""
    listed = conditions_of(request).conditions()
    return ConditionList(conditions=[ConditionOut.of(c) for c in listed])


@router.put("/detection/conditions/{name}", summary="Raise or clear a condition")
async def put_condition(
    request: Request,
    name: Annotated[str, Path(pattern=CONDITION_NAME_PATTERN)],
    body: ConditionUpdate,
    principal: CanArm,
) -> ConditionOut:
    """Set a named condition (e.g. ``flood_warning``); audited."""
    condition = await conditions_of(request).set(name, body.active, principal.name)
    return ConditionOut.of(condition)


@router.get("/cameras/{camera_id}/analysis", summary="Live analysis of a camera")
async def camera_analysis(
    request: Request, camera_id: str, _: CanView
) -> CameraAnalysis:
    """Latest zone counts, analysed fps, lagging flag and boxes for an overlay.

    The same payload goes on the event bus as ``detection.analysis`` (about 4 a
    second per analysed camera), for pages that subscribe instead of polling.
    """
    service = detection_of(request)
    if camera_id not in service.cameras:
        raise NotFound(
            "camera_not_analysed",
            f"camera {camera_id!r} is not configured for analysis",
        )
    return service.analysis(camera_id)

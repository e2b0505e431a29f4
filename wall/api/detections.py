"""Detection endpoints: events, snapshots, arming conditions, live analysis."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field
from starlette.requests import HTTPConnection

from wall.detection.service import DetectionService
from wall.detection.settings import CONDITION_NAME_PATTERN
from wall.platform.auth import Permission, Principal, requires
from wall.platform.errors import NotFound
from wall.platform.wire import WireModel

router = APIRouter(prefix="/api/v1", tags=["detection"])

CanView = Annotated[Principal, Depends(requires(Permission.VIEW_CAMERAS))]
# raising a condition arms hazard alarms: duty officers and admins, like acks
CanArm = Annotated[Principal, Depends(requires(Permission.ACK_ALARMS))]


class ConditionUpdate(WireModel):
    """Body of ``PUT /api/v1/detection/conditions/{name}``."""

    active: bool = Field(description="Whether the condition holds now.")


def detection_of(conn: HTTPConnection) -> DetectionService:
    """The detection service attached to the app by its lifespan."""
    return cast(DetectionService, conn.app.state.detection)


def _analysed(request: Request, camera_id: str) -> DetectionService:
    service = detection_of(request)
    if camera_id not in service.cameras:
        raise NotFound(
            "camera_not_analysed",
            f"camera {camera_id!r} is not configured for analysis",
        )
    return service


@router.get("/detections", summary="Detection events, newest first")
async def list_detections(
    request: Request,
    _: CanView,
    camera_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Stored events (raised, updated, cleared), optionally of one camera."""
    return {"detections": detection_of(request).events.events(camera_id, limit)}


@router.get("/detections/{event_id}", summary="One detection event")
async def get_detection(request: Request, event_id: str, _: CanView) -> dict[str, Any]:
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
async def list_conditions(request: Request, _: CanView) -> dict[str, Any]:
    """Every condition: active or not, last change, the rules it arms."""
    return {"conditions": detection_of(request).events.conditions()}


@router.put("/detection/conditions/{name}", summary="Raise or clear a condition")
async def put_condition(
    request: Request,
    name: Annotated[str, Path(pattern=CONDITION_NAME_PATTERN)],
    body: ConditionUpdate,
    principal: CanArm,
) -> dict[str, Any]:
    """Set a named condition (e.g. ``flood_warning``); audited."""
    events = detection_of(request).events
    return await events.set_condition(name, body.active, principal.name)


@router.get("/cameras/{camera_id}/analysis", summary="Live analysis of a camera")
async def camera_analysis(
    request: Request, camera_id: str, _: CanView
) -> dict[str, Any]:
    """Latest zone counts, analysed fps, lagging flag and boxes for an overlay."""
    service = _analysed(request, camera_id)
    cam = service.cameras[camera_id]
    state = service.camera_state(camera_id)
    tracker = cam.tracker
    frame = cam.frame_bgr
    zones = {r.zone_id: r for r in cam.readings}
    return {
        "camera_id": camera_id,
        "state": state,
        "reason": service.reason if state == "unavailable" else None,
        "lagging": state == "lagging",
        "stream": cam.role,
        "fps_analysed": round(service.fps_analysed(camera_id), 2),
        "frames_analysed": cam.analysed,
        "frames_skipped_stale": cam.stale,
        "frames_skipped_unchanged": cam.motion.skipped,
        "last_frame_age_s": None
        if cam.last_age_s is None
        else round(cam.last_age_s, 3),
        "frame_wh": None if frame is None else [frame.shape[1], frame.shape[0]],
        "zones": [
            {
                "id": z.zone_id,
                "name": cam.plan.names[z.zone_id],
                "kind": cam.plan.kinds[z.zone_id],
                "polygon": [list(p) for p in z.polygon_px],
                "count": zones[z.zone_id].count if z.zone_id in zones else None,
                "density_ppm2": zones[z.zone_id].density_ppm2
                if z.zone_id in zones
                else None,
                "alarms": service.events.active_alarms(camera_id, z.zone_id),
            }
            for z in cam.plan.zones
        ],
        "boxes": [
            {
                "track_id": t.track_id,
                "label": t.label,
                "score": round(t.score, 3),
                "xyxy": [round(v, 1) for v in t.xyxy],
            }
            for t in tracker.tracks
            if t.last_seen_monotonic_s == tracker.last_monotonic_s
        ],
    }

"""Alarm endpoints: list, read with history, acknowledge (A5-A7, O1, O2)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from layouts.schema import Domain
from wall.alarms.core import AlarmStatus, EventKind, Severity
from wall.alarms.service import AlarmForbidden, AlarmQuery, alarm_json, event_json
from wall.api.deps import runtime_of
from wall.platform.auth import Permission, Principal, Role, requires
from wall.platform.wire import WireModel

router = APIRouter(prefix="/api/v1", tags=["alarms"])


class AckBody(WireModel):
    """Acknowledge an alarm."""

    forced: bool = Field(
        False,
        description="Also clear the alarm whatever its condition (admins only, A7).",
    )
    note: str | None = Field(
        None, max_length=500, description="Operator note, kept in history and audit."
    )


class OriginatorOut(WireModel):
    """What raised an alarm."""

    kind: str = Field(description="camera, station, zone, …")
    id: str


class AlarmOut(WireModel):
    """An alarm: one active per (type, originator)."""

    id: str
    type: str = Field(description="crowding, intrusion, loitering, …")
    originator: OriginatorOut
    severity: Severity
    status: AlarmStatus
    active: bool = Field(description="The condition still holds.")
    acknowledged: bool
    latched: bool = Field(
        description="Critical, cleared before anyone acknowledged it (A5)."
    )
    domain: Domain | None = Field(description="Department, if known.")
    started_at: str = Field(description="First raise, ISO-8601 UTC.")
    updated_at: str = Field(description="Last change, ISO-8601 UTC.")
    cleared_at: str | None
    acked_at: str | None
    acked_by: str | None
    count: int = Field(description="Re-raises folded into this alarm (A6).")
    details: dict[str, Any]


class AlarmEventOut(WireModel):
    """One history entry."""

    at: str = Field(description="ISO-8601 UTC.")
    actor: str
    kind: EventKind
    from_: str | None = Field(alias="from")
    to: str | None
    note: str | None


class AlarmDetail(AlarmOut):
    """An alarm with its full history, oldest first."""

    history: list[AlarmEventOut]


class AlarmList(WireModel):
    """A page of alarms."""

    alarms: list[AlarmOut]


CanView = Annotated[Principal, Depends(requires(Permission.VIEW_CAMERAS))]
CanAck = Annotated[Principal, Depends(requires(Permission.ACK_ALARMS))]


@router.get(
    "/alarms",
    summary="List alarms",
    response_model=AlarmList,
)
async def list_alarms(
    request: Request,
    _: CanView,
    status: Annotated[
        AlarmQuery,
        Query(
            description="active (active or latched, most severe then newest"
            " first), unacked, all, or one status (newest first)."
        ),
    ] = AlarmQuery.ACTIVE,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Alarms for lists, tiles and the console."""
    alarms = await runtime_of(request).alarms.list(status, limit)
    return {"alarms": [alarm_json(a) for a in alarms]}


@router.get(
    "/alarms/{alarm_id}",
    summary="One alarm with its history",
    response_model=AlarmDetail,
)
async def get_alarm(request: Request, alarm_id: str, _: CanView) -> dict[str, Any]:
    """The alarm and every transition it went through."""
    service = runtime_of(request).alarms
    alarm = await service.get(alarm_id)
    history = await service.history(alarm_id)
    return {**alarm_json(alarm), "history": [event_json(e) for e in history]}


@router.post(
    "/alarms/{alarm_id}/ack",
    summary="Acknowledge an alarm (forced: admins only)",
    response_model=AlarmOut,
    responses={
        403: {"description": "No ack permission, or a forced ack by a non-admin."},
        404: {"description": "Unknown alarm."},
        409: {"description": "Already acknowledged."},
    },
)
async def ack_alarm(
    request: Request, alarm_id: str, who: CanAck, body: AckBody | None = None
) -> dict[str, Any]:
    """Duty officers acknowledge; a forced ack also clears and needs admin (A7).

    The body is optional: no body is a plain acknowledgement.
    """
    body = body or AckBody()
    if body.forced and who.role is not Role.ADMIN:
        raise AlarmForbidden(
            "forced_ack_needs_admin",
            f"role {who.role} may acknowledge alarms but not force them;"
            " a forced acknowledgement (which also clears) needs admin",
        )
    alarm = await runtime_of(request).alarms.acknowledge(
        alarm_id,
        who.name,
        body.forced,
        privileged=who.role is Role.ADMIN,
        note=body.note,
    )
    return alarm_json(alarm)

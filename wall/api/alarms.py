"""Alarm endpoints: list, read with history, acknowledge (A5-A7, O1, O2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from wall.alarms.core import AlarmQuery
from wall.alarms.wire import AlarmDetail, AlarmList, AlarmOut
from wall.api.access import requires
from wall.api.deps import runtime_of
from wall.platform.auth import Permission, Principal, Role
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


CanView = Annotated[Principal, Depends(requires(Permission.VIEW_CAMERAS))]
CanAck = Annotated[Principal, Depends(requires(Permission.ACK_ALARMS))]


@router.get("/alarms", summary="List alarms")
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
) -> AlarmList:
    """Alarms for lists, tiles and the console."""
    alarms = await runtime_of(request).alarms.list(status, limit)
    return AlarmList(alarms=[AlarmOut.of(a) for a in alarms])


@router.get(
    "/alarms/{alarm_id}",
    summary="One alarm with its history",
    responses={404: {"description": "Unknown alarm."}},
)
async def get_alarm(request: Request, alarm_id: str, _: CanView) -> AlarmDetail:
    """The alarm and every transition it went through."""
    service = runtime_of(request).alarms
    alarm = await service.get(alarm_id)
    return AlarmDetail.with_history(alarm, await service.history(alarm_id))


@router.post(
    "/alarms/{alarm_id}/ack",
    summary="Acknowledge an alarm (forced: admins only)",
    responses={
        403: {"description": "No ack permission, or a forced ack by a non-admin."},
        404: {"description": "Unknown alarm."},
        409: {"description": "Already acknowledged."},
    },
)
async def ack_alarm(
    request: Request, alarm_id: str, who: CanAck, body: AckBody | None = None
) -> AlarmOut:
    """Duty officers acknowledge; a forced ack also clears and needs admin (A7).

    The body is optional: no body is a plain acknowledgement. The service
    refuses a forced ack unless the caller is an admin.
    """
    body = body or AckBody()
    alarm = await runtime_of(request).alarms.acknowledge(
        alarm_id,
        who.name,
        body.forced,
        privileged=who.role is Role.ADMIN,
        note=body.note,
    )
    return AlarmOut.of(alarm)

"""The audit log endpoint: who did what, when, and why (O2)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from wall.api.access import requires
from wall.api.deps import runtime_of
from wall.api.schemas import STORE_ID_MAX
from wall.platform.audit import AuditEntry
from wall.platform.auth import Permission, Principal
from wall.platform.wire import WireModel, WireTime

router = APIRouter(prefix="/api/v1", tags=["audit"])

CanAudit = Annotated[Principal, Depends(requires(Permission.VIEW_AUDIT))]


class AuditEntryOut(WireModel):
    """One line of the append-only audit log."""

    id: int = Field(description="Database id; pages go back with ``before_id``.")
    at: WireTime | None = Field(description="When it was done.")
    actor: str = Field(
        description="Who: a principal name, ``rule:<id>``, ``schedule``."
    )
    action: str = Field(description="What, dotted: ``layout.switch``, ``alarm.ack``…")
    target: str | None = Field(description="What it was done to: ``wall:main``…")
    cause: str | None = Field(description="Why: an alarm id, an operator note…")
    detail: dict[str, Any] = Field(description="Further facts; no secrets.")

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        """The wire form of a stored entry."""
        return cls(
            id=entry.id or 0,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            cause=entry.cause,
            detail=dict(entry.detail),
        )


class AuditPage(WireModel):
    """A page of the audit log, newest first."""

    entries: list[AuditEntryOut]


@router.get("/audit", summary="The append-only audit log, newest first")
async def audit(
    request: Request,
    _: CanAudit,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=STORE_ID_MAX)] = None,
) -> AuditPage:
    """Who did what, when, from what to what, and why (O2)."""
    entries = await runtime_of(request).store.list_audit(
        limit=limit, before_id=before_id
    )
    return AuditPage(entries=[AuditEntryOut.of(e) for e in entries])

"""The wire form of alarms: API response bodies and ``alarm.*`` event payloads.

One model per shape, used by the REST routes (``response_model``) and the
event bus alike, so a page reads the same fields from both. Timestamps follow
the one wire rule (:func:`wall.platform.wire.wire_time`: RFC 3339 UTC, ``Z``,
milliseconds).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

from pydantic import ConfigDict, Field

from layouts.schema import Domain
from wall.alarms.core import Alarm, AlarmEvent, AlarmStatus, EventKind, Severity
from wall.platform.wire import WireModel, WireTime


class OriginatorOut(WireModel):
    """What raised an alarm."""

    kind: str = Field(description="camera, station, zone, …")
    id: str


def _fields(alarm: Alarm) -> dict[str, Any]:
    return {
        "id": alarm.id,
        "type": alarm.type,
        "originator": OriginatorOut(kind=alarm.originator.kind, id=alarm.originator.id),
        "severity": alarm.severity,
        "status": alarm.status,
        "active": alarm.active,
        "acknowledged": alarm.acknowledged,
        "latched": alarm.latched,
        "domain": alarm.domain,
        "started_at": alarm.started_at,
        "updated_at": alarm.updated_at,
        "cleared_at": alarm.cleared_at,
        "acked_at": alarm.acked_at,
        "acked_by": alarm.acked_by,
        "count": alarm.count,
        "details": dict(alarm.details),
    }


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
    started_at: WireTime = Field(description="First raise, RFC 3339 UTC.")
    updated_at: WireTime = Field(description="Last change, RFC 3339 UTC.")
    cleared_at: WireTime | None
    acked_at: WireTime | None
    acked_by: str | None
    count: int = Field(description="Re-raises folded into this alarm (A6).")
    details: dict[str, Any]

    @classmethod
    def of(cls, alarm: Alarm) -> Self:
        """The wire form of ``alarm``."""
        return cls(**_fields(alarm))


class AlarmEventOut(WireModel):
    """One history entry."""

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    at: WireTime = Field(description="RFC 3339 UTC.")
    actor: str
    kind: EventKind
    from_: str | None = Field(alias="from")
    to: str | None
    note: str | None

    @classmethod
    def of(cls, event: AlarmEvent) -> Self:
        """The wire form of one history entry."""
        return cls(
            at=event.at,
            actor=event.actor,
            kind=event.kind,
            from_=event.from_value,
            to=event.to_value,
            note=event.note,
        )


class AlarmDetail(AlarmOut):
    """An alarm with its full history, oldest first."""

    history: list[AlarmEventOut]

    @classmethod
    def with_history(cls, alarm: Alarm, history: Iterable[AlarmEvent]) -> Self:
        """The wire form of ``alarm`` and every history entry."""
        return cls(**_fields(alarm), history=[AlarmEventOut.of(e) for e in history])


class AlarmList(WireModel):
    """A page of alarms."""

    alarms: list[AlarmOut]

"""Which alarm transitions the audit log records, and how (O2)."""

from __future__ import annotations

from collections.abc import Mapping

from wall.alarms.core import AlarmChange, Outcome
from wall.platform.audit import AuditEntry

AUDITED: Mapping[Outcome, str] = {
    Outcome.CLEARED: "alarm.clear",
    Outcome.ACKNOWLEDGED: "alarm.acknowledge",
    Outcome.FORCED_ACK: "alarm.forced_ack",
}
"""Audit action of every audited outcome: acks, clears and forced acks."""


def audit_entry(
    change: AlarmChange, actor: str, cause: str | None
) -> AuditEntry | None:
    """The audit line of a transition, or ``None`` if it is not audited.

    Args:
        change: The transition.
        actor: Who made it.
        cause: Why (an operator note, a rule's reason); defaults to the
            alarm's key, ``type@kind:id``.
    """
    action = AUDITED.get(change.outcome)
    if action is None:
        return None
    alarm = change.alarm
    return AuditEntry(
        actor=actor,
        action=action,
        target=f"alarm:{alarm.id}",
        cause=cause or str(alarm.key),
        detail={
            "type": alarm.type,
            "originator": str(alarm.originator),
            "severity": alarm.severity.value,
            "status": alarm.status.value,
            "latched": alarm.latched,
        },
        at=alarm.updated_at,
    )

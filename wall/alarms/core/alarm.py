"""The alarm value: severity, status and the frozen :class:`Alarm` (domain §2.3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from layouts.schema import Domain
from wall.alarms.core.originator import AlarmKey, Originator
from wall.platform.wire import JsonValue

SYSTEM_ACTOR = "system"
"""Actor of transitions the service makes on its own (detection rules)."""


class Severity(StrEnum):
    """Alarm severity, most severe first (ThingsBoard order)."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INDETERMINATE = "indeterminate"

    @property
    def rank(self) -> int:
        """Higher is more severe: critical 4 … indeterminate 0."""
        return 4 - list(Severity).index(self)


class AlarmStatus(StrEnum):
    """Whether the condition is active, and whether someone acknowledged it."""

    ACTIVE_UNACK = "active_unack"
    ACTIVE_ACK = "active_ack"
    CLEARED_UNACK = "cleared_unack"
    CLEARED_ACK = "cleared_ack"

    @property
    def active(self) -> bool:
        """The condition still holds."""
        return self.value.startswith("active_")

    @property
    def acknowledged(self) -> bool:
        """Someone acknowledged it."""
        return self.value.endswith("_ack")

    @staticmethod
    def of(*, active: bool, acknowledged: bool) -> AlarmStatus:
        """The status for the two flags (cleared + acknowledged: ``cleared_ack``)."""
        return AlarmStatus(
            f"{'active' if active else 'cleared'}_{'ack' if acknowledged else 'unack'}"
        )


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm (domain §2.3).

    Attributes:
        id: Unique id.
        type: What kind of condition, e.g. ``crowding``, ``intrusion``.
        originator: What raised it.
        severity: Current severity.
        status: Active or cleared, acknowledged or not.
        started_at: First raise, UTC.
        updated_at: Last change of any kind, UTC.
        cleared_at: Last clear, UTC; ``None`` while active.
        acked_at: Acknowledgement time, UTC.
        acked_by: Who acknowledged it (a principal name).
        count: Re-raises folded into this alarm, reactivations included (A6).
        details: Facts for people (value, threshold, zone…), JSON values.
        latched: A critical alarm cleared before anyone acknowledged it (A5).
        domain: Department it concerns, if known (alarm tiles filter by it).
    """

    id: str
    type: str
    originator: Originator
    severity: Severity
    status: AlarmStatus
    started_at: datetime
    updated_at: datetime
    cleared_at: datetime | None = None
    acked_at: datetime | None = None
    acked_by: str | None = None
    count: int = 0
    details: Mapping[str, JsonValue] = field(default_factory=dict)
    latched: bool = False
    domain: Domain | None = None

    @property
    def active(self) -> bool:
        """The condition still holds."""
        return self.status.active

    @property
    def acknowledged(self) -> bool:
        """Someone acknowledged it."""
        return self.status.acknowledged

    @property
    def key(self) -> AlarmKey:
        """``(type, originator)``: at most one active alarm per key."""
        return AlarmKey(self.type, self.originator)

    @property
    def needs_attention(self) -> bool:
        """Active, or latched until acknowledged: what alarm lists show."""
        return self.active or self.latched

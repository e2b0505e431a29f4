"""Which alarms a listing returns, and in which order (A1)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from wall.alarms.core.alarm import Alarm, AlarmStatus


class AlarmQuery(StrEnum):
    """Which alarms a listing returns."""

    ACTIVE = "active"
    """Active, or latched until acknowledged (A5): what needs attention."""
    UNACKED = "unacked"
    ALL = "all"
    ACTIVE_UNACK = "active_unack"
    ACTIVE_ACK = "active_ack"
    CLEARED_UNACK = "cleared_unack"
    CLEARED_ACK = "cleared_ack"

    @property
    def statuses(self) -> frozenset[AlarmStatus] | None:
        """The statuses this listing selects; ``None`` selects every alarm.

        Raises:
            ValueError: For ``active``, which is no set of statuses: it also
                takes latched alarms, whatever their status.

        Examples:
            >>> sorted(AlarmQuery.UNACKED.statuses)
            [<AlarmStatus.ACTIVE_UNACK: 'active_unack'>, \
<AlarmStatus.CLEARED_UNACK: 'cleared_unack'>]
        """
        if self is AlarmQuery.ACTIVE:
            raise ValueError("'active' is active or latched, not a set of statuses")
        if self is AlarmQuery.ALL:
            return None
        if self is AlarmQuery.UNACKED:
            return frozenset({AlarmStatus.ACTIVE_UNACK, AlarmStatus.CLEARED_UNACK})
        return frozenset({AlarmStatus(self.value)})


def by_severity_then_newest(alarms: Iterable[Alarm]) -> list[Alarm]:
    """Most severe first, newest first within a severity (alarm lists, A1).

    Examples:
        >>> from datetime import UTC, datetime
        >>> from wall.alarms.core import Originator, Severity, raise_alarm
        >>> t0 = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)
        >>> def a(i, sev, minute):
        ...     return raise_alarm(None, "t", Originator("camera", i), sev, {},
        ...                        t0.replace(minute=minute), 0, new_id=i).alarm
        >>> [x.id for x in by_severity_then_newest(
        ...     [a("old", Severity.MAJOR, 1), a("minor", Severity.MINOR, 5),
        ...      a("new", Severity.MAJOR, 3)])]
        ['new', 'old', 'minor']
    """
    return sorted(
        alarms, key=lambda a: (-a.severity.rank, -a.started_at.timestamp(), a.id)
    )

"""The pure alarm model: values, transitions, listings (A5-A7, HS1).

Pure: no I/O, no asyncio, no clock reads; every transition takes ``now``
(aware UTC) and the id of a would-be new alarm, and returns the new frozen
:class:`Alarm` with its history entries. :mod:`~wall.alarms.core.lifecycle`
holds the transitions, :mod:`~wall.alarms.core.originator` the key and its
text forms, :mod:`~wall.alarms.core.listing` the listing filters and order.
"""

from wall.alarms.core.alarm import SYSTEM_ACTOR, Alarm, AlarmStatus, Severity
from wall.alarms.core.history import AlarmChange, AlarmEvent, EventKind, Outcome
from wall.alarms.core.lifecycle import (
    AlarmStateError,
    acknowledge,
    clear_alarm,
    raise_alarm,
    update_alarm,
)
from wall.alarms.core.listing import AlarmQuery, by_severity_then_newest
from wall.alarms.core.originator import AlarmKey, Originator

__all__ = [
    "SYSTEM_ACTOR",
    "Alarm",
    "AlarmChange",
    "AlarmEvent",
    "AlarmKey",
    "AlarmQuery",
    "AlarmStateError",
    "AlarmStatus",
    "EventKind",
    "Originator",
    "Outcome",
    "Severity",
    "acknowledge",
    "by_severity_then_newest",
    "clear_alarm",
    "raise_alarm",
    "update_alarm",
]

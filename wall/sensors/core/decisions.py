"""What one rule evaluation decided: raise, change severity, clear, or nothing.

A decision is a value; the sensor service carries it out with the alarm model
of :mod:`wall.alarms.core` (``raise_alarm``, ``update_alarm`` with the new
severity, which records ``severity_changed`` (R6), ``clear_alarm``). The
lifecycle (counts, reactivation, latches) stays there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from wall.alarms.core import Originator, Severity
from wall.platform.wire import JsonValue, wire_time

__all__ = ["STATION_ORIGINATOR_KIND", "Action", "RuleDecision"]

STATION_ORIGINATOR_KIND = "station"
"""Originator kind of alarms that sensor rules raise (``station:<id>``)."""


class Action(StrEnum):
    """What the service should do with the rule's alarm."""

    RAISE = "raise"
    UPDATE_SEVERITY = "update_severity"
    CLEAR = "clear"
    NOTHING = "nothing"
    DISABLED = "disabled"
    """The rule cannot be evaluated (a missing attribute): show ``reason``."""


@dataclass(frozen=True, slots=True)
class RuleDecision:
    """The outcome of one reading for one rule and station.

    Attributes:
        action: What to do.
        rule_id: The rule.
        alarm_type: Type of the rule's alarm.
        station_id: The station (the alarm's originator).
        element: The element evaluated.
        observed_at: The reading's time, UTC.
        value: The reading's value.
        severity: Severity to raise or change to (``raise``/``update_severity``).
        previous_severity: Severity before (``update_severity``, ``clear``).
        threshold: The resolved threshold that fired, if any.
        reason: Why nothing happened or the rule is disabled, for people.
    """

    action: Action
    rule_id: str
    alarm_type: str
    station_id: str
    element: str
    observed_at: datetime
    value: float
    severity: Severity | None = None
    previous_severity: Severity | None = None
    threshold: float | None = None
    reason: str | None = None

    @property
    def originator(self) -> Originator:
        """The alarm's originator, ``station:<id>``."""
        return Originator(STATION_ORIGINATOR_KIND, self.station_id)

    @property
    def changes_alarm(self) -> bool:
        """The service has an alarm transition to make."""
        return self.action in (Action.RAISE, Action.UPDATE_SEVERITY, Action.CLEAR)

    def details(self) -> Mapping[str, JsonValue]:
        """Alarm details for people: rule, element, value, threshold, time."""
        found: dict[str, JsonValue] = {
            "rule_id": self.rule_id,
            "element": self.element,
            "value": self.value,
            "observed_at": wire_time(self.observed_at),
        }
        if self.threshold is not None:
            found["threshold"] = self.threshold
        return MappingProxyType(found)

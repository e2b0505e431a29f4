"""The conditions capability's bus topics and their payloads."""

from __future__ import annotations

from pydantic import Field

from wall.platform.event_bus import topic
from wall.platform.wire import WireModel, WireTime

__all__ = ["CONDITION_CHANGED", "ConditionChanged"]


class ConditionChanged(WireModel):
    """A condition was raised or cleared (``detection.condition``).

    The topic keeps its first name (pages and MQTT bridges read it), although
    conditions are no longer detection's alone.
    """

    name: str = Field(description="The condition, e.g. flood_warning.")
    active: bool = Field(description="Whether it holds now.")
    changed_at: WireTime | None = Field(description="When it changed (UTC).")
    changed_by: str | None = Field(description="Who changed it.")


CONDITION_CHANGED = topic(
    "detection.condition", ConditionChanged, "an arming condition was set"
)

"""The event-bus topics of walls and layouts, with their typed payloads."""

from __future__ import annotations

from pydantic import Field

from wall.platform.event_bus import topic
from wall.platform.wire import WireModel


class WallChanged(WireModel):
    """A wall's desired state moved to a new revision."""

    wall_id: str
    revision: int = Field(description="The new revision (W5).")
    active_layout_id: str | None
    cause: str = Field(description="operator, rule, schedule, alarm or revert.")
    outcome: str = Field(description="What the command did, e.g. applied.")


class LayoutRef(WireModel):
    """A layout of the library."""

    layout_id: str


WALL_STATE = topic("wall.state", WallChanged, "a wall's desired state changed")
LAYOUT_SAVED = topic("layout.saved", LayoutRef, "a layout was created or replaced")
LAYOUT_DELETED = topic("layout.deleted", LayoutRef, "a layout was deleted")

"""What a wall command did, and the audit line it leaves (O2).

Pure (HS1): records only; the service writes them to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from wall.walls.core.commands import Cause


class Outcome(StrEnum):
    """What a command did."""

    APPLIED = "applied"
    QUEUED = "queued"
    BASE_UPDATED = "base_updated"
    TILE_SET = "tile_set"
    TILE_RESTORED = "tile_restored"
    REVERTED = "reverted"
    REVERT_PENDING = "revert_pending"
    COOLDOWN = "cooldown"
    ALREADY_ACTIVE = "already_active"
    UNKNOWN_REF = "unknown_ref"
    NO_OP = "no_op"


class Action(StrEnum):
    """Kind of change written to the audit log."""

    ACTIVATE_LAYOUT = "activate_layout"
    PUSH_TILE = "push_tile"
    CLEAR_TILE = "clear_tile"
    TILE_BACK = "tile_back"
    REVERT = "revert"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One line of the append-only audit log (O2; ``LayoutActivation``)."""

    wall_id: str
    revision: int
    at: datetime
    actor: str
    action: Action
    cause: Cause
    cause_ref: str | None
    from_layout_id: str | None
    to_layout_id: str | None
    outcome: Outcome
    tile_id: str | None = None
    superseded_refs: tuple[str, ...] = ()
    detail: str = ""

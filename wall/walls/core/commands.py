"""Commands that change a wall's desired state, and who may send them (pure, HS1).

Operators, rules, schedules and alarms all speak to a wall through these
commands; :func:`wall.walls.core.wall_state.apply` turns one command into a new
:class:`~wall.walls.core.wall_state.WallState`. Tile content is opaque here (a type
variable): the layout schema owns its shape, the core only stores and
compares it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeAlias, TypeVar

C = TypeVar("C")
"""Tile content (``TileContent`` in the layout schema); any frozen value."""

MIN_PRIORITY = 1
MAX_PRIORITY = 255
DEFAULT_PRIORITY = 100
"""Proposed default priority of an activation, operators included (1-255)."""

SYSTEM_ACTOR = "system"
"""Actor recorded for changes the service makes on its own (timed reverts)."""


class Cause(StrEnum):
    """Why the wall changed (domain §2.2, audit log O2)."""

    OPERATOR = "operator"
    RULE = "rule"
    SCHEDULE = "schedule"
    ALARM = "alarm"
    REVERT = "revert"


class RevertPolicy(StrEnum):
    """When a stacked activation gives the wall back (A2)."""

    NONE = "none"
    ON_CLEAR = "on_clear"
    ON_ACK = "on_ack"
    ON_ACK_AND_CLEAR = "on_ack_and_clear"
    AFTER_S = "after_s"


class RevertEvent(StrEnum):
    """What happened to the cause of a stacked activation."""

    CLEARED = "cleared"
    ACKED = "acked"
    EXPIRED = "expired"
    """The ``after_s`` timer ran out (see ``due_reverts``)."""
    FORCED = "forced"
    """An operator dismissed the activation whatever its policy."""


class CommandInvalid(ValueError):
    """A command whose fields contradict each other.

    Attributes:
        field: the offending field name.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class WrongWall(ValueError):
    """A command for another wall."""


@dataclass(frozen=True, slots=True)
class Instant:
    """One reading of both clocks, taken by the caller (HS1, O4).

    ``utc`` is what people see and what the audit log stores; ``monotonic_s``
    measures intervals (cooldowns, ``after_s`` reverts, tours), so an NTP
    correction of the wall clock never shortens or stretches them.

    Examples:
        >>> t0 = Instant(datetime(2025, 7, 1, 2, 0, tzinfo=UTC), 100.0)
        >>> t0.later(1.5).monotonic_s
        101.5
        >>> t0.later(60).utc.isoformat()
        '2025-07-01T02:01:00+00:00'
    """

    utc: datetime
    monotonic_s: float

    def __post_init__(self) -> None:
        if self.utc.tzinfo is None:
            raise ValueError("Instant.utc must be timezone-aware")
        object.__setattr__(self, "utc", self.utc.astimezone(UTC))

    def later(self, seconds: float) -> Instant:
        """Return the instant ``seconds`` after this one on both clocks."""
        return Instant(
            self.utc + timedelta(seconds=seconds), self.monotonic_s + seconds
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivateLayout:
    """Show a layout on a wall (or on part of it).

    Attributes:
        wall_id: the wall.
        layout_id: the layout to show.
        actor: user id, or the rule / schedule id for automatic changes.
        cause: why; ``revert`` is produced by the core, never sent in.
        cause_ref: the alarm, rule or schedule window behind the change;
            required when the activation can be reverted.
        priority: 1-255, higher wins among stacked activations (A1).
        exclusive_group: pre-emption domain: a newer stacked activation of
            the same group replaces the older one instead of nesting on it.
        revert_policy: ``none`` changes the base layout; anything else
            stacks the activation so that it can be reverted (A2, A3).
        revert_after_s: seconds until an ``after_s`` activation reverts.
        cooldown_s: suppress further activations with the same
            ``cooldown_key`` for this long, in monotonic seconds (A9).
        rule_id: the rule that fired, if any; the cooldown key.
        panel_ids: the layout's panel scope; empty means the whole wall (W3).
    """

    wall_id: str
    layout_id: str
    actor: str
    cause: Cause = Cause.OPERATOR
    cause_ref: str | None = None
    priority: int = DEFAULT_PRIORITY
    exclusive_group: str | None = None
    revert_policy: RevertPolicy = RevertPolicy.NONE
    revert_after_s: float | None = None
    cooldown_s: float = 0.0
    rule_id: str | None = None
    panel_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not MIN_PRIORITY <= self.priority <= MAX_PRIORITY:
            raise CommandInvalid("priority", "must be within 1-255")
        if self.cause is Cause.REVERT:
            raise CommandInvalid("cause", "revert is produced by RevertCause")
        if self.revertable and not self.cause_ref:
            raise CommandInvalid("cause_ref", "a revertable activation needs one")
        timed = self.revert_policy is RevertPolicy.AFTER_S
        if timed != (self.revert_after_s is not None):
            raise CommandInvalid("revert_after_s", "set it exactly with after_s")
        if self.revert_after_s is not None and self.revert_after_s <= 0:
            raise CommandInvalid("revert_after_s", "must be positive")
        if self.cooldown_s < 0:
            raise CommandInvalid("cooldown_s", "must not be negative")

    @property
    def revertable(self) -> bool:
        """Whether the activation goes on the revert stack."""
        return self.revert_policy is not RevertPolicy.NONE

    @property
    def cooldown_key(self) -> str | None:
        """The key a cooldown is counted under: the rule, else the cause ref."""
        return self.rule_id or self.cause_ref


@dataclass(frozen=True, slots=True, kw_only=True)
class TileCommand:
    """What every command on one tile carries.

    Attributes:
        layout_id: the layout owning the tile; ``None`` means the active one.
    """

    wall_id: str
    tile_id: str
    actor: str
    cause: Cause = Cause.OPERATOR
    cause_ref: str | None = None
    layout_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PushTile(TileCommand, Generic[C]):
    """Put content into one tile as an override (kept until re-activation)."""

    content: C


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearTileOverride(TileCommand):
    """Give a tile back its layout's own content (remembered for "back")."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TileBack(TileCommand):
    """Restore a tile's previous content from its memory (W10)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RevertCause:
    """Report an event on the cause of a stacked activation (A2, A3).

    The entry is removed once its revert policy is satisfied, e.g. an
    ``on_ack_and_clear`` entry needs both an ``acked`` and a ``cleared``.
    """

    wall_id: str
    cause_ref: str
    actor: str = SYSTEM_ACTOR
    event: RevertEvent = RevertEvent.CLEARED


Command: TypeAlias = (
    ActivateLayout | PushTile[C] | ClearTileOverride | TileBack | RevertCause
)
"""Anything :func:`wall.walls.core.wall_state.apply` accepts."""

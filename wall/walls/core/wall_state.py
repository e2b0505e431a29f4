"""A wall's desired state and the pure transition function (W3-W6, W10, A1-A4, A9).

Model: the wall shows a *base* screen with a *revert stack* of activations on
top of it, ranked by ``(priority, seq)``; each stacked activation covers the
panels of its layout, so the composed :attr:`WallState.screen` is what every
display must show. Policies (each pinned by a test in ``tests/core``):

* Overrides (``PushTile``) belong to the layer that shows the tile's layout
  and last until that layout is activated again or its layer is reverted.
* A revertable activation is stacked; the highest rank is on top and newer
  wins a tie (A1); lower ones wait beneath and show when it reverts (A3).
* Reverting an entry removes it wherever it sits in the stack, so the
  layout beneath a nested alarm is never resurrected (A3).
* A non-revertable operator activation takes the wall: the composed screen
  plus the new layout becomes the base, pending stack entries are dropped,
  and their later reverts change nothing (A4: the operator's change is kept).
* A non-revertable rule or schedule activation replaces the base beneath
  the stack; it shows at once only when the stack is empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Generic

from wall.walls.core.commands import (
    SYSTEM_ACTOR,
    ActivateLayout,
    C,
    Cause,
    ClearTileOverride,
    Command,
    Instant,
    PushTile,
    RevertCause,
    RevertEvent,
    RevertPolicy,
    TileBack,
    WrongWall,
)

HISTORY_DEPTH = 8
"""Previous contents a tile remembers for "back" (W10, Genetec)."""


class LayoutNotShown(ValueError):
    """A tile command for a layout that is not on the wall."""


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


@dataclass(frozen=True, slots=True)
class Part:
    """One layout on a set of panels; an empty set means the whole wall."""

    layout_id: str
    panel_ids: frozenset[str] = frozenset()

    def covers(self, panel_id: str) -> bool:
        """Whether this part is on ``panel_id``."""
        return not self.panel_ids or panel_id in self.panel_ids

    def hides(self, other: Part) -> bool:
        """Whether this part covers every panel of ``other``."""
        if not self.panel_ids:
            return True
        return bool(other.panel_ids) and other.panel_ids <= self.panel_ids


@dataclass(frozen=True, slots=True)
class TileSlot(Generic[C]):
    """A tile's override and its memory; ``None`` is the layout's own content."""

    layout_id: str
    tile_id: str
    content: C | None = None
    history: tuple[C | None, ...] = ()


@dataclass(frozen=True, slots=True)
class Screen(Generic[C]):
    """Layouts by panel (later parts on top) plus tile overrides."""

    parts: tuple[Part, ...] = ()
    tiles: tuple[TileSlot[C], ...] = ()

    @property
    def layout_id(self) -> str | None:
        """The layout activated last, i.e. the one on top."""
        return self.parts[-1].layout_id if self.parts else None

    def layout_for_panel(self, panel_id: str) -> str | None:
        """The layout shown on one panel (W3)."""
        return next(
            (p.layout_id for p in reversed(self.parts) if p.covers(panel_id)), None
        )

    def shows(self, layout_id: str) -> bool:
        """Whether ``layout_id`` is on at least one panel."""
        return any(p.layout_id == layout_id for p in self.parts)

    def slot(self, layout_id: str, tile_id: str) -> TileSlot[C] | None:
        """The tile's override and memory, if it has any."""
        key = (layout_id, tile_id)
        return next((s for s in self.tiles if (s.layout_id, s.tile_id) == key), None)

    def overrides(self, layout_id: str | None) -> Mapping[str, C]:
        """Tile id → overriding content for one layout."""
        return MappingProxyType(
            {
                s.tile_id: s.content
                for s in self.tiles
                if s.layout_id == layout_id and s.content is not None
            }
        )

    def visible(self) -> tuple[tuple[Part, ...], tuple[tuple[str, str, C], ...]]:
        """What displays render: parts and overrides, without tile memory."""
        shown = tuple(
            (s.layout_id, s.tile_id, s.content)
            for s in self.tiles
            if s.content is not None
        )
        return self.parts, shown

    def with_part(self, part: Part) -> Screen[C]:
        """Activate ``part``: hidden parts go, and so do their and its overrides."""
        parts = (*(p for p in self.parts if not part.hides(p)), part)
        kept = {p.layout_id for p in parts[:-1]} - {part.layout_id}
        return Screen(parts, tuple(s for s in self.tiles if s.layout_id in kept))

    def over(self, under: Screen[C]) -> Screen[C]:
        """This screen laid over ``under``."""
        screen = under
        for part in self.parts:
            screen = screen.with_part(part)
        own = tuple(s for s in self.tiles if screen.shows(s.layout_id))
        return Screen(screen.parts, _sorted((*screen.tiles, *own)))

    def set_tile(self, layout_id: str, tile_id: str, content: C | None) -> Screen[C]:
        """Override a tile; the old content goes to its memory (W10)."""
        empty: TileSlot[C] = TileSlot(layout_id, tile_id)
        old = self.slot(layout_id, tile_id) or empty
        if old.content == content:
            return self
        history = (*old.history, old.content)[-HISTORY_DEPTH:]
        return self._with_slot(TileSlot(layout_id, tile_id, content, history))

    def back(self, layout_id: str, tile_id: str) -> Screen[C]:
        """Restore a tile's previous content; unchanged when it has none."""
        old = self.slot(layout_id, tile_id)
        if old is None or not old.history:
            return self
        return self._with_slot(
            TileSlot(layout_id, tile_id, old.history[-1], old.history[:-1])
        )

    def _with_slot(self, slot: TileSlot[C]) -> Screen[C]:
        key = (slot.layout_id, slot.tile_id)
        tiles = [s for s in self.tiles if (s.layout_id, s.tile_id) != key]
        if slot.content is not None or slot.history:
            tiles.append(slot)
        return Screen(self.parts, _sorted(tiles))


_EMPTY: Screen[Any] = Screen()


def _sorted(
    tiles: tuple[TileSlot[C], ...] | list[TileSlot[C]],
) -> tuple[TileSlot[C], ...]:
    return tuple(sorted(tiles, key=lambda s: (s.layout_id, s.tile_id)))


@dataclass(frozen=True, slots=True)
class StackEntry(Generic[C]):
    """A revertable activation on the wall's revert stack (A2, A3)."""

    cause_ref: str
    cause: Cause
    actor: str
    priority: int
    seq: int
    screen: Screen[C]
    activated_at: datetime
    activated_monotonic_s: float
    revert_policy: RevertPolicy
    revert_after_s: float | None = None
    exclusive_group: str | None = None
    acked: bool = False
    cleared: bool = False

    @property
    def rank(self) -> tuple[int, int]:
        """Higher priority first, then the newer activation (A1)."""
        return self.priority, self.seq

    @property
    def revert_at_monotonic_s(self) -> float | None:
        """When an ``after_s`` entry is due, in monotonic seconds."""
        if self.revert_after_s is None:
            return None
        return self.activated_monotonic_s + self.revert_after_s

    def revert_due(self, event: RevertEvent, now: Instant) -> bool:
        """Whether the policy is satisfied, given the flags and this event."""
        if event is RevertEvent.FORCED:
            return True
        match self.revert_policy:
            case RevertPolicy.ON_CLEAR:
                return self.cleared
            case RevertPolicy.ON_ACK:
                return self.acked
            case RevertPolicy.ON_ACK_AND_CLEAR:
                return self.acked and self.cleared
            case RevertPolicy.AFTER_S:
                due = self.revert_at_monotonic_s
                expired = event is RevertEvent.EXPIRED
                return expired and due is not None and now.monotonic_s >= due
        return False


@dataclass(frozen=True, slots=True)
class WallState(Generic[C]):
    """Desired state of one wall; displays render :attr:`screen` (W6).

    Attributes:
        revision: increments on every effective change (W5).
        base: what shows when the revert stack is empty.
        stack: revertable activations, ascending rank; the last is on top.
        activated_by: who made the last change of the active layout.
        activated_at: when, in UTC.
        cause: why (``revert`` after a revert restored a layer).
        cause_ref: the alarm, rule or window behind it.
        cooldowns: ``(cooldown_key, until_monotonic_s)`` pairs (A9).
    """

    wall_id: str
    revision: int = 0
    base: Screen[C] = field(default_factory=Screen)
    stack: tuple[StackEntry[C], ...] = ()
    activated_by: str | None = None
    activated_at: datetime | None = None
    cause: Cause | None = None
    cause_ref: str | None = None
    cooldowns: tuple[tuple[str, float], ...] = ()

    @property
    def screen(self) -> Screen[C]:
        """The base with every stacked activation laid over it in rank order."""
        screen = self.base
        for entry in self.stack:
            screen = entry.screen.over(screen)
        return screen

    @property
    def active_layout_id(self) -> str | None:
        """The layout on top of the wall."""
        return self.screen.layout_id

    @property
    def overrides(self) -> Mapping[str, C]:
        """Tile id → content overrides of the active layout."""
        return self.screen.overrides(self.active_layout_id)

    def tile_history(
        self, tile_id: str, layout_id: str | None = None
    ) -> tuple[C | None, ...]:
        """Previous contents of a tile, oldest first (W10)."""
        slot = self.screen.slot(layout_id or self.active_layout_id or "", tile_id)
        return slot.history if slot else ()


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


@dataclass(frozen=True, slots=True)
class Transition(Generic[C]):
    """Result of :func:`apply`; ``audit`` is set exactly when the revision moved."""

    state: WallState[C]
    outcome: Outcome
    display_changed: bool
    audit: AuditRecord | None


def apply(state: WallState[C], command: Command[C], now: Instant) -> Transition[C]:
    """Apply one command to a wall's desired state.

    Args:
        state: the current desired state.
        command: what an operator, rule, schedule or alarm asks for.
        now: both clock readings, taken by the caller.

    Returns:
        The new state, what happened, whether displays must update, and the
        audit record (``None`` when nothing changed).

    Raises:
        WrongWall: the command names another wall.
        LayoutNotShown: a tile command for a layout not on the wall.

    Examples:
        >>> from datetime import UTC
        >>> now = Instant(datetime(2025, 7, 1, tzinfo=UTC), 0.0)
        >>> cmd = ActivateLayout(wall_id="w", layout_id="flood", actor="op")
        >>> t = apply(WallState("w"), cmd, now)
        >>> t.state.active_layout_id, t.state.revision, t.display_changed
        ('flood', 1, True)
    """
    if command.wall_id != state.wall_id:
        raise WrongWall(f"command for {command.wall_id} sent to {state.wall_id}")
    if isinstance(command, ActivateLayout):
        return _activate(state, command, now)
    if isinstance(command, RevertCause):
        return _revert(state, command, now)
    if isinstance(command, TileBack):
        return _tile(state, command, None, now, Action.TILE_BACK)
    if isinstance(command, ClearTileOverride):
        return _tile(state, command, None, now, Action.CLEAR_TILE)
    return _tile(state, command, command.content, now, Action.PUSH_TILE)


def _activate(state: WallState[C], cmd: ActivateLayout, now: Instant) -> Transition[C]:
    cooldowns = tuple(c for c in state.cooldowns if c[1] > now.monotonic_s)
    key = cmd.cooldown_key
    if key is not None and any(k == key for k, _ in cooldowns):
        return Transition(state, Outcome.COOLDOWN, False, None)
    if cmd.revertable and any(e.cause_ref == cmd.cause_ref for e in state.stack):
        return Transition(state, Outcome.ALREADY_ACTIVE, False, None)
    if key is not None and cmd.cooldown_s > 0:
        cooldowns = (*cooldowns, (key, now.monotonic_s + cmd.cooldown_s))
    part = Part(cmd.layout_id, cmd.panel_ids)
    new = replace(state, cooldowns=cooldowns)
    if cmd.revertable:
        entry = StackEntry(
            cause_ref=cmd.cause_ref or "",
            cause=cmd.cause,
            actor=cmd.actor,
            priority=cmd.priority,
            seq=state.revision + 1,
            screen=_EMPTY.with_part(part),
            activated_at=now.utc,
            activated_monotonic_s=now.monotonic_s,
            revert_policy=cmd.revert_policy,
            revert_after_s=cmd.revert_after_s,
            exclusive_group=cmd.exclusive_group,
        )
        group = cmd.exclusive_group
        dropped = [e for e in state.stack if group and e.exclusive_group == group]
        kept = [e for e in state.stack if e not in dropped]
        stack = tuple(sorted([*kept, entry], key=lambda e: e.rank))
        outcome = Outcome.APPLIED if stack[-1] is entry else Outcome.QUEUED
        new = replace(new, stack=stack)
    elif cmd.cause is Cause.OPERATOR or not state.stack:
        dropped = list(state.stack)
        new = replace(new, base=state.screen.with_part(part), stack=())
        outcome = Outcome.APPLIED
    else:
        dropped = []
        new = replace(new, base=state.base.with_part(part))
        outcome = Outcome.BASE_UPDATED
    if outcome is Outcome.APPLIED:
        new = replace(
            new,
            activated_by=cmd.actor,
            activated_at=now.utc,
            cause=cmd.cause,
            cause_ref=cmd.cause_ref,
        )
    superseded = tuple(e.cause_ref for e in dropped)
    return _commit(state, new, outcome, now, cmd, superseded=superseded)


def _revert(state: WallState[C], cmd: RevertCause, now: Instant) -> Transition[C]:
    index = next(
        (i for i, e in enumerate(state.stack) if e.cause_ref == cmd.cause_ref), None
    )
    if index is None:
        return Transition(state, Outcome.UNKNOWN_REF, False, None)
    entry = state.stack[index]
    flagged = replace(
        entry,
        acked=entry.acked or cmd.event is RevertEvent.ACKED,
        cleared=entry.cleared or cmd.event is RevertEvent.CLEARED,
    )
    rest = state.stack[:index] + state.stack[index + 1 :]
    if flagged.revert_due(cmd.event, now):
        new = replace(state, stack=rest)
        outcome = Outcome.REVERTED
        if index == len(state.stack) - 1:
            new = replace(
                new,
                activated_by=cmd.actor,
                activated_at=now.utc,
                cause=Cause.REVERT,
                cause_ref=cmd.cause_ref,
            )
    elif flagged != entry:
        new = replace(state, stack=(*state.stack[:index], flagged, *rest[index:]))
        outcome = Outcome.REVERT_PENDING
    else:
        return Transition(state, Outcome.REVERT_PENDING, False, None)
    return _commit(state, new, outcome, now, cmd, detail=str(cmd.event))


def _tile(
    state: WallState[C],
    cmd: PushTile[C] | ClearTileOverride | TileBack,
    content: C | None,
    now: Instant,
    action: Action,
) -> Transition[C]:
    layout_id = cmd.layout_id or state.active_layout_id
    if layout_id is None or not state.screen.shows(layout_id):
        raise LayoutNotShown(f"layout {layout_id} is not on wall {state.wall_id}")
    # The topmost layer showing the layout owns the tile's override.
    owners = [i for i, e in enumerate(state.stack) if e.screen.shows(layout_id)]
    owner = owners[-1] if owners else None
    layer = state.base if owner is None else state.stack[owner].screen
    if action is Action.TILE_BACK:
        changed = layer.back(layout_id, cmd.tile_id)
    else:
        changed = layer.set_tile(layout_id, cmd.tile_id, content)
    if changed is layer:
        return Transition(state, Outcome.NO_OP, False, None)
    if owner is None:
        new = replace(state, base=changed)
    else:
        entry = replace(state.stack[owner], screen=changed)
        new = replace(
            state, stack=(*state.stack[:owner], entry, *state.stack[owner + 1 :])
        )
    outcome = Outcome.TILE_RESTORED if action is Action.TILE_BACK else Outcome.TILE_SET
    return _commit(state, new, outcome, now, cmd, action=action)


def _commit(
    old: WallState[C],
    new: WallState[C],
    outcome: Outcome,
    now: Instant,
    cmd: Command[C],
    *,
    action: Action | None = None,
    superseded: tuple[str, ...] = (),
    detail: str = "",
) -> Transition[C]:
    new = replace(new, revision=old.revision + 1)
    reverting = isinstance(cmd, RevertCause)
    cause = Cause.REVERT if isinstance(cmd, RevertCause) else cmd.cause
    audit = AuditRecord(
        wall_id=old.wall_id,
        revision=new.revision,
        at=now.utc,
        actor=cmd.actor,
        action=action or (Action.REVERT if reverting else Action.ACTIVATE_LAYOUT),
        cause=cause,
        cause_ref=cmd.cause_ref,
        from_layout_id=old.active_layout_id,
        to_layout_id=new.active_layout_id,
        outcome=outcome,
        tile_id=getattr(cmd, "tile_id", None),
        superseded_refs=superseded,
        detail=detail or f"layout {getattr(cmd, 'layout_id', None)}",
    )
    changed = old.screen.visible() != new.screen.visible()
    return Transition(new, outcome, changed, audit)


def due_reverts(state: WallState[C], now: Instant) -> tuple[RevertCause, ...]:
    """``after_s`` reverts whose time has come; apply each of them (A2)."""
    return tuple(
        RevertCause(
            wall_id=state.wall_id,
            cause_ref=e.cause_ref,
            actor=SYSTEM_ACTOR,
            event=RevertEvent.EXPIRED,
        )
        for e in state.stack
        if (due := e.revert_at_monotonic_s) is not None and now.monotonic_s >= due
    )


def next_revert_monotonic_s(state: WallState[C]) -> float | None:
    """The earliest ``after_s`` deadline, for the caller's timer."""
    deadlines = [d for e in state.stack if (d := e.revert_at_monotonic_s) is not None]
    return min(deadlines, default=None)


def rebase_monotonic(state: WallState[C], now: Instant) -> WallState[C]:
    """Re-anchor monotonic stamps after a restart (the clock starts anew).

    Cooldowns are forgotten; each stacked entry keeps the UTC age it had.
    """
    stack = tuple(
        replace(
            e,
            activated_monotonic_s=now.monotonic_s
            - max(0.0, (now.utc - e.activated_at).total_seconds()),
        )
        for e in state.stack
    )
    return replace(state, stack=stack, cooldowns=())


def newest(a: WallState[C], b: WallState[C]) -> WallState[C]:
    """The state a display keeps when updates arrive out of order (W5)."""
    return b if b.revision > a.revision else a

"""A wall's desired state and the pure transition function (W3-W6, W10, A1-A4, A9).

Model: the wall shows a *base* screen with a *revert stack* of activations on
top of it, ranked by ``(priority, seq)``; each stacked activation covers the
panels of its layout, so the composed :attr:`WallState.screen` is what every
display must show. Policies (each pinned by a test in ``tests/wall/walls``):

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
from typing import Generic

from wall.walls.core.audit import Action, AuditRecord, Outcome
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
    TileBack,
    WrongWall,
)
from wall.walls.core.revert_stack import StackEntry
from wall.walls.core.screen import EMPTY_SCREEN, Part, Screen


class LayoutNotShown(ValueError):
    """A tile command for a layout that is not on the wall."""


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
            screen=EMPTY_SCREEN.with_part(part),
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
        new = _activated(new, cmd.actor, now, cmd.cause, cmd.cause_ref)
    superseded = tuple(e.cause_ref for e in dropped)
    return _commit(state, new, outcome, now, cmd, superseded=superseded)


def _activated(
    state: WallState[C], actor: str, now: Instant, cause: Cause, cause_ref: str | None
) -> WallState[C]:
    # who put the screen there, when and why
    return replace(
        state,
        activated_by=actor,
        activated_at=now.utc,
        cause=cause,
        cause_ref=cause_ref,
    )


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
            new = _activated(new, cmd.actor, now, Cause.REVERT, cmd.cause_ref)
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

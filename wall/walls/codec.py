"""JSON form of a wall's desired state, for the store (survives restarts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from layouts.schema import TileContent
from wall.walls.core.commands import Cause, RevertPolicy
from wall.walls.core.revert_stack import StackEntry
from wall.walls.core.screen import Part, Screen, TileSlot
from wall.walls.core.wall_state import WallState

CONTENT: TypeAdapter[TileContent] = TypeAdapter(TileContent)

FORMAT = 1


def _content(value: TileContent | None) -> Any:
    return None if value is None else CONTENT.dump_python(value, mode="json")


def _content_in(value: Any) -> TileContent | None:
    return None if value is None else CONTENT.validate_python(value)


def _screen_out(screen: Screen[TileContent]) -> dict[str, Any]:
    return {
        "parts": [
            {"layout_id": p.layout_id, "panel_ids": sorted(p.panel_ids)}
            for p in screen.parts
        ],
        "tiles": [
            {
                "layout_id": s.layout_id,
                "tile_id": s.tile_id,
                "content": _content(s.content),
                "history": [_content(h) for h in s.history],
            }
            for s in screen.tiles
        ],
    }


def _screen_in(data: dict[str, Any]) -> Screen[TileContent]:
    parts = tuple(
        Part(p["layout_id"], frozenset(p["panel_ids"])) for p in data["parts"]
    )
    tiles: tuple[TileSlot[TileContent], ...] = tuple(
        TileSlot(
            s["layout_id"],
            s["tile_id"],
            _content_in(s["content"]),
            tuple(_content_in(h) for h in s["history"]),
        )
        for s in data["tiles"]
    )
    return Screen(parts, tiles)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time_in(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def state_to_json(state: WallState[TileContent]) -> dict[str, Any]:
    """Encode ``state`` (monotonic deadlines are kept; rebase after a restart)."""
    return {
        "format": FORMAT,
        "wall_id": state.wall_id,
        "revision": state.revision,
        "base": _screen_out(state.base),
        "stack": [
            {
                "cause_ref": e.cause_ref,
                "cause": e.cause.value,
                "actor": e.actor,
                "priority": e.priority,
                "seq": e.seq,
                "screen": _screen_out(e.screen),
                "activated_at": _time(e.activated_at),
                "activated_monotonic_s": e.activated_monotonic_s,
                "revert_policy": e.revert_policy.value,
                "revert_after_s": e.revert_after_s,
                "exclusive_group": e.exclusive_group,
                "acked": e.acked,
                "cleared": e.cleared,
            }
            for e in state.stack
        ],
        "activated_by": state.activated_by,
        "activated_at": _time(state.activated_at),
        "cause": state.cause.value if state.cause else None,
        "cause_ref": state.cause_ref,
        "cooldowns": [list(c) for c in state.cooldowns],
    }


def state_from_json(data: dict[str, Any]) -> WallState[TileContent]:
    """Decode what :func:`state_to_json` wrote.

    Raises:
        ValueError: an unknown format version or a malformed record.
    """
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown wall state format {data.get('format')!r}")
    try:
        stack = tuple(
            StackEntry(
                cause_ref=e["cause_ref"],
                cause=Cause(e["cause"]),
                actor=e["actor"],
                priority=int(e["priority"]),
                seq=int(e["seq"]),
                screen=_screen_in(e["screen"]),
                activated_at=datetime.fromisoformat(e["activated_at"]),
                activated_monotonic_s=float(e["activated_monotonic_s"]),
                revert_policy=RevertPolicy(e["revert_policy"]),
                revert_after_s=e["revert_after_s"],
                exclusive_group=e["exclusive_group"],
                acked=bool(e["acked"]),
                cleared=bool(e["cleared"]),
            )
            for e in data["stack"]
        )
        state: WallState[TileContent] = WallState(
            wall_id=data["wall_id"],
            revision=int(data["revision"]),
            base=_screen_in(data["base"]),
            stack=stack,
            activated_by=data["activated_by"],
            activated_at=_time_in(data["activated_at"]),
            cause=Cause(data["cause"]) if data["cause"] else None,
            cause_ref=data["cause_ref"],
            cooldowns=tuple((str(k), float(v)) for k, v in data["cooldowns"]),
        )
    except (KeyError, TypeError) as err:
        raise ValueError(f"malformed wall state: {err}") from err
    return state

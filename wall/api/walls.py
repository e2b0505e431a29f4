"""Wall endpoints: desired state, switching, tile pushes, and the display feed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request, WebSocket
from pydantic import Field, ValidationError
from starlette.requests import HTTPConnection

from layouts.schema import TileContent
from wall.api.access import requires
from wall.api.deps import runtime_of
from wall.api.frames import read_text
from wall.api.sockets import FeedClosed, accept_authorized, serve_duplex
from wall.platform.auth import AccessDenied, Permission, Principal, authorize
from wall.platform.errors import NotFound
from wall.platform.wire import WireModel, WireTime
from wall.walls.core.wall_state import Transition
from wall.walls.displays import Display, reports_acks
from wall.walls.render import WallDetail
from wall.walls.service import WallService
from wall.walls.settings import WallSettings

router = APIRouter(prefix="/api/v1", tags=["walls"])
_F = TypeVar("_F", bound=Callable[..., object])


class SwitchLayout(WireModel):
    """Switch a wall to a layout."""

    layout_id: str = Field(min_length=1, max_length=128)


class PushTileBody(WireModel):
    """Content to put into a tile (kept until the layout is activated again)."""

    content: TileContent


class RevertBody(WireModel):
    """Revert what an activation with this cause reference put on the wall."""

    cause_ref: str = Field(min_length=1, max_length=256)


class DisplayApplied(WireModel):
    """Display → server: a revision is on screen."""

    type: str = Field(pattern="^applied$")
    # strict: a JSON float (1e18, 3.0) is not a revision
    revision: int = Field(ge=0, strict=True)
    at: WireTime = Field(description="When it was drawn (the display's clock).")


class CommandResult(WireModel):
    """What a wall command did."""

    outcome: str = Field(description="applied, queued, tile_set, no_op, ...")
    revision: int = Field(description="The wall's revision afterwards (W5).")
    active_layout_id: str | None
    display_changed: bool = Field(description="Whether displays redraw.")


class WallSummary(WireModel):
    """One configured wall."""

    id: str
    name: str
    rows: int
    cols: int
    canvas_wh: tuple[int, int]
    revision: int
    active_layout_id: str | None
    displays: int = Field(description="Displays connected now.")


class WallList(WireModel):
    """Every configured wall."""

    walls: tuple[WallSummary, ...]


def _result(t: Transition[TileContent]) -> CommandResult:
    return CommandResult(
        outcome=t.outcome.value,
        revision=t.state.revision,
        active_layout_id=t.state.active_layout_id,
        display_changed=t.display_changed,
    )


CanView = Annotated[Principal, Depends(requires(Permission.VIEW_CAMERAS))]
CanSwitch = Annotated[Principal, Depends(requires(Permission.SWITCH_LAYOUTS))]
CanPush = Annotated[Principal, Depends(requires(Permission.PUSH_TILES))]


def sees_wall(principal: Principal, wall_id: str) -> bool:
    """Whether ``principal`` may see wall ``wall_id`` (a kiosk sees only its own).

    The rule is :func:`~wall.platform.auth.authorize`'s: a token bound to a
    wall acts on that wall only. Lists and event feeds filter with this.
    """
    try:
        authorize(principal, Permission.VIEW_CAMERAS, wall_id)
    except AccessDenied:
        return False
    return True


@router.get("/walls", summary="List walls with their active layouts")
async def list_walls(request: Request, who: CanView) -> WallList:
    """Every configured wall the caller may see (a kiosk: only its own)."""
    svc = _walls(request)
    return WallList(
        walls=tuple(
            WallSummary(
                id=w.id,
                name=w.name,
                rows=w.rows,
                cols=w.cols,
                canvas_wh=(w.canvas_w_px, w.canvas_h_px),
                revision=svc.states[w.id].revision,
                active_layout_id=svc.states[w.id].active_layout_id,
                displays=len(svc.observed(w.id)),
            )
            for w in svc.walls.values()
            if sees_wall(who, w.id)
        )
    )


@router.get("/walls/{wall_id}", summary="A wall's desired state and its displays")
async def get_wall(request: Request, wall_id: str, _: CanView) -> WallDetail:
    """The desired state (with a monotonic revision) and what displays applied."""
    svc = _walls(request)
    return WallDetail(**dict(svc.render(wall_id)), observed=svc.observed(wall_id))


def _walls(conn: HTTPConnection) -> WallService:
    return runtime_of(conn).walls


def _command(method: str, path: str, summary: str) -> Callable[[_F], _F]:
    # a wall command: its route answers what the command did
    return router.api_route(
        path, methods=[method], summary=summary, response_model=CommandResult
    )


@_command("POST", "/walls/{wall_id}/layout", "Switch the wall's layout")
async def switch_layout(
    request: Request, wall_id: str, body: SwitchLayout, who: CanSwitch
) -> CommandResult:
    """Activate a layout on the whole wall (or its scoped panels)."""
    return _result(await _walls(request).activate(wall_id, body.layout_id, who.name))


@_command("PUT", "/walls/{wall_id}/tiles/{tile_id}", "Push content into a tile")
async def push_tile(
    request: Request, wall_id: str, tile_id: str, body: PushTileBody, who: CanPush
) -> CommandResult:
    """Override a tile of the active layout (e.g. drop a camera into it)."""
    svc = _walls(request)
    return _result(await svc.push_tile(wall_id, tile_id, body.content, who.name))


@_command("DELETE", "/walls/{wall_id}/tiles/{tile_id}", "Clear a tile override")
async def clear_tile(
    request: Request, wall_id: str, tile_id: str, who: CanPush
) -> CommandResult:
    """The tile shows its layout's own content again."""
    return _result(await _walls(request).clear_tile(wall_id, tile_id, who.name))


@_command("POST", "/walls/{wall_id}/tiles/{tile_id}/back", "Previous tile content")
async def tile_back(
    request: Request, wall_id: str, tile_id: str, who: CanPush
) -> CommandResult:
    """Restore the tile's previous content (up to 8 steps, W10)."""
    return _result(await _walls(request).tile_back(wall_id, tile_id, who.name))


@_command("POST", "/walls/{wall_id}/revert", "Revert a caused activation")
async def revert(
    request: Request, wall_id: str, body: RevertBody, who: CanSwitch
) -> CommandResult:
    """Undo what an activation with ``cause_ref`` put on the wall (revert stack)."""
    return _result(await _walls(request).revert(wall_id, body.cause_ref, who.name))


_PANEL = re.compile(r"([0-9]{1,4})(?:,([0-9]{1,4}))?")


def _panel(value: str | None, wall: WallSettings) -> int | None:
    """``ROW,COL`` (from 0) or a row-major index: the panel's index on ``wall``."""
    if value is None or value == "":
        return None
    match = _PANEL.fullmatch(value)
    if match is None:
        raise NotFound(
            "panel_not_found",
            f"panel must be ROW,COL or an index from 0, got {value[:20]!r}",
        )
    if match.group(2) is None:
        index = int(match.group(1))
    else:
        row, col = int(match.group(1)), int(match.group(2))
        if row >= wall.rows or col >= wall.cols:
            raise NotFound(
                "panel_not_found",
                f"wall {wall.id!r} has {wall.rows} rows and {wall.cols} columns:"
                f" no panel {row},{col}",
            )
        index = row * wall.cols + col
    if index >= wall.rows * wall.cols:
        raise NotFound("panel_not_found", f"wall {wall.id!r} has no panel {index}")
    return index


def _viewport(value: str | None) -> tuple[int, int] | None:
    """``WIDTHxHEIGHT`` in device pixels, e.g. ``1920x1080``."""
    if not value:
        return None
    w, sep, h = value.partition("x")
    if not (sep and w.isdigit() and h.isdigit()) or not (
        0 < int(w) <= 16384 and 0 < int(h) <= 16384
    ):
        raise ValueError(f"viewport must be WIDTHxHEIGHT in pixels, got {value!r}")
    return int(w), int(h)


@router.websocket("/walls/{wall_id}/ws")
async def display_feed(websocket: WebSocket, wall_id: str) -> None:
    """A display's feed: the full render on connect and after every change.

    Query: ``access_token``, ``panel=ROW,COL`` (or an index) for a
    one-panel display, and ``viewport=WxH``, the display's drawing area in
    device pixels (camera tiles take the streams that fit it; default: a
    full-size panel). Messages: ``wall_state`` (the render) and, after each
    render and at every tour step, one ``tour`` per touring tile with the
    camera it shows now (T6). The display answers ``{"type": "applied", "revision",
    "at"}`` once it has drawn a revision; only a display token bound to this
    wall or an admin may (:func:`~wall.walls.displays.reports_acks`). Other
    tokens' acks, and acks of a revision the wall has not reached, get an
    ``error`` message and are ignored. A panel outside the wall, or a
    malformed panel or viewport, closes the socket with 4404 and the reason;
    frames that cannot be messages close it as :mod:`wall.api.frames` says.
    """
    runtime = runtime_of(websocket)
    principal = await accept_authorized(
        websocket, Permission.VIEW_CAMERAS, wall_id=wall_id
    )
    if principal is None:
        return
    try:
        wall = runtime.walls.wall(wall_id)
        panel = _panel(websocket.query_params.get("panel"), wall)
        viewport = _viewport(websocket.query_params.get("viewport"))
        display = runtime.walls.attach_display(wall_id, panel, principal.name, viewport)
    except (NotFound, ValueError) as err:  # unknown wall or panel, bad viewport
        await websocket.close(code=4404, reason=str(err)[:120])
        return
    display.reports_acks = reports_acks(principal, wall_id)
    await serve_duplex(
        websocket,
        "display",
        lambda: _send_renders(websocket, display),
        lambda: _read_acks(
            websocket, display, lambda: runtime.walls.states[wall_id].revision
        ),
        lambda: runtime.walls.detach_display(display),
    )


async def _send_renders(websocket: WebSocket, display: Display) -> None:
    # a render ("wall_state") first, then the state of each touring tile
    # ("tour"), again at every tour step
    while (message := await display.next_message()) is not None:
        await websocket.send_text(message.model_dump_json())
    raise FeedClosed


async def _read_acks(
    websocket: WebSocket, display: Display, revision_now: Callable[[], int]
) -> None:
    # an ack that is refused is answered with an error and changes nothing
    while True:
        raw = await read_text(websocket)
        try:
            ack = DisplayApplied.model_validate_json(raw)
        except ValidationError as err:
            refusal: str | None = str(err.errors()[0]["msg"])
        else:
            refusal = display.record_applied(ack.revision, ack.at, revision_now())
        if refusal is not None:
            await websocket.send_json({"type": "error", "message": refusal})

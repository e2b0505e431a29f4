"""The wire models of what a wall's displays draw: the render and the tour message.

Sent whole on (re)connect and after every change (W6): the ``wall_state``
message of the display feed and ``GET /walls/{id}`` share :class:`WallRender`.
Tile content is the layout file's content plus what the server knows of it
(a removed camera, the stream to take); a touring tile's current camera comes
as a :class:`TourMessage`, computed once on the server (T6).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from layouts.content import CameraContent, TileContent, TourContent, TourItem
from layouts.streams import StreamRole
from wall.platform.wire import WireModel, WireTime
from wall.walls.core.tours import TourStatus

Rect4 = tuple[int, int, int, int]
"""``[x, y, w, h]`` in px."""


class RenderedCamera(CameraContent):
    """A camera tile as drawn."""

    camera_removed: bool = Field(
        False, description="The camera is no longer configured (W7 placeholder)."
    )
    stream_role: StreamRole | None = Field(
        None, description="The stream to ask for at this display's size (S4)."
    )


class RenderedTourItem(TourItem):
    """One camera of a tour as drawn."""

    camera_removed: bool = Field(
        False, description="The camera is no longer configured."
    )


class RenderedTour(TourContent):
    """A tour tile as drawn; its current camera comes in a :class:`TourMessage`."""

    items: tuple[RenderedTourItem, ...] = Field(
        min_length=1, max_length=256, description="Cameras in order."
    )


RenderedContent = RenderedCamera | RenderedTour | TileContent
"""A tile's content as drawn (other kinds exactly as in the layout file)."""


class TileRender(WireModel):
    """The piece of one tile that one panel draws."""

    id: str = Field(description="Tile id in its layout.")
    z: int = Field(description="Layer; lower first.")
    title: str | None = Field(description="Title text.")
    title_mode: str = Field(description="How the title shows.")
    tile_wh: tuple[int, int] = Field(description="The whole tile's size, wall px.")
    rect: Rect4 = Field(description="Where to draw, panel-local px.")
    crop: Rect4 = Field(description="Which part of the tile, tile-local px.")
    overridden: bool = Field(description="Content pushed over the layout's own.")
    content: RenderedContent = Field(description="What the tile shows.")


class PanelRender(WireModel):
    """One panel of the wall."""

    index: int = Field(description="Row-major from 0.")
    row: int
    col: int
    rect: Rect4 = Field(description="The panel on the wall canvas, px.")
    layout_id: str | None = Field(description="The layout this panel shows.")
    tiles: tuple[TileRender, ...] = Field(description="In draw order.")
    missing_layout: bool = Field(False, description="The layout was deleted.")


class RevertEntry(WireModel):
    """A stacked activation waiting to give the wall back (A2, A3)."""

    cause_ref: str
    cause: str
    priority: int
    layouts: tuple[str, ...]


class TourMessage(WireModel):
    """What a touring tile shows now; sent after each render and at every step."""

    type: Literal["tour"] = "tour"
    tile_id: str = Field(description="The tile's id, as in the render.")
    status: TourStatus = Field(description="playing, all_offline, empty or paused.")
    camera_id: str | None = Field(description="The camera on screen.")
    next_camera_id: str | None = Field(description="The next slot's camera (T3).")
    switch_at: WireTime | None = Field(description="When the next slot starts.")
    stream: StreamRole = Field(description="The stream to take at this size (S4).")


class WallRender(WireModel):
    """Everything a display needs to draw the wall's current revision (W6)."""

    wall_id: str
    revision: int = Field(description="Moves on every effective change (W5).")
    canvas_wh: tuple[int, int]
    panel_wh: tuple[int, int]
    rows: int
    cols: int
    active_layout_id: str | None
    cause: str | None = Field(description="Why the wall last changed.")
    cause_ref: str | None
    activated_by: str | None
    activated_at: WireTime | None
    revert_stack: tuple[RevertEntry, ...] = Field(description="Lowest rank first.")
    panels: tuple[PanelRender, ...]
    tours: tuple[TourMessage, ...] = Field(
        (), description="The state of every touring tile, as the tour messages."
    )


class WallStateMessage(WallRender):
    """The display feed's render message."""

    type: Literal["wall_state"] = "wall_state"
    display_id: str
    panel: int | None = Field(description="The panel shown, None for the wall.")


class DisplayObserved(WireModel):
    """What one connected display has applied."""

    display_id: str
    panel: int | None
    principal: str
    connected_at: WireTime
    applied_revision: int | None
    applied_at: WireTime | None = Field(description="When it was drawn.")


class WallDetail(WallRender):
    """A wall's render and its displays (``GET /walls/{id}``)."""

    observed: tuple[DisplayObserved, ...]

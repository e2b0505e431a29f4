"""What a wall's displays render: panels, tile pieces and their content.

Built from the wall's desired state and the layouts it shows, and sent whole
to every display on (re)connect and after every change (W6): a display never
needs earlier messages to draw the current revision.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import asdict, dataclass

from layouts import Layout, WallShape, fit_layout_to_wall, place_tiles
from layouts.content import CameraContent, StreamPref, TileContent, TourContent
from layouts.schema import Panel, Tile
from layouts.solver import PanelPlacement
from layouts.streams import StreamRole, choose_stream
from wall.walls.core.tour_board import TileTour
from wall.walls.core.wall_state import WallState
from wall.walls.render import (
    PanelRender,
    RenderedCamera,
    RenderedContent,
    RenderedTour,
    RenderedTourItem,
    RevertEntry,
    TileRender,
    TourMessage,
    WallRender,
)


def panel_id(index: int) -> str:
    """The wall-state panel id of a panel index (row-major from 0)."""
    return str(index)


StreamRoleOf = Callable[[str, StreamPref, tuple[int, int]], StreamRole]
"""(camera id, stream preference, tile size as drawn in device px) → stream."""


@dataclass(frozen=True, slots=True)
class Shown:
    """One piece of a tile on one panel, with the content it shows."""

    panel: Panel
    piece: PanelPlacement
    tile: Tile
    content: TileContent
    overridden: bool


@dataclass(frozen=True, slots=True)
class Drawing:
    """What the renderer knows beyond the state: cameras and display scale.

    Attributes:
        camera_ids: the configured cameras (others show "camera removed").
        stream_role: which stream a camera takes at a drawn size; ``None``
            leaves camera tiles without one (and tours on the pure rule).
        scale: device px per wall px of the display rendered for.
    """

    camera_ids: Collection[str]
    stream_role: StreamRoleOf | None = None
    scale: float = 1.0

    def drawn(self, tile_wh: tuple[int, int]) -> tuple[int, int]:
        """A tile's size as this display draws it, device px."""
        return (
            max(1, round(tile_wh[0] * self.scale)),
            max(1, round(tile_wh[1] * self.scale)),
        )

    def stream(
        self, camera_id: str | None, preference: StreamPref, tile_wh: tuple[int, int]
    ) -> StreamRole:
        """The stream of ``camera_id`` for a tile (the pure rule if unknown)."""
        drawn = self.drawn(tile_wh)
        if camera_id is None or self.stream_role is None:
            return choose_stream(preference, tile_wh=drawn)
        return self.stream_role(camera_id, preference, drawn)


def shown_tiles(
    wall: WallShape, state: WallState[TileContent], layouts: Mapping[str, Layout]
) -> Iterator[Shown]:
    """Every tile piece the wall shows, panel by panel, in draw order."""
    screen = state.screen
    fitted: dict[str, Layout] = {}
    for panel in wall.panels():
        layout_id = screen.layout_for_panel(panel_id(panel.index))
        layout = layouts.get(layout_id) if layout_id else None
        if layout is None:
            continue
        if layout.id not in fitted:
            fitted[layout.id] = fit_layout_to_wall(layout, wall)
        shown = fitted[layout.id]
        overrides = screen.overrides(layout.id)
        tiles = {t.id: t for t in shown.tiles}
        for piece in place_tiles(shown, wall):
            if piece.panel_index == panel.index:
                tile = tiles[piece.tile_id]
                content = overrides.get(tile.id, tile.content)
                yield Shown(panel, piece, tile, content, tile.id in overrides)


def touring_tiles(
    wall: WallShape, state: WallState[TileContent], layouts: Mapping[str, Layout]
) -> dict[str, TourContent]:
    """Tile id → tour of every tile that tours on the wall now."""
    return {
        s.tile.id: s.content
        for s in shown_tiles(wall, state, layouts)
        if isinstance(s.content, TourContent)
    }


def _content(
    content: TileContent, tile_wh: tuple[int, int], drawing: Drawing
) -> RenderedContent:
    cameras = drawing.camera_ids
    if isinstance(content, CameraContent):
        camera_id = content.camera_id
        removed = camera_id not in cameras  # W7: the layout still loads
        # the display asks for exactly this stream, so a tile of the next
        # layout that shows the same camera and stream keeps its session
        role = None
        if not removed and drawing.stream_role is not None:
            role = drawing.stream(camera_id, content.stream, tile_wh)
        return RenderedCamera(**dict(content), camera_removed=removed, stream_role=role)
    if isinstance(content, TourContent):
        items = tuple(
            RenderedTourItem(**dict(i), camera_removed=i.camera_id not in cameras)
            for i in content.items
        )
        return RenderedTour(**{**dict(content), "items": items})
    return content


def _tile(shown: Shown, drawing: Drawing) -> TileRender:
    tile, piece = shown.tile, shown.piece
    tile_wh = (tile.rect.w, tile.rect.h)
    return TileRender(
        id=tile.id,
        z=tile.z,
        title=tile.title,
        title_mode=tile.title_mode,
        tile_wh=tile_wh,
        rect=piece.panel_rect.xywh,
        crop=piece.crop_rect.xywh,
        overridden=shown.overridden,
        content=_content(shown.content, tile_wh, drawing),
    )


def tour_message(
    tour: TileTour, tile_wh: tuple[int, int], drawing: Drawing
) -> TourMessage:
    """The feed message of one touring tile for a display (S4 stream by size)."""
    stream = drawing.stream(tour.camera_id, StreamPref.AUTO, tile_wh)
    return TourMessage(**asdict(tour), stream=stream)


def _panels(
    wall: WallShape,
    state: WallState[TileContent],
    layouts: Mapping[str, Layout],
    pieces: Mapping[int, list[TileRender]],
) -> tuple[PanelRender, ...]:
    screen = state.screen
    panels = []
    for panel in wall.panels():
        layout_id = screen.layout_for_panel(panel_id(panel.index))
        panels.append(
            PanelRender(
                index=panel.index,
                row=panel.row,
                col=panel.col,
                rect=panel.rect.xywh,
                layout_id=layout_id,
                tiles=tuple(pieces.get(panel.index, ())),
                missing_layout=bool(layout_id) and layout_id not in layouts,
            )
        )
    return tuple(panels)


def render_wall(
    wall: WallShape,
    wall_id: str,
    state: WallState[TileContent],
    layouts: Mapping[str, Layout],
    drawing: Drawing,
    tours: Mapping[str, TileTour] | None = None,
) -> WallRender:
    """The render model of every panel of ``wall`` for ``state``.

    A panel whose layout is missing (deleted) renders empty with a note.
    ``tours`` (tile id → state) adds the touring tiles' current cameras.
    """
    pieces: dict[int, list[TileRender]] = {}
    tour_wh: dict[str, tuple[int, int]] = {}
    for shown in shown_tiles(wall, state, layouts):
        pieces.setdefault(shown.panel.index, []).append(_tile(shown, drawing))
        tour_wh[shown.tile.id] = (shown.tile.rect.w, shown.tile.rect.h)
    return WallRender(
        wall_id=wall_id,
        revision=state.revision,
        canvas_wh=(wall.canvas_w_px, wall.canvas_h_px),
        panel_wh=(wall.panel_w_px, wall.panel_h_px),
        rows=wall.rows,
        cols=wall.cols,
        active_layout_id=state.active_layout_id,
        cause=state.cause.value if state.cause else None,
        cause_ref=state.cause_ref,
        activated_by=state.activated_by,
        activated_at=state.activated_at,
        revert_stack=tuple(
            RevertEntry(
                cause_ref=e.cause_ref,
                cause=e.cause.value,
                priority=e.priority,
                layouts=tuple(p.layout_id for p in e.screen.parts),
            )
            for e in state.stack
        ),
        panels=_panels(wall, state, layouts, pieces),
        tours=tuple(
            tour_message(t, tour_wh[tile_id], drawing)
            for tile_id, t in (tours or {}).items()
            if tile_id in tour_wh
        ),
    )

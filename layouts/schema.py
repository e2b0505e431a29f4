"""Layout file and API format: wall geometry, tiles and layouts (pydantic)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

from pydantic import Field, field_validator

from layouts.content import (
    AlarmFilter,
    AlarmListContent,
    AlarmSeverity,
    CameraContent,
    CaseFilter,
    CaseLight,
    CaseListContent,
    ClockContent,
    Domain,
    EmptyContent,
    GeoCrs,
    GridMetric,
    GridStatsContent,
    ImageContent,
    ImageFit,
    MapCenter,
    MapContent,
    MapLayer,
    SensorContent,
    StreamPref,
    TextContent,
    TextLevel,
    TileContent,
    TourContent,
    TourItem,
    tour_dwell_issues,
)
from layouts.file_model import FileModel
from layouts.rects import Rect
from layouts.tour_content import Ident, TourOrder

__all__ = [
    "SCHEMA_VERSION",
    "SUPPORTED_VERSIONS",
    "AlarmFilter",
    "AlarmListContent",
    "AlarmSeverity",
    "CameraContent",
    "CaseFilter",
    "CaseLight",
    "CaseListContent",
    "ClockContent",
    "Domain",
    "EmptyContent",
    "GeoCrs",
    "GridMetric",
    "GridStatsContent",
    "ImageContent",
    "ImageFit",
    "Layout",
    "LayoutDomain",
    "MapCenter",
    "MapContent",
    "MapLayer",
    "Panel",
    "SensorContent",
    "StreamPref",
    "TextContent",
    "TextLevel",
    "Tile",
    "TileContent",
    "TileRect",
    "TitleMode",
    "TourContent",
    "TourItem",
    "TourOrder",
    "WallShape",
    "WallSpec",
    "tour_dwell_issues",
]

SCHEMA_VERSION: Final = 1
SUPPORTED_VERSIONS: Final = (1,)
_MAX_PX: Final = 1_000_000  # far beyond any wall; keeps integer maths sane


@dataclass(frozen=True, slots=True)
class Panel:
    """One physical panel of a wall.

    Attributes:
        index: row-major index from 0 (``row * cols + col``).
        row: row from 0, top first.
        col: column from 0, left first.
        rect: where the panel's visible pixels sit on the wall canvas.
    """

    index: int
    row: int
    col: int
    rect: Rect


class WallShape(FileModel):
    """Geometry of a splicing wall: a grid of equal panels with bezel gaps.

    The wall canvas includes the bezels: ``bezel_h_px`` canvas pixels of
    glass lie between neighbouring columns, ``bezel_v_px`` between rows.
    Tile content behind a bezel is hidden, so straight lines stay straight
    across panels (bezel compensation).
    """

    rows: int = Field(ge=1, le=16, description="Panel rows.")
    cols: int = Field(ge=1, le=16, description="Panel columns.")
    panel_w_px: int = Field(1920, ge=16, le=7680, description="Panel width, pixels.")
    panel_h_px: int = Field(1080, ge=16, le=7680, description="Panel height, pixels.")
    bezel_h_px: int = Field(
        0, ge=0, le=1000, description="Gap between columns, canvas pixels."
    )
    bezel_v_px: int = Field(
        0, ge=0, le=1000, description="Gap between rows, canvas pixels."
    )

    @property
    def canvas_w_px(self) -> int:
        """Canvas width, pixels, bezels included.

        Examples:
            >>> WallShape(rows=3, cols=4).canvas_w_px
            7680
            >>> WallShape(rows=3, cols=4, bezel_h_px=10).canvas_w_px
            7710
        """
        return self.cols * self.panel_w_px + (self.cols - 1) * self.bezel_h_px

    @property
    def canvas_h_px(self) -> int:
        """Canvas height, pixels, bezels included.

        Examples:
            >>> WallShape(rows=3, cols=4, bezel_v_px=8).canvas_h_px
            3256
        """
        return self.rows * self.panel_h_px + (self.rows - 1) * self.bezel_v_px

    @property
    def canvas(self) -> Rect:
        """The whole canvas as a rect at the origin."""
        return Rect(0, 0, self.canvas_w_px, self.canvas_h_px)

    @property
    def panel_count(self) -> int:
        """Number of panels."""
        return self.rows * self.cols

    def panel(self, index: int) -> Panel:
        """Return panel ``index`` (row-major from 0) (W9).

        Raises:
            IndexError: no such panel.

        Examples:
            >>> WallShape(rows=3, cols=4, bezel_h_px=10, bezel_v_px=8).panel(5)
            Panel(index=5, row=1, col=1, rect=Rect(x=1930, y=1088, w=1920, h=1080))
        """
        if not 0 <= index < self.panel_count:
            raise IndexError(f"panel {index} not on a {self.cols}x{self.rows} wall")
        row, col = divmod(index, self.cols)
        x = col * (self.panel_w_px + self.bezel_h_px)
        y = row * (self.panel_h_px + self.bezel_v_px)
        return Panel(index, row, col, Rect(x, y, self.panel_w_px, self.panel_h_px))

    def panels(self) -> tuple[Panel, ...]:
        """Return every panel, row-major.

        Examples:
            >>> [p.rect.x for p in WallShape(rows=1, cols=3, bezel_h_px=6).panels()]
            [0, 1926, 3852]
        """
        return tuple(self.panel(i) for i in range(self.panel_count))

    def shape(self) -> WallShape:
        """Return the bare geometry (drops a ``WallSpec``'s identity)."""
        return WallShape(
            **{name: getattr(self, name) for name in WallShape.model_fields}
        )


class WallSpec(WallShape):
    """A physical wall: its identity plus its geometry."""

    id: Ident = Field(description="Stable wall id.")
    name: str = Field(min_length=1, max_length=64, description="Display name (zh).")


class TileRect(FileModel):
    """A tile's rectangle on the wall canvas, pixels (may span panels, W2).

    Sizes are not checked here: ``validate_layout`` names the tile when a rect
    is empty or leaves the canvas (W1).
    """

    x: int = Field(ge=-_MAX_PX, le=_MAX_PX, description="Left edge, canvas px.")
    y: int = Field(ge=-_MAX_PX, le=_MAX_PX, description="Top edge, canvas px.")
    w: int = Field(ge=-_MAX_PX, le=_MAX_PX, description="Width, px.")
    h: int = Field(ge=-_MAX_PX, le=_MAX_PX, description="Height, px.")

    def as_rect(self) -> Rect:
        """Return the geometry value object."""
        return Rect(self.x, self.y, self.w, self.h)


class TitleMode(StrEnum):
    """Tile title bar: none, a fixed title, or the title with a live indicator."""

    NONE = "none"
    TITLE = "title"
    TITLE_LIVE = "title_live"


class Tile(FileModel):
    """A window on the wall."""

    id: Ident = Field(description="Id, stable within the layout.")
    rect: TileRect = Field(description="Rectangle, wall canvas px.")
    z: int = Field(0, ge=-100, le=100, description="Layer; higher is in front.")
    title: str | None = Field(None, max_length=64, description="Title (zh).")
    title_mode: TitleMode = Field(TitleMode.TITLE, description="Title bar mode.")
    content: TileContent = Field(description="What the tile shows.")


class LayoutDomain(StrEnum):
    """The department a layout serves, or ``mixed`` for an overview."""

    GRID = "grid"
    FLOOD_DROUGHT = "flood_drought"
    EMERGENCY = "emergency"
    CIVIL_AIR_DEFENCE = "civil_air_defence"
    URBAN_MGMT = "urban_mgmt"
    MIXED = "mixed"


class Layout(FileModel):
    """A scene (场景): tiles for a wall shape, activated in one action."""

    version: Literal[1] = Field(description="Schema version of this document.")
    id: Ident = Field(description="Stable layout id.")
    name: str = Field(min_length=1, max_length=64, description="Name (zh).")
    name_en: str | None = Field(None, max_length=64, description="Name (en).")
    domain: LayoutDomain = Field(description="Department served.")
    description: str = Field("", max_length=2000, description="What it is for.")
    for_wall: WallShape = Field(
        description="Geometry the tile rects were drawn for; another wall with the"
        " same rows and cols can take the layout through fit_layout_to_wall."
    )
    scope_panels: tuple[int, ...] | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="Panel indexes (row-major from 0) the layout covers; other panels"
        " are left untouched (W3). Unset: the whole wall.",
    )
    tiles: tuple[Tile, ...] = Field(max_length=256, description="Tiles.")

    @field_validator("scope_panels")
    @classmethod
    def _distinct_panels(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is None:
            return None
        if any(index < 0 for index in value):
            raise ValueError("panel indexes start at 0")
        repeated = sorted({i for i in value if value.count(i) > 1})
        if repeated:
            raise ValueError(f"panel(s) listed twice: {repeated}")
        return value

    def tile(self, tile_id: str) -> Tile:
        """Return the tile with id ``tile_id``.

        Raises:
            KeyError: no such tile.
        """
        for tile in self.tiles:
            if tile.id == tile_id:
                return tile
        raise KeyError(tile_id)

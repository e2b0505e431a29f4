"""Layout geometry: validation, per-panel placement, bezel maths."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from layouts.content import CameraContent, TourContent, tour_dwell_issues
from layouts.errors import IssueCode, LayoutInvalid, LayoutIssue, Severity
from layouts.rects import Rect
from layouts.schema import Layout, Tile, WallShape


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Everything ``validate_layout`` found.

    Attributes:
        issues: errors and warnings in layout order.
    """

    issues: tuple[LayoutIssue, ...]

    @property
    def errors(self) -> tuple[LayoutIssue, ...]:
        """Issues that refuse the layout."""
        return tuple(i for i in self.issues if i.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[LayoutIssue, ...]:
        """Issues that only inform."""
        return tuple(i for i in self.issues if i.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        """Whether there is no error (warnings allowed)."""
        return not self.errors

    def raise_for_errors(self, source: str) -> None:
        """Raise ``LayoutInvalid`` listing every issue if there is any error."""
        if not self.ok:
            raise LayoutInvalid(source, self.issues)


@dataclass(frozen=True, slots=True)
class PanelPlacement:
    """The part of one tile that one panel shows.

    Attributes:
        tile_id: the tile.
        panel_index: the panel, row-major from 0.
        z: the tile's layer (draw lower z first, then layout order).
        panel_rect: where to draw, panel-local px.
        crop_rect: which part of the tile to draw, tile-local px (the tile's
            content is laid out at the full tile size; this is the crop).
    """

    tile_id: str
    panel_index: int
    z: int
    panel_rect: Rect
    crop_rect: Rect


def _issue(
    code: IssueCode, message: str, path: str, tile_id: str | None
) -> LayoutIssue:
    return LayoutIssue(Severity.ERROR, code, message, path, tile_id)


def _wall_issues(layout: Layout, wall: WallShape) -> list[LayoutIssue]:
    issues: list[LayoutIssue] = []
    designed = layout.for_wall
    if (designed.rows, designed.cols) != (wall.rows, wall.cols):
        issues.append(
            _issue(
                IssueCode.WALL_SHAPE_MISMATCH,
                f"layout is for a {designed.cols}x{designed.rows} wall,"
                f" this wall is {wall.cols}x{wall.rows} (cols x rows)",
                "for_wall",
                None,
            )
        )
    elif designed.shape() != wall.shape():
        issues.append(
            LayoutIssue(
                Severity.WARNING,
                IssueCode.WALL_GEOMETRY_DIFFERS,
                "layout was drawn for other panel sizes or bezels;"
                " use fit_layout_to_wall before showing it",
                "for_wall",
            )
        )
    for n, index in enumerate(layout.scope_panels or ()):
        if index >= wall.panel_count:
            issues.append(
                _issue(
                    IssueCode.UNKNOWN_PANEL,
                    f"panel {index} is not on this wall (0-{wall.panel_count - 1})",
                    f"scope_panels[{n}]",
                    None,
                )
            )
    return issues


def _rect_issues(
    tile: Tile, path: str, wall: WallShape, scope: frozenset[int] | None
) -> list[LayoutIssue]:
    rect = tile.rect.as_rect()
    where = f"{path}.rect"
    if rect.is_empty:
        message = f"rect has zero or negative size ({rect.w}x{rect.h} px)"
        return [_issue(IssueCode.RECT_EMPTY, message, where, tile.id)]
    issues: list[LayoutIssue] = []
    if not wall.canvas.contains(rect):
        issues.append(
            _issue(
                IssueCode.RECT_OUTSIDE_CANVAS,
                f"rect x {rect.x}..{rect.x2}, y {rect.y}..{rect.y2} leaves the"
                f" {wall.canvas_w_px}x{wall.canvas_h_px} px wall canvas",
                where,
                tile.id,
            )
        )
    shown_on = [p.index for p in wall.panels() if p.rect.intersection(rect)]
    outside = [i for i in shown_on if scope is not None and i not in scope]
    if outside:
        issues.append(
            _issue(
                IssueCode.OUTSIDE_SCOPE,
                f"tile covers panel(s) {outside} outside the layout's scope"
                f" {sorted(scope or ())}",
                where,
                tile.id,
            )
        )
    if not shown_on and not issues:
        issues.append(
            LayoutIssue(
                Severity.WARNING,
                IssueCode.TILE_HIDDEN,
                "tile lies wholly behind bezels and shows nothing",
                where,
                tile.id,
            )
        )
    return issues


def _content_issues(
    tile: Tile, path: str, known_camera_ids: Collection[str] | None
) -> list[LayoutIssue]:
    content = tile.content
    where = f"{path}.content"
    cameras: list[tuple[str, str]] = []
    issues: list[LayoutIssue] = []
    if isinstance(content, CameraContent):
        cameras.append((f"{where}.camera_id", content.camera_id))
    elif isinstance(content, TourContent):
        cameras += [
            (f"{where}.items[{n}].camera_id", item.camera_id)
            for n, item in enumerate(content.items)
        ]
        issues += tour_dwell_issues(content, where, tile.id)
    if known_camera_ids is not None:
        issues += [
            _issue(
                IssueCode.UNKNOWN_CAMERA, f"unknown camera {camera_id!r}", at, tile.id
            )
            for at, camera_id in cameras
            if camera_id not in known_camera_ids
        ]
    return issues


def _overlap_issues(layout: Layout) -> list[LayoutIssue]:
    issues: list[LayoutIssue] = []
    tiles = [(n, t, t.rect.as_rect()) for n, t in enumerate(layout.tiles)]
    for j, later, rect_j in tiles:
        for _, earlier, rect_i in tiles[:j]:
            if earlier.z != later.z or earlier.id == later.id:
                continue
            common = rect_i.intersection(rect_j)
            if common is not None:
                issues.append(
                    _issue(
                        IssueCode.OVERLAP,
                        f"tile overlaps tile {earlier.id!r} on layer z={later.z}"
                        f" ({common.w}x{common.h} px at {common.x},{common.y})",
                        f"tiles[{j}].rect",
                        later.id,
                    )
                )
    return issues


def validate_layout(
    layout: Layout, wall: WallShape, known_camera_ids: Collection[str] | None = None
) -> ValidationReport:
    """Check a layout against a wall and return every error and warning.

    Errors (W1, W8, T1): the wall has other rows or cols; a scope panel is not
    on the wall; a tile id is used twice; a rect is empty, leaves the canvas,
    overlaps another tile on the same z, or covers a panel outside the scope;
    a camera is unknown; a tour dwell is under 3 s. Warnings: a dwell outside
    5-30 s; a tile hidden behind bezels; panel sizes or bezels differ from the
    layout's ``for_wall`` (fit it first).

    Args:
        layout: the parsed layout.
        wall: the wall (geometry) to show it on.
        known_camera_ids: camera ids that exist; pass them when saving a
            layout. ``None`` skips the check, so a stored layout that names a
            since-deleted camera still loads (W7).

    Returns:
        The report; ``report.ok`` is true when there is no error.

    Examples:
        >>> from layouts.schema import EmptyContent, LayoutDomain, TileRect
        >>> tiles = [Tile(id="a", rect=TileRect(x=0, y=0, w=2000, h=500),
        ...               content=EmptyContent()),
        ...          Tile(id="b", rect=TileRect(x=1800, y=0, w=100, h=100),
        ...               content=EmptyContent())]
        >>> wall = WallShape(rows=1, cols=1)
        >>> layout = Layout(version=1, id="x", name="x", domain=LayoutDomain.MIXED,
        ...                 for_wall=wall, tiles=tiles)
        >>> [(i.tile_id, i.code.value) for i in validate_layout(layout, wall).errors]
        [('a', 'rect_outside_canvas'), ('b', 'overlap')]
    """
    issues = _wall_issues(layout, wall)
    scope = None if layout.scope_panels is None else frozenset(layout.scope_panels)
    first_use: dict[str, int] = {}
    for n, tile in enumerate(layout.tiles):
        path = f"tiles[{n}]"
        if tile.id in first_use:
            issues.append(
                _issue(
                    IssueCode.DUPLICATE_TILE_ID,
                    f"tile id {tile.id!r} already used by tiles[{first_use[tile.id]}]",
                    f"{path}.id",
                    tile.id,
                )
            )
        first_use.setdefault(tile.id, n)
        issues += _rect_issues(tile, path, wall, scope)
        issues += _content_issues(tile, path, known_camera_ids)
    issues += _overlap_issues(layout)
    return ValidationReport(tuple(issues))


def place_tiles(layout: Layout, wall: WallShape) -> list[PanelPlacement]:
    """Split every tile into its per-panel pieces (W2, bezel compensation).

    A tile spanning panels yields one piece per panel it covers. The pieces
    are the tile rect cut along panel edges in integer pixels, so together
    with the strips hidden behind bezels (and any part off the canvas) they
    cover the tile exactly, with no gap and no overlap.

    Args:
        layout: the layout (validate it first; invalid rects are clipped).
        wall: the wall geometry.

    Returns:
        Placements ordered by panel, then z, then layout order (draw order).

    Examples:
        >>> from layouts.schema import EmptyContent, LayoutDomain, TileRect
        >>> wall = WallShape(rows=1, cols=2, bezel_h_px=20)
        >>> tile = Tile(id="t", rect=TileRect(x=1820, y=0, w=220, h=100),
        ...             content=EmptyContent())
        >>> layout = Layout(version=1, id="x", name="x", domain=LayoutDomain.MIXED,
        ...                 for_wall=wall, tiles=[tile])
        >>> for p in place_tiles(layout, wall):
        ...     print(p.panel_index, p.panel_rect, p.crop_rect)
        0 Rect(x=1820, y=0, w=100, h=100) Rect(x=0, y=0, w=100, h=100)
        1 Rect(x=0, y=0, w=100, h=100) Rect(x=120, y=0, w=100, h=100)
    """
    panels = wall.panels()
    keyed: list[tuple[int, int, int, PanelPlacement]] = []
    for order, tile in enumerate(layout.tiles):
        rect = tile.rect.as_rect()
        for panel in panels:
            piece = panel.rect.intersection(rect)
            if piece is None:
                continue
            placement = PanelPlacement(
                tile_id=tile.id,
                panel_index=panel.index,
                z=tile.z,
                panel_rect=piece.shifted(-panel.rect.x, -panel.rect.y),
                crop_rect=piece.shifted(-rect.x, -rect.y),
            )
            keyed.append((panel.index, tile.z, order, placement))
    keyed.sort(key=lambda k: k[:3])
    return [k[3] for k in keyed]


def tiles_for_panel(
    layout: Layout, wall: WallShape, panel_index: int
) -> list[PanelPlacement]:
    """Return the pieces one panel draws, in draw order (z, then layout order).

    Raises:
        IndexError: the wall has no such panel.

    Examples:
        >>> from layouts.presets import preset_layout
        >>> wall = WallShape(rows=3, cols=4)
        >>> layout = preset_layout("2x2", wall)
        >>> [p.tile_id for p in tiles_for_panel(layout, wall, 1)]
        ['t1']
        >>> [p.tile_id for p in tiles_for_panel(layout, wall, 5)]
        ['t1', 't3']
    """
    wall.panel(panel_index)
    return [p for p in place_tiles(layout, wall) if p.panel_index == panel_index]

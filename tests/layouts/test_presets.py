"""Preset grids (分屏) and fitting layouts to walls with other panels or bezels."""

from __future__ import annotations

import pytest

from layouts.errors import IssueCode, LayoutInvalid
from layouts.fitting import fit_layout_to_wall
from layouts.loader import load_builtin_layouts
from layouts.presets import (
    PRESET_NAMES,
    PresetName,
    preset_layout,
    preset_rects,
    split_grid,
)
from layouts.rects import Rect
from layouts.schema import Layout, WallShape
from layouts.solver import place_tiles, validate_layout

AREAS = [
    Rect(0, 0, 1920, 1080),
    Rect(0, 0, 7680, 3240),
    Rect(1930, 1086, 1920, 1080),
    Rect(5, 7, 1001, 997),
]


def _assert_tiles_exactly(rects: list[Rect], area: Rect) -> None:
    assert all(area.contains(r) and not r.is_empty for r in rects)
    assert sum(r.area for r in rects) == area.area
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert a.intersection(b) is None


@pytest.mark.parametrize(
    ("name", "count", "focus_share"),
    [
        ("1x1", 1, 1),
        ("2x2", 4, 1 / 4),
        ("3x3", 9, 1 / 9),
        ("4x4", 16, 1 / 16),
        ("1+5", 6, 4 / 9),
        ("1+7", 8, 9 / 16),
    ],
)
@pytest.mark.parametrize("area", AREAS, ids=str)
def test_presets_tile_the_area_exactly(
    name: PresetName, count: int, focus_share: float, area: Rect
) -> None:
    rects = preset_rects(name, area)
    assert len(rects) == count
    _assert_tiles_exactly(rects, area)
    assert rects[0].area == pytest.approx(area.area * focus_share, rel=0.01)


def test_presets_cover_the_advertised_names() -> None:
    assert PRESET_NAMES == ("1x1", "2x2", "3x3", "4x4", "1+5", "1+7")


@pytest.mark.parametrize(
    ("rows", "cols", "match"),
    [(0, 2, "at least one row"), (2, 0, "at least one row")],
)
def test_split_grid_needs_cells(rows: int, cols: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        split_grid(Rect(0, 0, 10, 10), rows, cols)


def test_unknown_preset_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown preset '5x5'"):
        preset_rects("5x5", Rect(0, 0, 10, 10))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", PRESET_NAMES)
@pytest.mark.parametrize("panel_index", [None, 0, 7])
def test_w3_preset_layouts_validate(name: PresetName, panel_index: int | None) -> None:
    wall = WallShape(rows=3, cols=4, bezel_h_px=8, bezel_v_px=8)
    layout = preset_layout(name, wall, panel_index=panel_index)
    assert validate_layout(layout, wall).ok
    panels = {p.panel_index for p in place_tiles(layout, wall)}
    assert panels == (set(range(12)) if panel_index is None else {panel_index})


# --- fitting ----------------------------------------------------------------------------


def _builtin(wall_rows: int) -> list[Layout]:
    return [lay for lay in load_builtin_layouts() if lay.for_wall.rows == wall_rows]


@pytest.mark.parametrize(
    "wall",
    [
        WallShape(rows=3, cols=4, bezel_h_px=12, bezel_v_px=9),
        WallShape(
            rows=3,
            cols=4,
            panel_w_px=3840,
            panel_h_px=2160,
            bezel_h_px=20,
            bezel_v_px=20,
        ),
        WallShape(rows=3, cols=4, panel_w_px=1366, panel_h_px=768),
    ],
    ids=["bezels", "4k-bezels", "small-panels"],
)
def test_shipped_4x3_layouts_fit_other_panels_and_bezels(wall: WallShape) -> None:
    for designed in _builtin(3):
        fitted = fit_layout_to_wall(designed, wall)
        report = validate_layout(fitted, wall, {"demo-1", "demo-2", "demo-3", "demo-4"})
        assert report.issues == (), (designed.id, report.issues)
        assert fitted.for_wall == wall
        assert fit_layout_to_wall(fitted, designed.for_wall) == designed  # round trip
        # Tiles stay on the same panels, and panel-aligned tiles stay aligned.
        before = {
            (p.tile_id, p.panel_index) for p in place_tiles(designed, designed.for_wall)
        }
        after = {(p.tile_id, p.panel_index) for p in place_tiles(fitted, wall)}
        assert before == after
        for old, new in zip(designed.tiles, fitted.tiles, strict=True):
            if old.rect.x % 1920 == 0:
                assert new.rect.x % (wall.panel_w_px + wall.bezel_h_px) == 0


def test_fit_keeps_neighbours_gap_free_and_grows_a_seam_spanning_tile() -> None:
    design = WallShape(rows=1, cols=2)
    layout = preset_layout("4x4", design)  # 960 px columns: edges at 0, 960, 1920, 2880
    wall = WallShape(rows=1, cols=2, bezel_h_px=10)
    fitted = fit_layout_to_wall(layout, wall)
    xs = sorted({(t.rect.x, t.rect.x + t.rect.w) for t in fitted.tiles})
    assert xs == [(0, 960), (960, 1920), (1930, 2890), (2890, 3850)]
    spanning = fit_layout_to_wall(preset_layout("1x1", design), wall).tiles[0].rect
    assert (spanning.x, spanning.w) == (0, wall.canvas_w_px)


def test_fit_is_identity_on_the_same_wall() -> None:
    layout = _builtin(2)[0]
    assert fit_layout_to_wall(layout, layout.for_wall) is layout


def test_fit_refuses_another_grid() -> None:
    with pytest.raises(LayoutInvalid) as caught:
        fit_layout_to_wall(_builtin(3)[0], WallShape(rows=2, cols=2))
    assert [i.code for i in caught.value.issues] == [IssueCode.WALL_SHAPE_MISMATCH]

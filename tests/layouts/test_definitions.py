"""The shipped layouts: one per department plus an overview, for 4x3 and 2x2 walls."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from layouts.loader import load_builtin_layouts, parse_layout_data
from layouts.schema import (
    CameraContent,
    Layout,
    LayoutDomain,
    TextContent,
    TourContent,
    WallShape,
)
from layouts.solver import place_tiles, validate_layout

DEMO_CAMERAS = frozenset({"demo-1", "demo-2", "demo-3", "demo-4"})
WALLS = {"4x3": WallShape(rows=3, cols=4), "2x2": WallShape(rows=2, cols=2)}
CJK = re.compile(r"[\u4e00-\u9fff]")

BUILTIN = load_builtin_layouts()
BY_ID = {layout.id: layout for layout in BUILTIN}
EXPECTED_IDS = sorted(f"{d.value}_{shape}" for d in LayoutDomain for shape in WALLS)


def _wall_of(layout: Layout) -> WallShape:
    return WALLS[layout.id.rsplit("_", 1)[1]]


def test_one_file_per_department_and_wall_shape() -> None:
    folder = resources.files("layouts").joinpath("definitions")
    stems = sorted(
        e.name.removesuffix(".yaml")
        for e in folder.iterdir()
        if e.name.endswith(".yaml")
    )
    assert stems == EXPECTED_IDS
    assert sorted(BY_ID) == EXPECTED_IDS  # ids are unique and equal the file names


@pytest.mark.parametrize("layout_id", EXPECTED_IDS)
def test_shipped_layout_validates_with_no_issue(layout_id: str) -> None:
    layout = BY_ID[layout_id]
    wall = _wall_of(layout)
    assert layout.domain.value == layout_id.rsplit("_", 1)[0]
    assert layout.for_wall == wall
    report = validate_layout(layout, wall, DEMO_CAMERAS)
    assert report.issues == ()


@pytest.mark.parametrize("layout_id", EXPECTED_IDS)
def test_shipped_layout_fills_every_panel(layout_id: str) -> None:
    layout = BY_ID[layout_id]
    wall = _wall_of(layout)
    assert (
        sum(t.rect.w * t.rect.h for t in layout.tiles if t.z == 0) == wall.canvas.area
    )
    assert {p.panel_index for p in place_tiles(layout, wall)} == set(
        range(wall.panel_count)
    )


@pytest.mark.parametrize("layout_id", EXPECTED_IDS)
def test_shipped_layout_is_in_chinese_with_an_english_name(layout_id: str) -> None:
    layout = BY_ID[layout_id]
    assert CJK.search(layout.name)
    assert layout.name_en
    for tile in layout.tiles:
        if tile.title_mode != "none":
            assert tile.title is not None and CJK.search(tile.title), tile.id


@pytest.mark.parametrize("layout_id", EXPECTED_IDS)
def test_shipped_layout_round_trips_as_api_data(layout_id: str) -> None:
    layout = BY_ID[layout_id]
    assert parse_layout_data(layout.model_dump(mode="json"), "api") == layout


@pytest.mark.parametrize(
    ("domain", "kinds"),
    [
        (
            LayoutDomain.FLOOD_DROUGHT,
            {"map", "sensor", "camera", "alarm_list", "clock", "text"},
        ),
        (LayoutDomain.GRID, {"grid_stats", "case_list", "map", "tour"}),
        (LayoutDomain.EMERGENCY, {"map", "camera", "alarm_list", "case_list"}),
        (LayoutDomain.CIVIL_AIR_DEFENCE, {"map", "text", "camera"}),
        (LayoutDomain.URBAN_MGMT, {"camera", "case_list"}),
        (
            LayoutDomain.MIXED,
            {
                "map",
                "camera",
                "tour",
                "alarm_list",
                "case_list",
                "sensor",
                "grid_stats",
                "clock",
            },
        ),
    ],
)
@pytest.mark.parametrize("shape", sorted(WALLS))
def test_department_layouts_show_what_the_department_needs(
    domain: LayoutDomain, kinds: set[str], shape: str
) -> None:
    layout = BY_ID[f"{domain.value}_{shape}"]
    assert kinds <= {t.content.kind for t in layout.tiles}
    assert any(
        isinstance(t.content, TextContent) and t.content.scroll for t in layout.tiles
    )


@pytest.mark.parametrize("layout_id", EXPECTED_IDS)
def test_shipped_layouts_use_demo_cameras_and_sane_tours(layout_id: str) -> None:
    for tile in BY_ID[layout_id].tiles:
        content = tile.content
        if isinstance(content, CameraContent):
            assert content.camera_id in DEMO_CAMERAS
        if isinstance(content, TourContent):
            assert {i.camera_id for i in content.items} <= DEMO_CAMERAS
            assert all(5 <= content.dwell_of(i) <= 30 for i in content.items)

"""Layout solver: validation (W1, W3, W7, T1), per-panel pieces (W2), stream choice (S4)."""

from __future__ import annotations

import random
from collections import Counter
from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise

import pytest

from layouts.errors import IssueCode, LayoutInvalid, Severity
from layouts.rects import Rect
from layouts.schema import (
    CameraContent,
    EmptyContent,
    Layout,
    LayoutDomain,
    StreamPref,
    TextContent,
    Tile,
    TileContent,
    TileRect,
    TourContent,
    TourItem,
    WallShape,
)
from layouts.solver import place_tiles, tiles_for_panel, validate_layout
from layouts.streams import choose_stream, stream_for_tile

WALL_4X3 = WallShape(rows=3, cols=4)
CAMERAS = frozenset({"demo-1", "demo-2", "demo-3", "demo-4"})


def tile(
    tile_id: str,
    xywh: tuple[int, int, int, int],
    z: int = 0,
    content: TileContent | None = None,
) -> Tile:
    x, y, w, h = xywh
    return Tile(
        id=tile_id,
        rect=TileRect(x=x, y=y, w=w, h=h),
        z=z,
        content=content or EmptyContent(),
    )


def layout(
    *tiles: Tile, wall: WallShape = WALL_4X3, scope: tuple[int, ...] | None = None
) -> Layout:
    return Layout(
        version=1,
        id="test",
        name="测试",
        domain=LayoutDomain.MIXED,
        for_wall=wall,
        scope_panels=scope,
        tiles=tiles,
    )


def tour(*cameras: str, dwell_s: float = 10) -> TourContent:
    return TourContent(
        items=tuple(TourItem(camera_id=c) for c in cameras), dwell_s=dwell_s
    )


# --- W1: rects, overlaps, ids ------------------------------------------------------


@pytest.mark.parametrize(
    ("tiles", "codes", "expectation"),
    [
        pytest.param(
            [tile("a", (0, 0, 7680, 3240))], [], DoesNotRaise(), id="whole-canvas"
        ),
        pytest.param(
            [tile("a", (0, 0, 3840, 3240)), tile("b", (3840, 0, 3840, 3240))],
            [],
            DoesNotRaise(),
            id="sharing-an-edge",
        ),
        pytest.param(
            [tile("a", (7000, 0, 681, 100))],
            [("a", IssueCode.RECT_OUTSIDE_CANVAS)],
            pytest.raises(LayoutInvalid, match=r"tile 'a'.*leaves the 7680x3240"),
            id="right-edge",
        ),
        pytest.param(
            [tile("a", (0, -1, 100, 100))],
            [("a", IssueCode.RECT_OUTSIDE_CANVAS)],
            pytest.raises(LayoutInvalid, match="tile 'a'"),
            id="above-top",
        ),
        pytest.param(
            [tile("a", (0, 3200, 100, 41))],
            [("a", IssueCode.RECT_OUTSIDE_CANVAS)],
            pytest.raises(LayoutInvalid, match="tile 'a'"),
            id="bottom-edge",
        ),
        pytest.param(
            [tile("a", (10, 10, 0, 100))],
            [("a", IssueCode.RECT_EMPTY)],
            pytest.raises(
                LayoutInvalid, match=r"tile 'a'.*zero or negative size \(0x100"
            ),
            id="zero-width",
        ),
        pytest.param(
            [tile("a", (10, 10, 100, -5))],
            [("a", IssueCode.RECT_EMPTY)],
            pytest.raises(LayoutInvalid, match="tile 'a'"),
            id="negative-height",
        ),
        pytest.param(
            [tile("a", (0, 0, 1000, 1000)), tile("b", (999, 999, 10, 10))],
            [("b", IssueCode.OVERLAP)],
            pytest.raises(
                LayoutInvalid,
                match=r"tile 'b'.*overlaps tile 'a' on layer z=0 \(1x1 px",
            ),
            id="overlap-same-z",
        ),
        pytest.param(
            [tile("a", (0, 0, 1000, 1000)), tile("pip", (600, 600, 300, 300), z=1)],
            [],
            DoesNotRaise(),
            id="overlap-other-z",
        ),
        pytest.param(
            [
                tile("a", (0, 0, 10, 10)),
                tile("b", (20, 0, 10, 10)),
                tile("a", (40, 0, 10, 10)),
            ],
            [("a", IssueCode.DUPLICATE_TILE_ID)],
            pytest.raises(
                LayoutInvalid, match=r"tile id 'a' already used by tiles\[0\]"
            ),
            id="duplicate-id",
        ),
        pytest.param(
            [
                tile("a", (0, 0, 10, 0)),
                tile("b", (-5, 0, 10, 10)),
                tile("c", (0, 0, 20, 20)),
            ],
            [
                ("a", IssueCode.RECT_EMPTY),
                ("b", IssueCode.RECT_OUTSIDE_CANVAS),
                ("c", IssueCode.OVERLAP),
            ],
            pytest.raises(LayoutInvalid, match="3 error"),
            id="all-errors-at-once",
        ),
    ],
)
def test_w1_rects_overlaps_and_ids(
    tiles: list[Tile],
    codes: list[tuple[str, IssueCode]],
    expectation: AbstractContextManager[object],
) -> None:
    report = validate_layout(layout(*tiles), WALL_4X3)
    assert [(i.tile_id, i.code) for i in report.errors] == codes
    with expectation:
        report.raise_for_errors("test")


def test_w1_overlap_error_points_at_the_rect() -> None:
    report = validate_layout(
        layout(tile("a", (0, 0, 50, 50)), tile("b", (40, 40, 50, 50))), WALL_4X3
    )
    (issue,) = report.errors
    assert issue.path == "tiles[1].rect"
    assert "tile 'a'" in issue.message


def test_w1_bezel_canvas_is_the_bound() -> None:
    wall = WallShape(rows=3, cols=4, bezel_h_px=10, bezel_v_px=10)
    assert validate_layout(layout(tile("a", (0, 0, 7710, 3260)), wall=wall), wall).ok
    assert not validate_layout(
        layout(tile("a", (0, 0, 7711, 3260)), wall=wall), wall
    ).ok


# --- W7 / cameras, T1 / dwell --------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "known", "errors"),
    [
        (CameraContent(camera_id="demo-1"), CAMERAS, []),
        (
            CameraContent(camera_id="gone"),
            CAMERAS,
            [("tiles[0].content.camera_id", IssueCode.UNKNOWN_CAMERA)],
        ),
        # W7: loading a stored layout passes no ids, so a deleted camera still loads.
        (CameraContent(camera_id="gone"), None, []),
        (
            tour("demo-1", "gone", "demo-2"),
            CAMERAS,
            [("tiles[0].content.items[1].camera_id", IssueCode.UNKNOWN_CAMERA)],
        ),
        (
            tour("demo-1", dwell_s=2.5),
            CAMERAS,
            [("tiles[0].content.dwell_s", IssueCode.DWELL_TOO_SHORT)],
        ),
        (TextContent(text="值班"), frozenset(), []),
    ],
)
def test_w7_t1_content_checks(
    content: TileContent,
    known: frozenset[str] | None,
    errors: list[tuple[str, IssueCode]],
) -> None:
    report = validate_layout(
        layout(tile("t", (0, 0, 1920, 1080), content=content)), WALL_4X3, known
    )
    assert [(i.path, i.code) for i in report.errors] == errors
    assert all(i.tile_id == "t" for i in report.issues)


def test_t1_unusual_dwell_is_only_a_warning() -> None:
    report = validate_layout(
        layout(tile("t", (0, 0, 1920, 1080), content=tour("demo-1", dwell_s=60))),
        WALL_4X3,
    )
    assert report.ok
    assert [(i.code, i.severity) for i in report.warnings] == [
        (IssueCode.DWELL_UNUSUAL, Severity.WARNING)
    ]


# --- W3: scope, wall shape --------------------------------------------------------------


@pytest.mark.parametrize(
    ("xywh", "scope", "errors"),
    [
        ((1920, 0, 3840, 1080), (1, 2), []),
        ((1920, 0, 3841, 1080), (1, 2), [IssueCode.OUTSIDE_SCOPE]),
        ((0, 0, 100, 100), (1, 2), [IssueCode.OUTSIDE_SCOPE]),
        ((0, 0, 100, 100), (0, 12), [IssueCode.UNKNOWN_PANEL]),
        ((0, 0, 7680, 3240), None, []),
    ],
)
def test_w3_tiles_stay_inside_the_scope(
    xywh: tuple[int, int, int, int],
    scope: tuple[int, ...] | None,
    errors: list[IssueCode],
) -> None:
    report = validate_layout(layout(tile("t", xywh), scope=scope), WALL_4X3)
    assert [i.code for i in report.errors] == errors


def test_w3_scope_error_names_the_panels() -> None:
    report = validate_layout(
        layout(tile("t", (1900, 1000, 100, 100)), scope=(1,)), WALL_4X3
    )
    assert (
        "panel(s) [0, 4, 5] outside the layout's scope [1]" in report.errors[0].message
    )


@pytest.mark.parametrize(
    ("wall", "code", "severity"),
    [
        (WallShape(rows=2, cols=2), IssueCode.WALL_SHAPE_MISMATCH, Severity.ERROR),
        (
            WallShape(rows=3, cols=4, bezel_h_px=6),
            IssueCode.WALL_GEOMETRY_DIFFERS,
            Severity.WARNING,
        ),
    ],
)
def test_wall_mismatch(wall: WallShape, code: IssueCode, severity: Severity) -> None:
    report = validate_layout(layout(tile("t", (0, 0, 10, 10))), wall)
    assert [(i.code, i.severity, i.path) for i in report.issues] == [
        (code, severity, "for_wall")
    ]


def test_tile_wholly_behind_a_bezel_is_a_warning() -> None:
    wall = WallShape(rows=1, cols=2, bezel_h_px=20)
    report = validate_layout(layout(tile("t", (1925, 0, 10, 10)), wall=wall), wall)
    assert report.ok
    assert [i.code for i in report.warnings] == [IssueCode.TILE_HIDDEN]
    assert place_tiles(layout(tile("t", (1925, 0, 10, 10)), wall=wall), wall) == []


# --- W2: pieces ------------------------------------------------------------------------


def test_w2_tile_over_four_panels_with_bezels() -> None:
    wall = WallShape(rows=2, cols=2, bezel_h_px=10, bezel_v_px=6)
    pieces = place_tiles(layout(tile("t", (1820, 1000, 300, 200)), wall=wall), wall)
    assert [(p.panel_index, p.panel_rect, p.crop_rect) for p in pieces] == [
        (0, Rect(1820, 1000, 100, 80), Rect(0, 0, 100, 80)),
        (1, Rect(0, 1000, 190, 80), Rect(110, 0, 190, 80)),
        (2, Rect(1820, 0, 100, 114), Rect(0, 86, 100, 114)),
        (3, Rect(0, 0, 190, 114), Rect(110, 86, 190, 114)),
    ]


def _pixels(rect: Rect) -> list[tuple[int, int]]:
    return [(x, y) for y in range(rect.y, rect.y2) for x in range(rect.x, rect.x2)]


@pytest.mark.parametrize("seed", range(8))
def test_w2_pieces_cover_the_tile_exactly(seed: int) -> None:
    """Random spanning tiles on small walls: pieces + hidden bezel strips == tile."""
    rng = random.Random(seed)
    for _ in range(40):
        wall = WallShape(
            rows=rng.randint(1, 3),
            cols=rng.randint(1, 4),
            panel_w_px=16 + rng.randint(0, 8),
            panel_h_px=16 + rng.randint(0, 5),
            bezel_h_px=rng.choice([0, 0, 1, 3]),
            bezel_v_px=rng.choice([0, 0, 2]),
        )
        # Mostly on the canvas; sometimes hanging off it (clipped, never drawn).
        x = rng.randint(-4, wall.canvas_w_px - 1)
        y = rng.randint(-4, wall.canvas_h_px - 1)
        rect = Rect(
            x,
            y,
            rng.randint(1, wall.canvas_w_px + 4 - x),
            rng.randint(1, wall.canvas_h_px + 4 - y),
        )
        pieces = place_tiles(
            layout(tile("t", (rect.x, rect.y, rect.w, rect.h)), wall=wall), wall
        )

        # Each piece maps the same canvas pixels through the panel and the tile.
        for p in pieces:
            panel = wall.panel(p.panel_index).rect
            assert p.panel_rect.shifted(panel.x, panel.y) == p.crop_rect.shifted(
                rect.x, rect.y
            )
            assert Rect(0, 0, panel.w, panel.h).contains(p.panel_rect)
            assert Rect(0, 0, rect.w, rect.h).contains(p.crop_rect)

        covered = Counter(
            xy for p in pieces for xy in _pixels(p.crop_rect.shifted(rect.x, rect.y))
        )
        assert max(covered.values(), default=1) == 1, "pieces overlap"
        on_glass = {xy for q in wall.panels() for xy in _pixels(q.rect)}
        visible = set(_pixels(rect)) & on_glass
        assert set(covered) == visible, "gap or spill"
        assert sum(p.crop_rect.area for p in pieces) == len(visible)
        if wall.bezel_h_px == 0 and wall.bezel_v_px == 0 and wall.canvas.contains(rect):
            assert len(visible) == rect.area


def test_w2_draw_order_by_panel_then_z_then_layout_order() -> None:
    tiles = (
        tile("top", (100, 100, 200, 200), z=5),
        tile("base", (0, 0, 3840, 1080)),
        tile("pip", (2000, 100, 200, 200), z=1),
        tile("also-top", (400, 100, 200, 200), z=5),
    )
    panel_0 = tiles_for_panel(layout(*tiles), WALL_4X3, 0)
    assert [p.tile_id for p in panel_0] == ["base", "top", "also-top"]
    assert [p.tile_id for p in tiles_for_panel(layout(*tiles), WALL_4X3, 1)] == [
        "base",
        "pip",
    ]
    assert tiles_for_panel(layout(*tiles), WALL_4X3, 11) == []
    with pytest.raises(IndexError):
        tiles_for_panel(layout(*tiles), WALL_4X3, 12)


# --- S4: streams ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tile_wh", "preference", "sub_wh", "scale", "expected"),
    [
        ((640, 360), StreamPref.AUTO, (704, 576), 1.0, "sub"),
        ((704, 576), StreamPref.AUTO, (704, 576), 1.0, "sub"),
        ((705, 360), StreamPref.AUTO, (704, 576), 1.0, "main"),
        ((640, 577), StreamPref.AUTO, (704, 576), 1.0, "main"),
        ((960, 540), StreamPref.AUTO, (704, 576), 1.0, "main"),
        ((960, 540), StreamPref.AUTO, (960, 540), 1.0, "sub"),
        ((640, 360), StreamPref.AUTO, (640, 360), 1.0, "sub"),
        ((641, 360), StreamPref.AUTO, (640, 360), 1.0, "main"),
        ((1920, 1080), StreamPref.AUTO, (704, 576), 0.25, "sub"),
        ((320, 180), StreamPref.MAIN, (704, 576), 1.0, "main"),
        ((3840, 2160), StreamPref.SUB, (704, 576), 1.0, "sub"),
    ],
)
def test_s4_smallest_stream_covering_the_tile(
    tile_wh: tuple[int, int],
    preference: StreamPref,
    sub_wh: tuple[int, int],
    scale: float,
    expected: str,
) -> None:
    assert (
        choose_stream(preference, True, tile_wh, sub_wh, device_px_per_canvas_px=scale)
        == expected
    )


@pytest.mark.parametrize(
    ("pref", "has_sub", "tile_wh", "sub_wh", "expected"),
    [
        (StreamPref.AUTO, True, (480, 270), (640, 360), "sub"),
        (StreamPref.AUTO, True, (640, 360), (640, 360), "sub"),
        (StreamPref.AUTO, True, (641, 360), (640, 360), "main"),
        (StreamPref.AUTO, True, (1920, 1080), None, "main"),
        (StreamPref.AUTO, True, (600, 400), None, "sub"),  # assumed 704x576
        (StreamPref.AUTO, True, (600, 400), (0, 0), "sub"),  # not measured yet
        (StreamPref.AUTO, True, None, None, "sub"),
        (StreamPref.AUTO, False, (100, 100), None, "main"),
        (StreamPref.MAIN, True, (100, 100), None, "main"),
        (StreamPref.SUB, True, (3840, 2160), None, "sub"),
        (StreamPref.SUB, False, None, None, "main"),
    ],
)
def test_s4_a_camera_without_a_sub_stream_or_size_still_gets_one(
    pref: StreamPref,
    has_sub: bool,
    tile_wh: tuple[int, int] | None,
    sub_wh: tuple[int, int] | None,
    expected: str,
) -> None:
    assert choose_stream(pref, has_sub, tile_wh, sub_wh) == expected


@pytest.mark.parametrize(
    ("content", "wh", "expected"),
    [
        (CameraContent(camera_id="demo-1"), (640, 360), "sub"),
        (CameraContent(camera_id="demo-1", stream=StreamPref.MAIN), (640, 360), "main"),
        (tour("demo-1", "demo-2"), (1920, 1080), "main"),
        (tour("demo-1", "demo-2"), (480, 270), "sub"),
        (TextContent(text="值班"), (640, 360), None),
    ],
)
def test_s4_stream_for_tile(
    content: TileContent, wh: tuple[int, int], expected: str | None
) -> None:
    assert stream_for_tile(tile("t", (0, 0, *wh), content=content)) == expected

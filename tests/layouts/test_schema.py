"""Layout file format: wall geometry (W9), content union (W8), field rules, T1 dwells."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from layouts.errors import IssueCode, Severity
from layouts.rects import Rect
from layouts.schema import (
    AlarmListContent,
    AlarmSeverity,
    CameraContent,
    ClockContent,
    EmptyContent,
    ImageContent,
    Layout,
    StreamPref,
    TileContent,
    TourContent,
    TourItem,
    WallShape,
    WallSpec,
    tour_dwell_issues,
)

CONTENT: TypeAdapter[TileContent] = TypeAdapter(TileContent)


def _raises(match: str | None) -> AbstractContextManager[object]:
    return (
        DoesNotRaise() if match is None else pytest.raises(ValidationError, match=match)
    )


# --- W9: wall geometry -----------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "cols", "bezel_h", "bezel_v", "canvas_wh"),
    [
        (3, 4, 0, 0, (7680, 3240)),
        (3, 4, 10, 8, (7680 + 3 * 10, 3240 + 2 * 8)),
        (2, 2, 0, 0, (3840, 2160)),
        (1, 1, 50, 50, (1920, 1080)),  # one panel: no seam, no bezel
    ],
)
def test_w9_canvas_size(
    rows: int, cols: int, bezel_h: int, bezel_v: int, canvas_wh: tuple[int, int]
) -> None:
    wall = WallShape(rows=rows, cols=cols, bezel_h_px=bezel_h, bezel_v_px=bezel_v)
    assert (wall.canvas_w_px, wall.canvas_h_px) == canvas_wh
    assert wall.canvas == Rect(0, 0, *canvas_wh)


@pytest.mark.parametrize(("bezel_h", "bezel_v"), [(0, 0), (12, 7)])
def test_w9_panel_origins(bezel_h: int, bezel_v: int) -> None:
    wall = WallShape(rows=3, cols=4, bezel_h_px=bezel_h, bezel_v_px=bezel_v)
    panels = wall.panels()
    assert [p.index for p in panels] == list(range(12))
    for p in panels:
        assert p.index == p.row * 4 + p.col
        assert p.rect == Rect(
            p.col * (1920 + bezel_h), p.row * (1080 + bezel_v), 1920, 1080
        )
    assert panels[-1].rect.x2 == wall.canvas_w_px
    assert panels[-1].rect.y2 == wall.canvas_h_px


@pytest.mark.parametrize("index", [-1, 12])
def test_w9_panel_out_of_range(index: int) -> None:
    with pytest.raises(IndexError, match="not on a 4x3 wall"):
        WallShape(rows=3, cols=4).panel(index)


def test_wall_spec_keeps_identity_and_shape_drops_it() -> None:
    spec = WallSpec(id="main", name="主屏", rows=3, cols=4, bezel_h_px=4)
    assert spec.shape() == WallShape(rows=3, cols=4, bezel_h_px=4)
    assert spec.canvas_w_px == 7692


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"rows": 3, "cols": 4}, None),
        ({"rows": 0, "cols": 4}, "rows"),
        ({"rows": 3, "cols": 4, "bezel_h_px": -1}, "bezel_h_px"),
        ({"rows": 3, "cols": 4, "colour": "black"}, "Extra inputs"),
    ],
)
def test_wall_shape_fields(fields: dict[str, Any], match: str | None) -> None:
    with _raises(match):
        WallShape.model_validate(fields)


# --- W8: content union -------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"kind": "camera", "camera_id": "demo-1"}, None),
        ({"kind": "camera", "camera_id": "demo-1", "stream": "sub"}, None),
        ({"kind": "camera", "camera_id": "demo-1", "stream": "third"}, "stream"),
        ({"kind": "camera", "camera_id": "bad id"}, "camera_id"),
        ({"kind": "camera", "camera_id": "demo-1", "ptz": 3}, "Extra inputs"),
        ({"kind": "tour", "items": [{"camera_id": "demo-1", "dwell_s": 8}]}, None),
        ({"kind": "tour", "items": []}, "at least 1 item"),
        (
            {"kind": "tour", "items": [{"camera_id": "demo-1"}], "order": "random"},
            "order",
        ),
        ({"kind": "text", "text": "值班", "scroll": True, "speed_px_s": 90}, None),
        ({"kind": "text", "text": ""}, "at least 1 character"),
        ({"kind": "clock"}, None),
        ({"kind": "clock", "tz": "UTC", "format": "%H:%M"}, None),
        ({"kind": "clock", "tz": "+08:00"}, "tz"),
        ({"kind": "clock", "format": "%Y %Q"}, "unsupported directive"),
        ({"kind": "image", "url": "/static/img/logo.png"}, None),
        (
            {
                "kind": "map",
                "center": {"lon": 106.75, "lat": 31.86},
                "layers": ["stations"],
            },
            None,
        ),
        ({"kind": "map", "center": {"lon": 31.86, "lat": 106.75}}, "lat"),
        (
            {"kind": "map", "center": {"lon": 106.7, "lat": 31.8}, "layers": ["x"]},
            "layers",
        ),
        (
            {"kind": "sensor", "station_id": "bz-h-001", "elements": ["water_level"]},
            None,
        ),
        ({"kind": "sensor", "station_id": "bz-h-001", "elements": []}, "elements"),
        (
            {
                "kind": "alarm_list",
                "filter": {"domain": "grid", "min_severity": "major"},
            },
            None,
        ),
        ({"kind": "alarm_list", "filter": {"domain": "mixed"}}, "domain"),
        (
            {"kind": "case_list", "filter": {"min_light": "red", "urgent_only": True}},
            None,
        ),
        (
            {
                "kind": "grid_stats",
                "admin_unit_id": "511900000000",
                "metric": "red_cards",
            },
            None,
        ),
        (
            {"kind": "grid_stats", "admin_unit_id": "511900000000", "metric": "mood"},
            "metric",
        ),
        ({"kind": "empty"}, None),
        (
            {"kind": "webpage", "url": "https://example.com"},
            "does not match any of the expected tags",
        ),
        ({"camera_id": "demo-1"}, "Unable to extract tag"),
    ],
)
def test_w8_content_kinds(data: dict[str, Any], match: str | None) -> None:
    with _raises(match):
        content = CONTENT.validate_python(data)
        assert content.kind == data["kind"]


def test_content_defaults() -> None:
    camera = CameraContent(camera_id="demo-1")
    assert (camera.stream, camera.overlay_detections) == (StreamPref.AUTO, False)
    tour = TourContent(items=(TourItem(camera_id="demo-1"),))
    assert (tour.dwell_s, tour.order, tour.skip_offline, tour.sync) == (
        10.0,
        "sequential",
        True,
        False,
    )
    assert ClockContent().tz == "Asia/Shanghai"
    assert AlarmListContent().filter.min_severity is AlarmSeverity.WARNING
    assert EmptyContent().kind == "empty"


def test_content_is_frozen() -> None:
    camera = CameraContent(camera_id="demo-1")
    with pytest.raises(ValidationError, match="frozen"):
        camera.camera_id = "demo-2"  # type: ignore[misc]


PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("/static/logo.png", None),
        ("/static/wall/banners/flood-2025.jpg", None),
        (f"data:image/png;base64,{PNG_1PX}", None),
        ("https://cdn.example.com/logo.png", "path under /static/"),
        ("//cdn.example.com/logo.png", "path under /static/"),
        ("/static/../secrets.txt", "path under /static/"),
        ("/static/.hidden.png", "path under /static/"),
        ("/static/logo.png?x=1", "path under /static/"),
        ("/api/v1/walls", "path under /static/"),
        ("static/logo.png", "path under /static/"),
        ("/static/", "path under /static/"),
        ("data:image/svg+xml;base64,PHN2Zz4=", "data URL must be"),
        ("data:text/html;base64,PGI+", "data URL must be"),
        ("data:image/png;base64," + "A" * (256 * 1024), "limit 262144"),
    ],
)
def test_image_url_is_local(url: str, match: str | None) -> None:
    with _raises(match):
        ImageContent(url=url)


# --- T1: dwell ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tour_dwell_s", "item_dwells", "expected"),
    [
        (10, [None, None], []),
        (5, [None], []),
        (30, [None], []),
        (3, [None], [("content.dwell_s", Severity.WARNING, IssueCode.DWELL_UNUSUAL)]),
        (2.9, [None], [("content.dwell_s", Severity.ERROR, IssueCode.DWELL_TOO_SHORT)]),
        (31, [None], [("content.dwell_s", Severity.WARNING, IssueCode.DWELL_UNUSUAL)]),
        (
            10,
            [1, 60],
            [
                ("content.items[0].dwell_s", Severity.ERROR, IssueCode.DWELL_TOO_SHORT),
                ("content.items[1].dwell_s", Severity.WARNING, IssueCode.DWELL_UNUSUAL),
            ],
        ),
        # An unused tour default is not checked: every item has its own dwell.
        (1, [10, 10], []),
    ],
)
def test_t1_dwell_rules(
    tour_dwell_s: float,
    item_dwells: list[float | None],
    expected: list[tuple[str, Severity, IssueCode]],
) -> None:
    tour = TourContent(
        items=tuple(TourItem(camera_id="demo-1", dwell_s=d) for d in item_dwells),
        dwell_s=tour_dwell_s,
    )
    issues = tour_dwell_issues(tour, "content", "tour-1")
    assert [(i.path, i.severity, i.code) for i in issues] == expected
    assert all(i.tile_id == "tour-1" for i in issues)


def test_t1_dwell_of_item() -> None:
    tour = TourContent(
        items=(TourItem(camera_id="a"), TourItem(camera_id="b", dwell_s=20)), dwell_s=8
    )
    assert [tour.dwell_of(i) for i in tour.items] == [8, 20]


# --- Layout --------------------------------------------------------------------------


def _layout(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": 1,
        "id": "test",
        "name": "测试",
        "domain": "grid",
        "for_wall": {"rows": 1, "cols": 2},
        "tiles": [
            {
                "id": "t1",
                "rect": {"x": 0, "y": 0, "w": 100, "h": 100},
                "content": {"kind": "empty"},
            }
        ],
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({}, None),
        ({"scope_panels": [0, 1]}, None),
        ({"scope_panels": [1, 1]}, "listed twice"),
        ({"scope_panels": [-1]}, "start at 0"),
        ({"scope_panels": []}, "at least 1 item"),
        ({"version": 2}, "version"),
        ({"domain": "traffic"}, "domain"),
        ({"id": "has space"}, "id"),
        ({"owner": "me"}, "Extra inputs"),
        (
            {
                "tiles": [
                    {
                        "id": "t1",
                        "rect": {"x": 0, "y": 0, "w": 1.5, "h": 1},
                        "content": {"kind": "empty"},
                    }
                ]
            },
            "w",
        ),
    ],
)
def test_layout_fields(changes: dict[str, Any], match: str | None) -> None:
    with _raises(match):
        Layout.model_validate(_layout(**changes))


def test_w8_version_is_required() -> None:
    data = _layout()
    del data["version"]
    with pytest.raises(ValidationError, match="version"):
        Layout.model_validate(data)


def test_layout_round_trips_through_json() -> None:
    layout = Layout.model_validate(_layout(scope_panels=[1]))
    assert Layout.model_validate_json(layout.model_dump_json()) == layout
    assert layout.tile("t1").rect.as_rect() == Rect(0, 0, 100, 100)
    with pytest.raises(KeyError):
        layout.tile("nope")

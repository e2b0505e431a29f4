"""Parsing layout YAML and JSON data: every error with key path, tile and line (W8, HS5)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise

import pytest

from layouts.errors import IssueCode, LayoutInvalid, LayoutVersionError
from layouts.loader import parse_layout_data, parse_layout_yaml
from layouts.yaml_document import MAX_NODES

GOOD = """\
version: 1
id: demo
name: 演示
domain: mixed
for_wall: {rows: 1, cols: 2}
tiles:
  - id: cam
    rect: {x: 0, y: 0, w: 1920, h: 1080}
    content: {kind: camera, camera_id: demo-1}
  - id: tour
    rect: {x: 1920, y: 0, w: 1920, h: 1080}
    content:
      kind: tour
      items: [{camera_id: demo-2}, {camera_id: demo-3}]
"""


def test_good_document_parses() -> None:
    layout = parse_layout_yaml(GOOD, "demo.yaml")
    assert [t.id for t in layout.tiles] == ["cam", "tour"]


@pytest.mark.parametrize(
    ("old", "new", "code", "path", "tile_id", "line"),
    [
        # W8: an unknown content kind names its place.
        (
            "kind: camera,",
            "kind: webpage,",
            IssueCode.SCHEMA,
            "tiles[0].content.kind",
            "cam",
            9,
        ),
        # The union tag is not part of the key path.
        (
            "camera_id: demo-1}",
            "camera: demo-1}",
            IssueCode.SCHEMA,
            "tiles[0].content.camera_id",
            "cam",
            9,
        ),
        (
            "{kind: camera, camera_id: demo-1}",
            "{kind: text, text: ''}",
            IssueCode.SCHEMA,
            "tiles[0].content.text",
            "cam",
            9,
        ),
        (
            "      kind: tour\n",
            "      kind: tour\n      loop: yes\n",
            IssueCode.SCHEMA,
            "tiles[1].content.loop",
            "tour",
            14,
        ),
        ("domain: mixed", "domain: traffic", IssueCode.SCHEMA, "domain", None, 4),
        (
            "w: 1920, h: 1080}\n    content: {kind: camera",
            "w: wide, h: 1080}\n    content: {kind: camera",
            IssueCode.SCHEMA,
            "tiles[0].rect.w",
            "cam",
            8,
        ),
        (
            "name: 演示\n",
            "name: 演示\nname: again\n",
            IssueCode.DUPLICATE_KEY,
            "name",
            None,
            4,
        ),
        # Geometry is checked against for_wall (W1), with the line of the rect.
        (
            "x: 1920, y: 0",
            "x: 1921, y: 0",
            IssueCode.RECT_OUTSIDE_CANVAS,
            "tiles[1].rect",
            "tour",
            11,
        ),
        ("id: tour", "id: cam", IssueCode.DUPLICATE_TILE_ID, "tiles[1].id", "cam", 10),
        (
            "{camera_id: demo-3}]",
            "{camera_id: demo-3}]\n      dwell_s: 2",
            IssueCode.DWELL_TOO_SHORT,
            "tiles[1].content.dwell_s",
            "tour",
            15,
        ),
        ("tiles:", "tiles: [\n", IssueCode.YAML_SYNTAX, "", None, None),
    ],
)
def test_w8_errors_name_path_tile_and_line(
    old: str,
    new: str,
    code: IssueCode,
    path: str,
    tile_id: str | None,
    line: int | None,
) -> None:
    assert old in GOOD
    with pytest.raises(LayoutInvalid) as caught:
        parse_layout_yaml(GOOD.replace(old, new, 1), "bad.yaml")
    assert caught.value.source == "bad.yaml"
    issue = caught.value.issues[0]
    assert (issue.code, issue.path, issue.tile_id) == (code, path, tile_id)
    if line is not None:
        assert issue.line == line
    assert "bad.yaml" in str(caught.value)


def test_every_error_is_listed_at_once() -> None:
    text = GOOD.replace("domain: mixed", "domain: traffic").replace(
        "kind: camera,", "kind: webpage,"
    )
    text = text.replace("name: 演示", "name: 演示\nowner: me")
    with pytest.raises(LayoutInvalid) as caught:
        parse_layout_yaml(text, "bad.yaml")
    assert {i.path for i in caught.value.errors} == {
        "domain",
        "owner",
        "tiles[0].content.kind",
    }


def test_w1_geometry_errors_are_all_listed() -> None:
    text = GOOD.replace("x: 1920, y: 0", "x: 1921, y: 0").replace(
        "w: 1920, h: 1080}\n    content: {kind: camera",
        "w: 0, h: 1080}\n    content: {kind: camera",
    )
    with pytest.raises(LayoutInvalid) as caught:
        parse_layout_yaml(text, "bad.yaml")
    assert [(i.code, i.tile_id) for i in caught.value.errors] == [
        (IssueCode.RECT_EMPTY, "cam"),
        (IssueCode.RECT_OUTSIDE_CANVAS, "tour"),
    ]


@pytest.mark.parametrize(
    ("version", "expectation"),
    [
        ("1", DoesNotRaise()),
        ("0", pytest.raises(LayoutVersionError, match="version 0 is not supported")),
        ("2", pytest.raises(LayoutVersionError, match="version 2 is not supported")),
        (
            "'1'",
            pytest.raises(LayoutVersionError, match="version '1' is not supported"),
        ),
    ],
)
def test_w8_version_error(
    version: str, expectation: AbstractContextManager[object]
) -> None:
    with expectation:
        parse_layout_yaml(GOOD.replace("version: 1", f"version: {version}"), "v.yaml")


def test_w8_version_error_carries_data() -> None:
    with pytest.raises(LayoutVersionError) as caught:
        parse_layout_data({"version": 7}, "api")
    assert (caught.value.found, caught.value.supported) == (7, (1,))
    assert [i.code for i in caught.value.issues] == [IssueCode.VERSION]
    assert isinstance(caught.value, LayoutInvalid)  # callers may catch the base


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a mapping, got NoneType"),
        ("- 1\n- 2\n", "expected a mapping, got list"),
        ("a: 1\n---\nb: 2\n", "expected a single document"),
        ("a: !!python/object:os.system x\n", "could not determine a constructor"),
    ],
)
def test_not_a_layout_document(text: str, message: str) -> None:
    with pytest.raises(LayoutInvalid, match=message):
        parse_layout_yaml(text, "x.yaml")


def test_alias_bomb_is_refused_before_validation() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}]"
        for n in range(1, 9)
    ]
    with pytest.raises(
        LayoutInvalid, match=f"more than {MAX_NODES} YAML nodes"
    ) as caught:
        parse_layout_yaml("\n".join(lines), "bomb.yaml")
    assert caught.value.issues[0].code is IssueCode.TOO_LARGE


@pytest.mark.parametrize(
    "text",
    [
        "[" * 3000 + "]" * 3000,
        "a:\n" + "".join(" " * i + "- \n" for i in range(1, 2000)),
    ],
    ids=["flow", "block"],
)
def test_deep_nesting_is_refused(text: str) -> None:
    with pytest.raises(LayoutInvalid, match="nested too deeply") as caught:
        parse_layout_yaml(text, "deep.yaml")
    assert caught.value.issues[0].code is IssueCode.TOO_LARGE


def test_anchors_for_shared_tour_items_are_fine() -> None:
    text = GOOD.replace(
        "items: [{camera_id: demo-2}, {camera_id: demo-3}]",
        "items: &cams [{camera_id: demo-2}, {camera_id: demo-3}]",
    )
    assert parse_layout_yaml(text, "a.yaml").tiles[1].content.kind == "tour"


def test_oversized_text_is_refused() -> None:
    with pytest.raises(LayoutInvalid, match="limit") as caught:
        parse_layout_yaml("#" * (4 * 1024 * 1024 + 1), "big.yaml")
    assert caught.value.issues[0].code is IssueCode.TOO_LARGE


def test_parse_layout_data_has_paths_but_no_lines() -> None:
    data = {
        "version": 1,
        "id": "api-layout",
        "name": "接口",
        "domain": "grid",
        "for_wall": {"rows": 1, "cols": 1},
        "tiles": [
            {
                "id": "t",
                "rect": {"x": 0, "y": 0, "w": 10, "h": 10},
                "content": {"kind": "nope"},
            }
        ],
    }
    with pytest.raises(LayoutInvalid) as caught:
        parse_layout_data(data, "api")
    issue = caught.value.issues[0]
    assert (issue.path, issue.tile_id, issue.line) == (
        "tiles[0].content.kind",
        "t",
        None,
    )
    data["tiles"] = [
        {
            "id": "t",
            "rect": {"x": 0, "y": 0, "w": 10, "h": 10},
            "content": {"kind": "empty"},
        }
    ]
    assert parse_layout_data(data, "api").id == "api-layout"

"""Issue 10, config: every error in one run, each at the line of its key, by line."""

from __future__ import annotations

from datetime import time

import pytest
from pydantic import ValidationError

from devices.cameras.config import CameraConfig
from wall.config.loading import ENV_PLACEHOLDER, ConfigError, parse_settings
from wall.config.settings import Settings
from wall.walls.settings import ScheduleWindowSettings

Found = list[tuple[int | None, str, str]]

LAYOUTS = frozenset({"a", "b", "c"})

CAM = "  - id: {id}\n    name: n\n    streams:\n      main: {{url: 'rtsp://h/{id}'}}\n"
WALL = "  - id: {id}\n    name: n\n    rows: 2\n    cols: 2\n"


def found(text: str, env: dict[str, str] | None = None) -> Found:
    """Every (line, path, message) of one run over ``text``."""
    with pytest.raises(ConfigError) as info:
        parse_settings(text, env={} if env is None else env, layout_ids=LAYOUTS)
    return [(i.line, i.path, i.message) for i in info.value.issues]


MIXED = (
    "cameras:\n"
    "  - id: cam\n"  # 2
    "    name: n\n"
    "    heading_deg: 400\n"  # 4
    "    streams:\n"
    "      main: {url: 'rtsp://h/x'}\n"
    "  - id: cam\n"  # 7
    "    name: m\n"
    "    streams:\n"
    "      main: {url: 'rtsp://h/y'}\n"
    "walls:\n"
    "  - id: w\n"  # 12
    "    name: n\n"
    "    rows: 2\n"
    "    cols: 2\n"
    "    default_layout: nope\n"  # 16
    "detection:\n"
    "  cameras:\n"
    "    ghost: {}\n"  # 19
)

CASES: list[tuple[str, str, Found]] = [
    (
        "field error, duplicate id and bad references in one run",
        MIXED,
        [
            (4, "cameras[0].heading_deg", "Input should be less than 360"),
            (7, "cameras[1].id", "duplicate camera id 'cam' (first at cameras[0].id)"),
            (16, "walls[0].default_layout", "no layout 'nope' (known: a, b, c)"),
            (19, "detection.cameras.ghost", "no camera with id 'ghost' (known: cam)"),
        ],
    ),
    (
        "duplicate wall beside a bad field of that wall",
        "walls:\n" + WALL.format(id="w") + WALL.format(id="w") + "    bezel_h_px: -1\n",
        [
            (6, "walls[1].id", "duplicate wall id 'w' (first at walls[0].id)"),
            (10, "walls[1].bezel_h_px", "Input should be greater than or equal to 0"),
        ],
    ),
    (
        "schedule window naming no layout",
        "walls:\n"
        + WALL.format(id="w")
        + "    schedule:\n"
        + "      - {name: n, layout_id: zz, start: '22:00', end: '06:00'}\n",
        [(7, "walls[0].schedule[0].layout_id", "no layout 'zz' (known: a, b, c)")],
    ),
    (
        "duplicate zone of an analysed camera, unknown camera without any camera",
        "detection:\n  cameras:\n    x:\n      zones:\n"
        "        - {id: z, kind: crowd, polygon: [[0, 0], [9, 0], [9, 9]]}\n"
        "        - {id: z, kind: crowd, polygon: [[0, 0], [9, 0], [9, 9]]}\n",
        [
            (3, "detection.cameras.x", "no camera with id 'x' (none is configured)"),
            (
                6,
                "detection.cameras.x.zones[1].id",
                "duplicate zone id 'z' (first at detection.cameras.x.zones[0].id)",
            ),
        ],
    ),
    (
        "overlapping windows: Monday night runs into Tuesday morning",
        "walls:\n"
        + WALL.format(id="w")
        + "    schedule:\n"
        + "      - {name: night, layout_id: a, start: '22:00', end: '06:00'}\n"
        + "      - {name: early, layout_id: b, start: '05:00', end: '07:00',"
        " weekdays: [2]}\n",
        [
            (
                8,
                "walls[0].schedule[1]",
                "window 'early' overlaps window 'night' (walls[0].schedule[0])",
            )
        ],
    ),
    (
        "a malformed window is a field error and overlaps nothing",
        "walls:\n"
        + WALL.format(id="w")
        + "    schedule:\n"
        + "      - {name: night, layout_id: a, start: '22:00', end: '06:00'}\n"
        + "      - {name: bad, layout_id: b, start: '25:00', end: '07:00'}\n",
        [
            (
                8,
                "walls[0].schedule[1].start",
                "Input should be in a valid time format, hour value is outside"
                " expected range of 0-23",
            )
        ],
    ),
    (
        "an unset variable is named at its line; the empty value is not also an error",
        "cameras:\n"
        + CAM.format(id="c")
        + "  - id: d\n    name: n\n    streams:\n      main: {url: '${CAM_D_URL}'}\n",
        [
            (
                9,
                "cameras[1].streams.main.url",
                "environment variable CAM_D_URL is not set",
            )
        ],
    ),
    (
        "malformed references are reported, never quoted",
        "mqtt:\n  url: mqtt://h\n  username: '${1ST}'\n  client_id: 'x${OPEN'\n",
        [
            (3, "mqtt.username", "malformed environment reference: write ${NAME}"),
            (4, "mqtt.client_id", "malformed environment reference: write ${NAME}"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_every_error_in_one_run_at_its_line(text: str, expected: Found) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(
            ("22:00", "06:00", [1]), ("06:00", "22:00", [1, 2]), id="touching"
        ),
        pytest.param(("08:00", "12:00", [1]), ("08:00", "12:00", [2]), id="other-day"),
        pytest.param(("22:00", "06:00", [7]), ("06:00", "08:00", [1]), id="sun-to-mon"),
    ],
)
def test_disjoint_windows_are_accepted(
    first: tuple[str, str, list[int]], second: tuple[str, str, list[int]]
) -> None:
    windows = "".join(
        f"      - {{name: w{n}, layout_id: a, start: '{s}', end: '{e}',"
        f" weekdays: {days}}}\n"
        for n, (s, e, days) in enumerate((first, second))
    )
    text = "walls:\n" + WALL.format(id="w") + "    schedule:\n" + windows
    settings = parse_settings(text, env={}, layout_ids=LAYOUTS)
    assert len(settings.walls[0].schedule) == 2


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ((time(22), time(6), (7,)), (time(5), time(7), (1,)), True),  # week wraps
        ((time(9), time(9), (3,)), (time(8, 59), time(9), (4,)), True),  # 24 h window
        ((time(9), time(9), (3,)), (time(9), time(10), (4,)), False),
        ((time(9), time(17), (1, 2)), (time(17), time(9), (1,)), False),
    ],
)
def test_window_overlap_rule(
    a: tuple[time, time, tuple[int, ...]],
    b: tuple[time, time, tuple[int, ...]],
    overlap: bool,
) -> None:
    def window(spec: tuple[time, time, tuple[int, ...]]) -> ScheduleWindowSettings:
        return ScheduleWindowSettings(
            name="n", layout_id="x", start=spec[0], end=spec[1], weekdays=spec[2]
        )

    assert window(a).overlaps(window(b)) is overlap
    assert window(b).overlaps(window(a)) is overlap


def test_errors_are_sorted_by_line_across_passes() -> None:
    # field validation finds the port (line 10) before the consistency pass
    # finds the duplicate (line 6); the report lists them by line
    text = "cameras:\n" + CAM.format(id="c") + CAM.format(id="c") + "api: {port: -1}\n"
    assert [(line, path) for line, path, _ in found(text)] == [
        (6, "cameras[1].id"),
        (10, "api.port"),
    ]


def test_message_names_line_path_and_problem() -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(MIXED, env={}, layout_ids=LAYOUTS)
    assert "line 16: walls[0].default_layout: no layout 'nope' (known: a, b, c)" in (
        str(info.value).splitlines()
    )


def test_shipped_layouts_are_the_default_known_ones() -> None:
    text = "walls:\n" + WALL.format(id="w") + "    default_layout: mixed_2x2\n"
    assert parse_settings(text, env={}).walls[0].default_layout == "mixed_2x2"
    with pytest.raises(ConfigError) as info:
        parse_settings(text.replace("mixed_2x2", "nope"), env={})
    assert "mixed_2x2" in info.value.issues[0].message


def test_no_env_checks_syntax_and_uses_the_placeholder() -> None:
    text = "cameras:\n" + CAM.format(id="c").replace("rtsp://h", "rtsp://u:${PW}@h")
    settings = parse_settings(text, env={}, resolve_env=False)
    assert settings.cameras[0].streams.main.url == f"rtsp://u:{ENV_PLACEHOLDER}@h/c"
    # a variable that is set is not used either: the check does not depend on it
    settings = parse_settings(text, env={"PW": "secret"}, resolve_env=False)
    assert "secret" not in settings.cameras[0].streams.main.url
    with pytest.raises(ConfigError) as info:
        parse_settings(text.replace("${PW}", "${PW"), env={}, resolve_env=False)
    assert [(i.line, i.message) for i in info.value.issues] == [
        (5, "malformed environment reference: write ${NAME}")
    ]


def test_settings_built_in_code_are_checked_by_the_same_rules() -> None:
    camera = CameraConfig.model_validate(
        {"id": "c", "name": "n", "streams": {"main": {"url": "rtsp://h/x"}}}
    )
    with pytest.raises(ValidationError) as info:
        Settings(cameras=(camera, camera))
    assert "cameras[1].id: duplicate camera id 'c'" in str(info.value)
    assert Settings(cameras=(camera,)).cameras == (camera,)

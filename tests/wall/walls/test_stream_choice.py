from __future__ import annotations

import pytest

from wall.walls.core.stream_choice import StreamPreference, choose_stream


@pytest.mark.parametrize(
    ("pref", "has_sub", "tile", "sub_wh", "expected"),
    [
        (StreamPreference.AUTO, True, (480, 270), (640, 360), "sub"),
        (StreamPreference.AUTO, True, (640, 360), (640, 360), "sub"),
        (StreamPreference.AUTO, True, (641, 360), (640, 360), "main"),
        (StreamPreference.AUTO, True, (1920, 1080), None, "main"),
        (StreamPreference.AUTO, True, (600, 400), None, "sub"),  # assumed 704x576
        (StreamPreference.AUTO, True, None, None, "sub"),
        (StreamPreference.AUTO, False, (100, 100), None, "main"),
        (StreamPreference.MAIN, True, (100, 100), None, "main"),
        (StreamPreference.SUB, True, (3840, 2160), None, "sub"),
        (StreamPreference.SUB, False, None, None, "main"),
    ],
)
def test_s4_smallest_stream_covering_the_tile(
    pref: StreamPreference,
    has_sub: bool,
    tile: tuple[int, int] | None,
    sub_wh: tuple[int, int] | None,
    expected: str,
) -> None:
    assert choose_stream(pref, has_sub, tile, sub_wh) == expected

"""Which of a camera's streams a viewer gets (pure).

The smallest stream whose picture covers the tile wins (Milestone's
adaptive streaming, behaviour S4), so a wall of small tiles pulls sub
streams and stays within the decode budget.
"""

from __future__ import annotations

from enum import StrEnum


class StreamPreference(StrEnum):
    """What a caller asks for."""

    AUTO = "auto"
    MAIN = "main"
    SUB = "sub"


# Resolution assumed for a stream that has not been opened yet: sub streams
# are usually 640x360 to 704x576, main streams 1080p.
ASSUMED_SUB_WH = (704, 576)
ASSUMED_MAIN_WH = (1920, 1080)


def choose_stream(
    preference: StreamPreference,
    has_sub: bool,
    tile_wh: tuple[int, int] | None = None,
    sub_wh: tuple[int, int] | None = None,
) -> str:
    """Return ``"main"`` or ``"sub"``.

    Args:
        preference: the caller's wish; explicit choices are honoured when the
            camera has that stream.
        has_sub: whether the camera has a sub stream.
        tile_wh: the tile's size in device pixels, if known.
        sub_wh: the sub stream's picture size if known.

    Examples:
        >>> choose_stream(StreamPreference.AUTO, True, (480, 270), (640, 360))
        'sub'
        >>> choose_stream(StreamPreference.AUTO, True, (1920, 1080), (640, 360))
        'main'
        >>> choose_stream(StreamPreference.SUB, False)
        'main'
    """
    if not has_sub or preference is StreamPreference.MAIN:
        return "main"
    if preference is StreamPreference.SUB:
        return "sub"
    if tile_wh is None:
        return "sub"
    width, height = sub_wh if sub_wh and sub_wh[0] > 0 else ASSUMED_SUB_WH
    covers = width >= tile_wh[0] and height >= tile_wh[1]
    return "sub" if covers else "main"

"""Checks on device URLs; messages never repeat the URL (it may hold a password)."""

from __future__ import annotations

from urllib.parse import SplitResult


def checked_port(parts: SplitResult, what: str) -> int | None:
    """The port of a split URL, or ``None`` when it names none.

    Args:
        parts: the URL, split.
        what: how the message names the URL, e.g. ``"broker URL"``.

    Raises:
        ValueError: a port that is not a number in range; the message names
            ``what``, never the URL.
    """
    try:
        return parts.port
    except ValueError as err:
        raise ValueError(f"{what} has an invalid port") from err

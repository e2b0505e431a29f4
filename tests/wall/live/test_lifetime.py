"""When the relay reaps a session: never connected, failed, silent; or the peer left."""

from __future__ import annotations

import pytest

from wall.live.core.lifetime import Bounds, Observed, ReapReason, verdict

BOUNDS = Bounds(connect_s=15.0, silent_s=10.0)


@pytest.mark.parametrize(
    ("state", "opened_s", "heard_s", "now_s", "reason"),
    [
        ("new", 0.0, None, 14.9, None),
        ("new", 0.0, None, 15.0, ReapReason.NOT_CONNECTED),
        ("connecting", 0.0, None, 14.9, None),
        ("connecting", 0.0, None, 15.0, ReapReason.NOT_CONNECTED),
        # datagrams during the handshake do not extend the connect bound
        ("connecting", 0.0, 14.0, 15.0, ReapReason.NOT_CONNECTED),
        ("failed", 0.0, None, 0.1, ReapReason.FAILED),
        ("closed", 0.0, 5.0, 6.0, ReapReason.CLOSED),
        ("connected", 0.0, 95.0, 100.0, None),
        ("connected", 0.0, 90.1, 100.0, None),
        ("connected", 0.0, 90.0, 100.0, ReapReason.SILENT),
        # not watched (MPEG-TS: its write timeout watches it)
        ("connected", 0.0, None, 1e6, None),
    ],
)
def test_verdict_table(
    state: str,
    opened_s: float,
    heard_s: float | None,
    now_s: float,
    reason: ReapReason | None,
) -> None:
    assert verdict(BOUNDS, Observed(state, opened_s, heard_s), now_s) is reason

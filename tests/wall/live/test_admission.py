"""Session admission: global, per-token, per-address limits and the display reserve."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise

import pytest
from pydantic import ValidationError

from wall.live.core.admission import Holder, Limit, Limits, Pool, admit
from wall.live.settings import WebRtcSettings

LIMITS = Limits(max_sessions=8, per_token=3, per_address=4, reserved_for_displays=2)


def viewer(token: int, address: str = "10.0.0.1") -> Holder:
    return Holder(f"token:{token}", address, Pool.VIEWER)


SIX_VIEWERS = [viewer(i, f"10.0.1.{i}") for i in range(6)]


def display(token: int, address: str = "10.0.0.9") -> Holder:
    return Holder(f"token:{token}", address, Pool.DISPLAY)


@pytest.mark.parametrize(
    ("held", "new", "refused", "words"),
    [
        ([], viewer(1), None, ""),
        # one token at its cap: told so; another token still gets in
        ([viewer(1)] * 3, viewer(1), Limit.TOKEN, "this token already holds 3"),
        ([viewer(1)] * 3, viewer(2), None, ""),
        # one address at its cap, whatever the token
        (
            [viewer(1), viewer(1), viewer(2), viewer(3)],
            viewer(4),
            Limit.ADDRESS,
            "this client address already holds 4",
        ),
        (
            [viewer(1), viewer(1), viewer(2), viewer(3)],
            viewer(4, "10.0.0.2"),
            None,
            "",
        ),
        # viewers fill their share; the reserve stays for displays
        (
            SIX_VIEWERS,
            viewer(7, "10.0.2.1"),
            Limit.VIEWERS,
            "all 6 live sessions open to viewers are in use (2 more are reserved",
        ),
        (SIX_VIEWERS, display(9), None, ""),
        ([*SIX_VIEWERS, display(9)], display(9), None, ""),
        ([*SIX_VIEWERS, display(9), display(9)], display(9), Limit.GLOBAL, ""),
        # displays are capped only by the total, not per token or address
        ([display(9)] * 7, display(9), None, ""),
        ([display(9)] * 8, display(9), Limit.GLOBAL, "all 8 live sessions"),
        # displays may use the viewers' share; viewers then take what is left
        ([display(9)] * 7, viewer(1), None, ""),
        ([display(9)] * 8, viewer(1), Limit.GLOBAL, "all 8 live sessions"),
        # the most specific limit is named first
        ([viewer(1, "a")] * 3 + [viewer(2, "b")], viewer(1, "a"), Limit.TOKEN, ""),
    ],
)
def test_admission_table(
    held: list[Holder], new: Holder, refused: Limit | None, words: str
) -> None:
    refusal = admit(LIMITS, held, new)
    if refused is None:
        assert refusal is None
        return
    assert refusal is not None
    assert refusal.limit is refused
    assert words in refusal.message


def test_refusal_codes_are_stable() -> None:
    codes = {
        admit(LIMITS, [viewer(1)] * 3, viewer(1)),
        admit(LIMITS, [viewer(i) for i in range(4)], viewer(9)),
        admit(LIMITS, SIX_VIEWERS, viewer(9, "x")),
        admit(LIMITS, [display(9)] * 8, display(9)),
    }
    assert {r.code for r in codes if r is not None} == {
        "too_many_sessions_for_token",
        "too_many_sessions_for_address",
        "too_many_viewers",
        "live_capacity_full",
    }


@pytest.mark.parametrize(
    ("fields", "expectation"),
    [
        ({}, DoesNotRaise()),
        (
            {"max_viewers": 16, "reserved_for_displays": 16},
            pytest.raises(ValidationError),
        ),
        ({"max_viewers": 17, "reserved_for_displays": 16}, DoesNotRaise()),
        ({"reserved_for_displays": 0}, DoesNotRaise()),
        ({"connect_timeout_s": 0}, pytest.raises(ValidationError)),
    ],
)
def test_settings_keep_room_for_viewers(
    fields: dict[str, object], expectation: AbstractContextManager[object]
) -> None:
    with expectation:
        WebRtcSettings.model_validate(fields)


def test_default_limits() -> None:
    s = WebRtcSettings()
    assert (s.max_viewers, s.max_per_token, s.max_per_address) == (64, 8, 16)
    assert s.reserved_for_displays == 16 and s.connect_timeout_s == 15.0
    assert s.write_timeout_s == 10.0

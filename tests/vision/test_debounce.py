"""The debounced alarm state machine shared by crowding and hazard rules."""

from __future__ import annotations

import pytest

from vision.debounce import DebounceState, debounce

# (time, raise condition, clear condition) -> expected (phase, transition)
Step = tuple[float, bool, bool]


def _drive(
    steps: list[Step], rise_s: float, fall_s: float
) -> list[tuple[str, str | None]]:
    state = DebounceState()
    seen: list[tuple[str, str | None]] = []
    for now, up, down in steps:
        state, transition = debounce(
            state,
            raise_when=up,
            clear_when=down,
            now_monotonic_s=now,
            rise_s=rise_s,
            fall_s=fall_s,
        )
        seen.append((state.phase, transition))
    return seen


@pytest.mark.parametrize(
    ("steps", "rise_s", "fall_s", "expected"),
    [
        pytest.param(
            [(0, True, False), (5, True, False), (10, True, False)],
            10,
            0,
            [("pending", None), ("pending", None), ("active", "raised")],
            id="rise-after-duration",
        ),
        pytest.param(
            [(0, True, False), (5, False, False), (10, True, False)],
            10,
            0,
            [("pending", None), ("idle", None), ("pending", None)],
            id="pending-reset-by-a-gap",
        ),
        pytest.param(
            [(0, True, False), (1, False, False), (2, False, False), (3, False, True)],
            0,
            0,
            [
                ("active", "raised"),
                ("active", None),
                ("active", None),
                ("idle", "cleared"),
            ],
            id="hysteresis-band-holds",
        ),
        pytest.param(
            [
                (0, True, False),
                (1, False, True),
                (2, False, False),
                (3, False, True),
                (5, False, True),
            ],
            0,
            2,
            [
                ("active", "raised"),
                ("clearing", None),
                ("active", None),
                ("clearing", None),
                ("idle", "cleared"),
            ],
            id="clearing-interrupted-then-completed",
        ),
        pytest.param(
            [(0, False, True), (1, False, True)],
            0,
            0,
            [("idle", None), ("idle", None)],
            id="clear-while-idle-is-silent",
        ),
    ],
)
def test_debounce_table(
    steps: list[Step],
    rise_s: float,
    fall_s: float,
    expected: list[tuple[str, str | None]],
) -> None:
    assert _drive(steps, rise_s, fall_s) == expected


def test_start_time_is_kept_until_clear() -> None:
    state = DebounceState()
    for now in (3.0, 4.0, 13.0):
        state, _ = debounce(
            state, raise_when=True, clear_when=False, now_monotonic_s=now, rise_s=10
        )
    assert state.active
    assert state.started_monotonic_s == 3.0
    state, _ = debounce(
        state,
        raise_when=False,
        clear_when=True,
        now_monotonic_s=14.0,
        rise_s=10,
        fall_s=5,
    )
    assert state.phase == "clearing"
    assert state.started_monotonic_s == 3.0


def test_time_going_backwards_is_rejected() -> None:
    state, _ = debounce(
        DebounceState(), raise_when=True, clear_when=False, now_monotonic_s=5, rise_s=1
    )
    with pytest.raises(ValueError, match="backwards"):
        debounce(state, raise_when=True, clear_when=False, now_monotonic_s=4, rise_s=1)

"""Command validation and the UTC reading of an instant (O3)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise
from datetime import UTC, datetime

import pytest

from wall.walls.core.commands import (
    DEFAULT_PRIORITY,
    ActivateLayout,
    Cause,
    CommandInvalid,
    Instant,
    RevertPolicy,
)

T0 = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "expectation"),
    [
        ({}, DoesNotRaise()),
        ({"priority": 0}, pytest.raises(CommandInvalid, match="priority")),
        ({"priority": 256}, pytest.raises(CommandInvalid, match="priority")),
        ({"priority": 255}, DoesNotRaise()),
        ({"cause": Cause.REVERT}, pytest.raises(CommandInvalid, match="cause")),
        (
            {"revert_policy": RevertPolicy.ON_CLEAR},
            pytest.raises(CommandInvalid, match="cause_ref"),
        ),
        ({"revert_policy": RevertPolicy.ON_CLEAR, "cause_ref": "a1"}, DoesNotRaise()),
        (
            {"revert_policy": RevertPolicy.AFTER_S, "cause_ref": "a1"},
            pytest.raises(CommandInvalid, match="revert_after_s"),
        ),
        (
            {
                "revert_policy": RevertPolicy.AFTER_S,
                "cause_ref": "a1",
                "revert_after_s": 0.0,
            },
            pytest.raises(CommandInvalid, match="revert_after_s"),
        ),
        ({"revert_after_s": 30.0}, pytest.raises(CommandInvalid)),
        ({"cooldown_s": -1.0}, pytest.raises(CommandInvalid, match="cooldown_s")),
    ],
)
def test_activate_layout_validation(
    fields: dict[str, object], expectation: AbstractContextManager[object]
) -> None:
    with expectation:
        cmd = ActivateLayout(wall_id="w", layout_id="L", actor="op", **fields)  # type: ignore[arg-type]
        assert cmd.priority >= 1


def test_defaults_and_cooldown_key() -> None:
    cmd = ActivateLayout(wall_id="w", layout_id="L", actor="op")
    assert (cmd.priority, cmd.cause, cmd.revertable) == (
        DEFAULT_PRIORITY,
        Cause.OPERATOR,
        False,
    )
    assert cmd.cooldown_key is None
    rule = ActivateLayout(
        wall_id="w", layout_id="L", actor="r", cause_ref="alarm-9", rule_id="rule-1"
    )
    assert rule.cooldown_key == "rule-1"


def test_o3_instant_is_normalised_to_utc_and_must_be_aware() -> None:
    shanghai = datetime.fromisoformat("2025-07-01T10:00:00+08:00")
    assert Instant(shanghai, 0.0).utc == T0
    assert Instant(shanghai, 0.0).utc.tzinfo is UTC
    with pytest.raises(ValueError, match="aware"):
        Instant(datetime(2025, 7, 1), 0.0)

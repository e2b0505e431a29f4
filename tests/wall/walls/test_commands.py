"""Command validation and the control lease (W11, O4)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise
from datetime import UTC, datetime, timedelta

import pytest

from wall.walls.core.commands import (
    DEFAULT_PRIORITY,
    LEASE_TTL_S,
    ActivateLayout,
    Cause,
    CommandInvalid,
    ControlLease,
    Instant,
    LeaseHeld,
    RevertPolicy,
    WrongWall,
    acquire_lease,
    check_lease,
    release_lease,
)

T0 = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)


def at(s: float) -> Instant:
    return Instant(T0 + timedelta(seconds=s), s)


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


def lease(holder: str, acquired_s: float = 0.0, ttl_s: float = 60.0) -> ControlLease:
    return acquire_lease(None, "w", holder, at(acquired_s), ttl_s)


@pytest.mark.parametrize(
    ("current", "user", "now_s", "force", "expectation", "holder"),
    [
        (None, "bob", 0.0, False, DoesNotRaise(), "bob"),
        ("alice", "bob", 30.0, False, pytest.raises(LeaseHeld), None),
        ("alice", "bob", 59.9, False, pytest.raises(LeaseHeld), None),
        ("alice", "bob", 60.0, False, DoesNotRaise(), "bob"),  # expired
        ("alice", "bob", 30.0, True, DoesNotRaise(), "bob"),  # admin break
        ("alice", "alice", 30.0, False, DoesNotRaise(), "alice"),  # renew
    ],
)
def test_w11_lease(
    current: str | None,
    user: str,
    now_s: float,
    force: bool,
    expectation: AbstractContextManager[object],
    holder: str | None,
) -> None:
    existing = lease(current) if current else None
    with expectation as caught:
        got = acquire_lease(existing, "w", user, at(now_s), 60.0, force=force)
        assert got.holder_user_id == holder
        assert got.expires_at == T0 + timedelta(seconds=now_s + 60.0)
    if isinstance(caught, pytest.ExceptionInfo):
        assert caught.value.http_status == 409
        assert caught.value.lease.holder_user_id == current


def test_w11_renewal_keeps_the_acquisition_time() -> None:
    renewed = acquire_lease(lease("alice"), "w", "alice", at(50.0), 60.0)
    assert renewed.acquired_at == T0
    assert renewed.expires_monotonic_s == 110.0


def test_w11_check_and_release() -> None:
    held = lease("alice")
    check_lease(held, "alice", at(10.0))
    check_lease(None, "bob", at(10.0))
    check_lease(held, "bob", at(61.0))
    with pytest.raises(LeaseHeld):
        check_lease(held, "bob", at(10.0))
    with pytest.raises(LeaseHeld):
        release_lease(held, "bob", at(10.0))
    release_lease(held, "bob", at(10.0), force=True)
    release_lease(held, "alice", at(10.0))


def test_w11_o4_lease_expiry_ignores_wall_clock_jumps() -> None:
    held = lease("alice", ttl_s=LEASE_TTL_S)
    jumped = Instant(T0 + timedelta(hours=2), 10.0)  # NTP moved the clock
    with pytest.raises(LeaseHeld):
        acquire_lease(held, "w", "bob", jumped)


def test_w11_lease_for_another_wall_and_bad_ttl() -> None:
    with pytest.raises(WrongWall):
        acquire_lease(lease("alice"), "side", "alice", at(1.0))
    with pytest.raises(ValueError, match="ttl_s"):
        acquire_lease(None, "w", "alice", at(1.0), ttl_s=0.0)

"""Arming conditions: set, persisted, audited, published, listed with their arms."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.wall.platform.store_lock import locked_by_backup
from wall.conditions.core import ConditionState, check_name, listing
from wall.conditions.repository import ConditionKey, SqliteConditionRepository
from wall.conditions.service import ConditionsService
from wall.platform.errors import Malformed
from wall.platform.event_bus import EventBus
from wall.platform.store.migrations import StoreError
from wall.platform.store.sqlite import SqliteStore

AT = datetime(2026, 12, 4, 18, 53, 45, 123456, tzinfo=UTC)


def _service(store: SqliteStore, bus: EventBus) -> ConditionsService:
    return ConditionsService(
        SqliteConditionRepository(store), bus, wall_clock=lambda: AT
    )


@pytest.mark.parametrize(
    ("states", "arms", "expected"),
    [
        ({}, {}, []),
        ({}, {"flood": ["camera:a/zone:q"]}, [("flood", False, ("camera:a/zone:q",))]),
        (
            {"b": ConditionState("b", True, AT, "x")},
            {"a": ["o"]},
            [("a", False, ("o",)), ("b", True, ())],
        ),
    ],
)
def test_listing_merges_stored_states_and_declared_arms(
    states: dict[str, ConditionState],
    arms: dict[str, list[str]],
    expected: list[tuple[str, bool, tuple[str, ...]]],
) -> None:
    got = [(c.state.name, c.state.active, c.arms) for c in listing(states, arms)]
    assert got == expected


@pytest.mark.parametrize("name", ["", "with space", "-lead", "x" * 65, "a/b"])
def test_malformed_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="condition names must match"):
        check_name(name)


def test_condition_keys_build_and_parse() -> None:
    key = ConditionKey("flood_warning")
    assert ConditionKey.parse(str(key)) == key
    for bad in ("detection.event.det-1", "detection.condition.bad name"):
        with pytest.raises(ValueError, match="condition"):
            ConditionKey.parse(bad)


async def test_a_set_condition_is_saved_audited_published_and_survives(
    tmp_path: Path,
) -> None:
    bus = EventBus()
    sub = bus.subscribe(frozenset({"detection.condition"}))
    async with SqliteStore(tmp_path / "db.sqlite3") as store:
        async with _service(store, bus) as conditions:
            conditions.declare_arms("flood_warning", ["camera:gate/zone:quay"])
            conditions.declare_arms("flood_warning", ["camera:gate/zone:quay"])
            assert conditions.active() == frozenset()
            set_ = await conditions.set("flood_warning", True, "duty")
            assert conditions.active() == {"flood_warning"}
            with pytest.raises(Malformed):
                await conditions.set("bad name", True, "duty")
        audit = await store.list_audit()
        async with _service(store, bus) as again:
            listed = again.conditions()
    event = await sub.get()
    assert event is not None and event.data == {
        "name": "flood_warning",
        "active": True,
        "changed_at": "2026-12-04T18:53:45.123Z",
        "changed_by": "duty",
    }
    assert set_.arms == ("camera:gate/zone:quay",)
    assert set_.state == ConditionState("flood_warning", True, AT, "duty")
    # after a restart: the state is back, the arms are declared again by their rules
    # (the store keeps milliseconds, like the wire)
    (back,) = listed
    assert back.state == ConditionState(
        "flood_warning", True, AT.replace(microsecond=123000), "duty"
    )
    (entry,) = [e for e in audit if e.action == "detection.condition.set"]
    assert (entry.actor, entry.target, dict(entry.detail)) == (
        "duty",
        "condition:flood_warning",
        {"active": True},
    )


async def test_unreadable_condition_rows_are_skipped(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "db.sqlite3") as store:
        await store.put_kv(
            "detection.condition.ok",
            {"active": True, "changed_at": None, "changed_by": None},
        )
        await store.put_kv("detection.condition.broken", [1, 2])
        await store.put_kv("detection.condition.bad name", {"active": True})
        states = await SqliteConditionRepository(store).load()
    assert states == [ConditionState("ok", True, None, None)]


async def test_a_condition_the_store_refuses_is_not_kept_audited_or_published(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db.sqlite3"
    bus = EventBus()
    sub = bus.subscribe(frozenset({"detection.condition"}))
    async with SqliteStore(db, busy_timeout_s=0.2) as store:
        async with _service(store, bus) as conditions:
            with locked_by_backup(db), pytest.raises(StoreError):
                await conditions.set("flood_warning", True, "duty")
            assert conditions.active() == frozenset()
            assert conditions.condition("flood_warning").state.active is False
        assert await store.list_audit() == ()
        assert await store.list_kv(ConditionKey.PREFIX) == {}
    bus.close()
    assert await sub.get() is None  # nothing was published

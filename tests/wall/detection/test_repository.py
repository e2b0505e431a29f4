"""Detection records: typed keys over the store's rows, JSON shape kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from wall.detection.core import DetectionChange, Facts, FrameContext
from wall.detection.records import CrowdingRecord, HazardRecord, build_record
from wall.detection.repository import EventKey, SqliteDetectionRepository
from wall.platform.store.sqlite import SqliteStore

T0 = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 4, 18, 0, 2, 345678, tzinfo=UTC)
CTX = FrameContext(
    "gate",
    "公交站",
    ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0)),
    None,
    (),
    {"name": "yolox_nano", "version": "1", "sha256": "a" * 64, "file_sha256": "b" * 64},
)
COMMON = {
    "id",
    "type",
    "kind",
    "camera_id",
    "zone_id",
    "zone_name",
    "originator",
    "severity",
    "count",
    "started_at",
    "at",
    "model",
    "snapshot_url",
}


def _crowding(number: int) -> CrowdingRecord | HazardRecord:
    facts: Facts = {
        "count": 4,
        "density_ppm2": 1.5,
        "peak_count": 5,
        "peak_density_ppm2": 2.0,
    }
    change = DetectionChange("crowding", "raised", "kerb", "major", 0.0, 2.3, facts)
    return build_record(number, change, CTX, (T0, T1), snapshot=True)


def _intrusion(number: int) -> CrowdingRecord | HazardRecord:
    facts: Facts = {
        "count": 1,
        "labels": ["person"],
        "track_ids": [],
        "condition": "flood",
    }
    change = DetectionChange(
        "intrusion", "cleared", "quay", "critical", 0.0, 2.3, facts
    )
    return build_record(number, change, CTX, (T0, T1), snapshot=False)


def test_records_keep_their_json_field_names() -> None:
    crowding = _crowding(7).model_dump(mode="json")
    assert crowding.keys() == COMMON | {
        "density_ppm2",
        "peak_count",
        "peak_density_ppm2",
    }
    assert crowding["id"] == "det-00000007"
    assert crowding["originator"] == "camera:gate/zone:kerb"
    assert crowding["snapshot_url"] == "/api/v1/detections/det-00000007/snapshot.jpg"
    assert (crowding["started_at"], crowding["at"]) == (
        "2026-12-04T18:00:00.000Z",
        "2026-12-04T18:00:02.345Z",
    )
    intrusion = _intrusion(8).model_dump(mode="json")
    assert intrusion.keys() == COMMON | {"labels", "track_ids", "condition"}
    assert intrusion["snapshot_url"] is None and intrusion["condition"] == "flood"


def test_event_keys_build_and_parse() -> None:
    key = EventKey("det-00000042")
    assert str(key) == "detection.event.det-00000042"
    assert EventKey.parse(str(key)) == key and key.number == 42
    for bad in ("detection.condition.flood", "detection.event.det-x"):
        with pytest.raises(ValueError, match=r"detection event key|invalid literal"):
            EventKey.parse(bad)


async def test_rows_round_trip_and_the_newest_are_loaded(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "db.sqlite3") as store:
        repo = SqliteDetectionRepository(store)
        for n in range(1, 5):
            await repo.add(_crowding(n) if n % 2 else _intrusion(n))
        await repo.remove("det-00000004")
        await repo.remove("det-00000004")  # idempotent
        # a row written by an older release: offsets instead of Z
        old = _crowding(9).model_dump(mode="json") | {
            "id": "det-00000009",
            "at": "2026-12-04T18:00:02.345+00:00",
        }
        await store.put_kv("detection.event.det-00000009", old)
        await store.put_kv("detection.event.det-00000010", {"not": "a record"})
        await store.put_kv("detection.event.junk", {})
        stored = await repo.load(3)
    assert stored.last_number == 10  # numbers are never reused
    # the newest three rows, less the unreadable one
    assert [r.id for r in stored.records] == ["det-00000003", "det-00000009"]
    assert stored.records[0].model_dump(mode="json") == _crowding(3).model_dump(
        mode="json"
    )
    assert stored.records[-1].at == T1.replace(microsecond=345000)

"""Station endpoints: the registry with latest values, chart ranges, dead letters.

Reads only: observations arrive through the MQTT ingest
(:mod:`wall.sensors.ingest`). Ranges are raw points when few, otherwise
min/max/mean buckets (at most ``max_points``, 1,000 by default).
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from wall.api.access import requires
from wall.api.deps import runtime_of
from wall.api.schemas import STORE_ID_MAX
from wall.platform.auth import Permission, Principal
from wall.platform.clock import utc_now
from wall.platform.errors import NotFound
from wall.platform.wire import WireModel, WireTime
from wall.sensors.core.quality import Quality
from wall.sensors.core.stations import StationKind
from wall.sensors.dead_letter_store import SqliteDeadLetters
from wall.sensors.dead_letters import DeadLetter
from wall.sensors.observation_store import SqliteObservations
from wall.sensors.observations import (
    MAX_BUCKETS,
    Bucket,
    Observation,
    ObservationValue,
    Series,
)
from wall.sensors.settings import LocationSettings, StationSettings, ThresholdSettings

router = APIRouter(prefix="/api/v1", tags=["stations"])

DEFAULT_RANGE = timedelta(hours=24)
"""The range a chart query covers when it names no start."""
MAX_BUCKET_S = 31 * 86_400
"""The widest bucket a caller may ask for."""
_ELEMENT_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"

CanView = Annotated[Principal, Depends(requires(Permission.VIEW_CAMERAS))]
CanAudit = Annotated[Principal, Depends(requires(Permission.VIEW_AUDIT))]


class ObservationOut(WireModel):
    """One stored observation."""

    element: str = Field(description="Element, e.g. water_level.")
    observed_at: WireTime = Field(description="When it was measured.")
    received_at: WireTime = Field(description="When the service received it.")
    value: ObservationValue = Field(description="The value in unit.")
    unit: str | None = Field(None, description="Its unit, if the payload gave one.")
    quality: Quality = Field(description="good, late, spike, out_of_range…")
    retained: bool = Field(
        False, description="From a retained message: an old value, not an event."
    )

    @classmethod
    def of(cls, o: Observation) -> ObservationOut:
        """The wire form of ``o``."""
        return cls(
            element=o.element,
            observed_at=o.observed_at,
            received_at=o.received_at,
            value=o.value,
            unit=o.unit,
            quality=o.quality,
            retained=o.source.get("retained") is True,
        )


class StationOut(WireModel):
    """A configured station and the newest value of each element it reported."""

    id: str
    name: str
    kind: StationKind
    location: LocationSettings
    datum: str | None
    thresholds: ThresholdSettings
    expected_report_interval_s: float
    linked_camera_ids: tuple[str, ...]
    latest: list[ObservationOut] = Field(
        description="Newest observation per element, by observed time (M2)."
    )


class StationList(WireModel):
    """Every configured station."""

    stations: list[StationOut]


class BucketOut(WireModel):
    """Numeric values of one element in one time bucket."""

    start: WireTime
    end: WireTime
    count: int
    min: float
    max: float
    mean: float
    flagged: int = Field(description="How many of them are not good.")

    @classmethod
    def of(cls, b: Bucket) -> BucketOut:
        """The wire form of ``b``."""
        return cls(
            start=b.start,
            end=b.end,
            count=b.count,
            min=b.min,
            max=b.max,
            mean=b.mean,
            flagged=b.flagged,
        )


class SeriesOut(WireModel):
    """A range of one element: raw points, or buckets when there are many."""

    station: str
    element: str
    start: WireTime = Field(description="First instant (inclusive).")
    end: WireTime = Field(description="Last instant (exclusive).")
    bucket_s: int | None = Field(description="Bucket width; null for raw points.")
    points: list[ObservationOut]
    buckets: list[BucketOut] = Field(description="Non-empty buckets; gaps are absent.")

    @classmethod
    def of(cls, s: Series) -> SeriesOut:
        """The wire form of ``s``."""
        return cls(
            station=s.station,
            element=s.element,
            start=s.start,
            end=s.end,
            bucket_s=s.bucket_s,
            points=[ObservationOut.of(p) for p in s.points],
            buckets=[BucketOut.of(b) for b in s.buckets],
        )


class DeadLetterOut(WireModel):
    """A payload the ingest refused (M4)."""

    id: int
    received_at: WireTime
    topic: str
    reason: str = Field(description="Machine-readable, e.g. bad_json, unknown_station.")
    message: str
    size: int = Field(description="The payload's full size in bytes.")
    truncated: bool = Field(description="Only the first bytes of it were kept.")
    raw_base64: str = Field(description="The kept bytes, base64.")

    @classmethod
    def of(cls, d: DeadLetter) -> DeadLetterOut:
        """The wire form of ``d`` (a stored one)."""
        return cls(
            id=d.id or 0,
            received_at=d.received_at,
            topic=d.topic,
            reason=d.reason,
            message=d.message,
            size=d.size,
            truncated=d.truncated,
            raw_base64=base64.b64encode(d.raw).decode("ascii"),
        )


class DeadLetterPage(WireModel):
    """A page of dead letters, newest first, and the stored counts by reason."""

    dead_letters: list[DeadLetterOut]
    next_before_id: int | None = Field(
        description="Pass as before_id for the next page; null on the last."
    )
    counts: dict[str, int] = Field(description="Stored dead letters by reason.")


def _station(request: Request, station_id: str) -> StationSettings:
    for station in runtime_of(request).settings.stations:
        if station.id == station_id:
            return station
    raise NotFound("station_not_found", "no such station")


async def _station_out(request: Request, s: StationSettings) -> StationOut:
    latest = await SqliteObservations(runtime_of(request).store).latest(s.id)
    return StationOut(
        id=s.id,
        name=s.name,
        kind=s.kind,
        location=s.location,
        datum=s.datum,
        thresholds=s.thresholds,
        expected_report_interval_s=s.expected_report_interval_s,
        linked_camera_ids=s.linked_camera_ids,
        latest=[ObservationOut.of(o) for o in latest],
    )


@router.get("/stations", summary="List stations with their latest values")
async def list_stations(request: Request, _: CanView) -> StationList:
    """Every configured station, in configuration order."""
    stations = runtime_of(request).settings.stations
    return StationList(stations=[await _station_out(request, s) for s in stations])


@router.get(
    "/stations/{station_id}",
    summary="One station with its latest values",
    responses={404: {"description": "Unknown station."}},
)
async def get_station(request: Request, station_id: str, _: CanView) -> StationOut:
    """The station's configuration and the newest value of each element."""
    return await _station_out(request, _station(request, station_id))


@router.get(
    "/stations/{station_id}/observations",
    summary="A chart range of one element",
    responses={404: {"description": "Unknown station."}},
)
async def station_observations(
    request: Request,
    station_id: str,
    _: CanView,
    element: Annotated[str, Query(pattern=_ELEMENT_PATTERN)],
    start: Annotated[
        WireTime | None,
        Query(alias="from", description="RFC 3339; default: 24 h before to."),
    ] = None,
    end: Annotated[
        WireTime | None, Query(alias="to", description="RFC 3339; default: now.")
    ] = None,
    bucket: Annotated[
        int | None, Query(ge=1, le=MAX_BUCKET_S, description="Bucket width, s.")
    ] = None,
    max_points: Annotated[
        int | None, Query(ge=2, le=MAX_BUCKETS, description="Default 1,000.")
    ] = None,
) -> SeriesOut:
    """Raw points when at most ``max_points``; else min/max/mean buckets."""
    station = _station(request, station_id)
    to: datetime = end or utc_now()
    since: datetime = start or to - DEFAULT_RANGE
    series = await SqliteObservations(runtime_of(request).store).range(
        station.id, element, since, to, bucket_s=bucket, max_points=max_points
    )
    return SeriesOut.of(series)


@router.get("/ingest/dead-letters", summary="Payloads the ingest refused")
async def dead_letters(
    request: Request,
    _: CanAudit,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=STORE_ID_MAX)] = None,
) -> DeadLetterPage:
    """Newest first; page with ``before_id`` (admins and duty officers)."""
    repository = SqliteDeadLetters(runtime_of(request).store)
    page = await repository.dead_letters(limit, before_id)
    full = len(page) == limit and page[-1].id is not None
    return DeadLetterPage(
        dead_letters=[DeadLetterOut.of(d) for d in page],
        next_before_id=page[-1].id if full else None,
        counts=dict(await repository.dead_letter_counts()),
    )

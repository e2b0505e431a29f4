"""Shared pieces of the observation store tests: a real SQLite file and builders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wall.sensors.observations import Observation, ObservationValue, Quality

T0 = datetime(2025, 7, 8, 0, 0, tzinfo=UTC)
"""A midnight UTC start: the flood season of the tests."""
BUSY_S = 0.3
"""Busy timeout of the test engines: a locked write fails quickly."""


def obs(
    minute: float,
    value: ObservationValue = 1.0,
    *,
    station: str = "ba-gauge-1",
    element: str = "water_level",
    received_minute: float | None = None,
    quality: Quality = Quality.GOOD,
) -> Observation:
    """An observation ``minute`` minutes after :data:`T0`."""
    observed = T0 + timedelta(minutes=minute)
    received = (
        observed if received_minute is None else T0 + timedelta(minutes=received_minute)
    )
    return Observation(
        station=station,
        element=element,
        observed_at=observed,
        received_at=received,
        value=value,
        unit="m",
        quality=quality,
        source={"protocol": "senml", "topic": f"citywall/stations/{station}/senml"},
    )

"""The MQTT ingest: station payloads in, graded observations and dead letters stored.

:class:`IngestService` takes batches of messages from the shared
:class:`~devices.mqtt.client.MqttClient`, decodes each one
(:func:`devices.protocols.routing.decode`), grades the readings of
configured stations (:func:`~wall.sensors.core.quality.grade`) and stores
the batch's observations and dead letters. Only then does it commit the
messages, which sends their QoS 1 acknowledgements: a crash before that
leaves them in the broker's session, they are delivered again and the
store's de-duplication absorbs the copies (M3), so nothing is lost.

A payload that cannot become observations (bad JSON, NaN, a wrong type, an
unknown topic or station) becomes a dead letter and the consumer carries on
(M4). A store failure is retried with backoff and the messages stay
unacknowledged meanwhile; the broker's in-flight window holds the rest.

Retained messages (sent by the broker at subscribe time, M11) are stored
like any other but carry ``"retained": true`` in the observation's source,
so that rules can tell an old value from a new event.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import (
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from devices.backoff import Backoff
from devices.mqtt.client import MqttClient
from devices.mqtt.inbox import InboundMessage
from devices.protocols.readings import DecodeError, Reading, shown
from devices.protocols.routing import decode
from wall.platform.health import ComponentHealth, Status
from wall.platform.store.migrations import StoreError
from wall.platform.wire import JsonValue
from wall.sensors.core.quality import Limits, Quality, SpikeState, grade, is_late
from wall.sensors.core.stations import Station
from wall.sensors.dead_letters import DeadLetter, DeadLetterRepository
from wall.sensors.ingest_settings import IngestSettings
from wall.sensors.observations import Observation, ObservationRepository

__all__ = [
    "Graded",
    "IngestService",
    "IngestStats",
    "ObservationGrader",
    "ingest_metrics",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

STOP_TIMEOUT_S = 5.0
"""Longest wait for the consumer and the client to stop."""
INTERNAL_ERROR = "internal_error"
"""Dead-letter reason of a message the service itself failed on."""

UNKNOWN_STATION = "unknown_station"
"""Dead-letter reason of readings for a station that is not configured."""
_NO_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Graded:
    """What one message became.

    Attributes:
        observations: Graded observations of configured stations.
        dead_letter: The message as a dead letter, if any of it was refused.
    """

    observations: tuple[Observation, ...]
    dead_letter: DeadLetter | None = None


class ObservationGrader:
    """Turns messages into graded observations; remembers each spike guard.

    Args:
        stations: The configured stations.
        late_after_s: Age at receipt above which a reading is late (M2).
    """

    def __init__(self, stations: Iterable[Station], late_after_s: float) -> None:
        self._stations = {s.id: s for s in stations}
        self._late_after_s = late_after_s
        self._spikes: dict[tuple[str, str], SpikeState] = {}

    def grade(self, message: InboundMessage) -> Graded:
        """The observations of ``message``, or its dead letter (M4)."""
        try:
            readings = decode(message.topic, message.payload, message.received_at)
        except DecodeError as err:
            return Graded((), self._letter(message, err.reason, err.message))
        known = [r for r in readings if r.station in self._stations]
        unknown = sorted({r.station for r in readings} - self._stations.keys())
        letter = None
        if unknown:
            names = ", ".join(shown(s) for s in unknown[:5])
            letter = self._letter(message, UNKNOWN_STATION, f"unknown station {names}")
        return Graded(tuple(self._observation(message, r) for r in known), letter)

    def _letter(self, message: InboundMessage, reason: str, text: str) -> DeadLetter:
        return DeadLetter.capture(
            message.received_at, message.topic, reason, text, message.payload
        )

    def _quality(self, reading: Reading, received: InboundMessage) -> Quality:
        value = reading.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            late = is_late(
                reading.observed_at, received.received_at, self._late_after_s
            )
            return Quality.LATE if late else Quality.GOOD
        station = self._stations[reading.station]
        key = (reading.station, reading.element)
        result = grade(
            float(value),
            reading.observed_at,
            received.received_at,
            station.limits_for(reading.element) or _NO_LIMITS,
            self._spikes.get(key, SpikeState()),
            late_after_s=self._late_after_s,
        )
        self._spikes[key] = result.spike
        return result.quality

    def _observation(self, message: InboundMessage, reading: Reading) -> Observation:
        source: dict[str, JsonValue] = {
            "protocol": reading.source,
            "topic": message.topic,
            "time_source": reading.time_source,
        }
        if message.retain:
            source["retained"] = True  # an old value at subscribe time (M11)
        return Observation(
            station=reading.station,
            element=reading.element,
            observed_at=reading.observed_at,
            received_at=message.received_at,
            value=reading.value,
            unit=reading.unit,
            quality=self._quality(reading, message),
            source=source,
        )


@dataclass(frozen=True, slots=True)
class IngestStats:
    """Counters since the service started.

    Attributes:
        received: Messages taken from the broker.
        stored: Observations that were new in the store.
        duplicates: Observations the store already had (redeliveries, M3).
        retained: Observations from retained messages (M11).
        dead_letters: Dead letters stored, by reason (M4).
        store_retries: Store attempts that failed and were retried.
        batches: Batches committed.
    """

    received: int
    stored: int
    duplicates: int
    retained: int
    dead_letters: Mapping[str, int]
    store_retries: int
    batches: int


class IngestService:
    """The consumer of station messages (an ``async with`` component).

    Args:
        settings: The ``sensor_ingest`` section.
        stations: The configured stations.
        observations: Where observations go.
        dead_letters: Where refused payloads go.
        client: The MQTT client to consume from; by default one built from
            ``settings`` (a test passes its own configuration's client).
    """

    def __init__(
        self,
        settings: IngestSettings,
        stations: Sequence[Station],
        observations: ObservationRepository,
        dead_letters: DeadLetterRepository,
        *,
        client: MqttClient | None = None,
    ) -> None:
        self.settings = settings
        self.client = client or MqttClient(settings.client_config())
        self._grader = ObservationGrader(stations, settings.late_after_s)
        self._observations, self._dead_letters = observations, dead_letters
        self._stack = AsyncExitStack()
        self._task: asyncio.Task[None] | None = None
        self._counts: Counter[str] = Counter()
        self._letters: Counter[str] = Counter()
        self._store_problem: str | None = None

    async def __aenter__(self) -> IngestService:
        await self._stack.enter_async_context(self.client)
        group = await self._stack.enter_async_context(asyncio.TaskGroup())
        self._task = group.create_task(self._run(), name="sensor ingest")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop consuming and close the client, bounded; idempotent.

        Messages taken but not yet committed stay unacknowledged: the broker
        delivers them again to the next session under the same client id.
        """
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await self._stack.aclose()
        except TimeoutError:
            log.error("sensor ingest: stop exceeded %.0f s", STOP_TIMEOUT_S)

    async def _run(self) -> None:
        while True:
            messages = await self.client.receive(self.settings.batch_max)
            if messages:
                await self.ingest(messages)

    async def ingest(self, messages: Sequence[InboundMessage]) -> None:
        """Grade, store and then commit one batch (retrying the store)."""
        observations: list[Observation] = []
        letters: list[DeadLetter] = []
        for message in messages:
            graded = self._graded(message)
            observations.extend(graded.observations)
            if graded.dead_letter is not None:
                letters.append(graded.dead_letter)
        new = await self._retrying(lambda: self._observations.add_many(observations))
        if letters:
            await self._retrying(lambda: self._dead_letters.add_dead_letters(letters))
        self.client.commit(messages)  # only now: the QoS 1 acknowledgements
        self._counts.update(
            received=len(messages),
            stored=new,
            duplicates=len(observations) - new,
            retained=sum(1 for o in observations if o.source.get("retained")),
            batches=1,
        )
        self._letters.update(letter.reason for letter in letters)

    def _graded(self, message: InboundMessage) -> Graded:
        # A fault in grading one message (a bug, not a bad payload) must not
        # stop ingestion for every station: the message becomes a dead letter
        # with the fault's name, is committed, and the consumer goes on.
        try:
            return self._grader.grade(message)
        except Exception as err:
            log.exception("sensor ingest: grading on %s failed", message.topic)
            letter = DeadLetter.capture(
                message.received_at,
                message.topic,
                INTERNAL_ERROR,
                f"the service failed on this message ({type(err).__name__})",
                message.payload,
            )
            return Graded((), letter)

    async def _retrying(self, write: Callable[[], Awaitable[T]]) -> T:
        backoff = Backoff(self.settings.retry_initial_s, self.settings.retry_max_s)
        while True:
            try:
                result = await write()
            except StoreError as err:
                self._counts["store_retries"] += 1
                self._store_problem = err.message
                delay = backoff.next_delay_s()
                log.warning(
                    "sensor ingest: store failed (%s); retry in %.1f s", err, delay
                )
                await asyncio.sleep(delay)
                continue
            self._store_problem = None
            return result

    def stats(self) -> IngestStats:
        """The counters."""
        c = self._counts
        return IngestStats(
            received=c["received"],
            stored=c["stored"],
            duplicates=c["duplicates"],
            retained=c["retained"],
            dead_letters=dict(sorted(self._letters.items())),
            store_retries=c["store_retries"],
            batches=c["batches"],
        )

    def health(self) -> ComponentHealth:
        """Degraded while the broker is away or the store fails (M12)."""
        mqtt = self.client.health()
        away = mqtt.state in ("reconnecting", "refused")
        status = Status.DEGRADED if away or self._store_problem else Status.OK
        stats = self.stats()
        detail: dict[str, JsonValue] = {
            "broker": mqtt.broker,
            "state": mqtt.state,
            "detail": mqtt.detail,
            "store": self._store_problem or "ok",
            "received": stats.received,
            "stored": stats.stored,
            "duplicates": stats.duplicates,
            "dead_letters": sum(stats.dead_letters.values()),
            "store_retries": stats.store_retries,
        }
        return ComponentHealth("sensor_ingest", status, detail)


def ingest_metrics(service: IngestService) -> Iterator[Metric]:
    """Prometheus figures of the ingest, read at scrape time on the loop."""
    stats = service.stats()
    for name, value, text in (
        ("received", stats.received, "MQTT messages taken for ingestion"),
        ("stored", stats.stored, "Observations stored (new)"),
        ("duplicates", stats.duplicates, "Observations already stored (M3)"),
        ("retained", stats.retained, "Observations from retained messages (M11)"),
        ("store_retries", stats.store_retries, "Failed store attempts retried"),
    ):
        family = CounterMetricFamily(f"citywall_ingest_{name}", text)
        family.add_metric([], float(value))
        yield family
    letters = CounterMetricFamily(
        "citywall_ingest_dead_letters",
        "Payloads refused into the dead-letter store (M4)",
        labels=["reason"],
    )
    for reason, count in stats.dead_letters.items():
        letters.add_metric([reason], float(count))
    yield letters
    degraded = GaugeMetricFamily(
        "citywall_ingest_degraded", "1 while the broker is away or the store fails"
    )
    degraded.add_metric([], 1.0 if service.health().status is Status.DEGRADED else 0.0)
    yield degraded

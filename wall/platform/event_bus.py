"""The internal event bus: one stream of domain events for every consumer.

Camera health, and later detections, alarms, case transitions and layout
switches, are published once here and fanned out to WebSocket clients, MQTT
out-topics and the audit log alike. Each consumer has its own bounded
queue: drop-oldest with a counter, so a slow client never stalls the
publisher or the other clients.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from wall.platform.wire import WireModel, wire_time

P = TypeVar("P", bound=WireModel)


@dataclass(frozen=True, slots=True)
class Topic(Generic[P]):
    """One entry of the topic catalogue: a name and the model of its payload.

    Attributes:
        name: dotted name, e.g. ``alarm.raised``; subscribers may use ``alarm.*``.
        payload: the pydantic model every event of this topic carries.
        summary: one line for people (listed in the catalogue).
    """

    name: str
    payload: type[P]
    summary: str


_CATALOGUE: dict[str, Topic[Any]] = {}


def topic(name: str, payload: type[P], summary: str) -> Topic[P]:
    """Declare a topic in the catalogue; each capability declares its own.

    Raises:
        ValueError: the name is declared twice (one topic, one payload).
    """
    if name in _CATALOGUE:
        raise ValueError(f"topic {name!r} is declared twice")
    entry = Topic(name, payload, summary)
    _CATALOGUE[name] = entry
    return entry


def catalogue() -> tuple[Topic[Any], ...]:
    """Every declared topic, by name."""
    return tuple(_CATALOGUE[name] for name in sorted(_CATALOGUE))


@dataclass(frozen=True, slots=True)
class Event:
    """A domain event.

    Attributes:
        topic: dotted name, e.g. ``camera.health``.
        data: JSON-serialisable payload (no secrets).
        at: UTC time of the event.
        seq: bus-wide sequence number.
    """

    topic: str
    data: dict[str, Any]
    at: datetime
    seq: int

    def to_json(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "type": "event",
            "topic": self.topic,
            "seq": self.seq,
            "at": wire_time(self.at),
            "data": self.data,
        }


@dataclass(eq=False)
class BusSubscription:
    """One consumer's bounded queue of events."""

    topics: frozenset[str] | None
    max_events: int
    dropped: int = 0
    _queue: deque[Event] = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _closed: bool = False

    def wants(self, topic: str) -> bool:
        """True if this subscription takes ``topic`` (prefix ``camera.*`` allowed)."""
        if self.topics is None:
            return True
        return any(
            topic == t or (t.endswith(".*") and topic.startswith(t[:-1]))
            for t in self.topics
        )

    def offer(self, event: Event) -> None:
        """Queue an event, dropping the oldest when full."""
        if len(self._queue) >= self.max_events:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(event)
        self._ready.set()

    def close(self) -> None:
        """Wake the consumer; :meth:`get` then returns None."""
        self._closed = True
        self._ready.set()

    async def get(self) -> Event | None:
        """Next event, or None once closed."""
        while not self._queue:
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()


class EventBus:
    """Publish/subscribe on the event loop."""

    def __init__(self, max_events_per_subscriber: int = 256) -> None:
        self.max_events = max_events_per_subscriber
        self._subs: set[BusSubscription] = set()
        self._seq = itertools.count(1)
        self.published = 0

    def subscribe(self, topics: frozenset[str] | None = None) -> BusSubscription:
        """A new subscription; ``None`` topics means everything."""
        sub = BusSubscription(topics, self.max_events)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: BusSubscription) -> None:
        """Remove a subscription (idempotent)."""
        self._subs.discard(sub)
        sub.close()

    def emit(self, topic: Topic[P], payload: P) -> Event:
        """Publish a typed event of a catalogued topic; never blocks.

        Raises:
            TypeError: the payload is not the topic's model.
        """
        if not isinstance(payload, topic.payload):
            raise TypeError(
                f"{topic.name} carries {topic.payload.__name__}, "
                f"not {type(payload).__name__}"
            )
        return self._publish(topic.name, payload.model_dump(mode="json"))

    def _publish(self, topic: str, data: dict[str, Any]) -> Event:
        event = Event(topic, data, datetime.now(UTC), next(self._seq))
        self.published += 1
        for sub in self._subs:
            if sub.wants(topic):
                sub.offer(event)
        return event

    @property
    def dropped_total(self) -> int:
        """Events dropped across current subscribers."""
        return sum(s.dropped for s in self._subs)

    def close(self) -> None:
        """Close every subscription."""
        for sub in list(self._subs):
            self.unsubscribe(sub)

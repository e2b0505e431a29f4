"""Prometheus exposition of the registered components, read at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from wall.platform.event_bus import EventBus


class _Families(Collector):
    def __init__(self, families: Callable[[], Iterable[Metric]]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families()


def render(families: Callable[[], Iterable[Metric]]) -> bytes:
    """The Prometheus text exposition of what ``families`` yields now."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return bytes(generate_latest(registry))


def bus_metrics(bus: EventBus) -> Iterator[Metric]:
    """Events published and dropped on the event bus."""
    yield CounterMetricFamily(
        "citywall_events_published", "Events published on the bus", value=bus.published
    )
    yield GaugeMetricFamily(
        "citywall_events_dropped",
        "Events dropped for slow subscribers (current subscribers)",
        value=bus.dropped_total,
    )

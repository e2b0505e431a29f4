"""Prometheus metrics, read from live state at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from devices.health import StreamState
from wall.runtime import Runtime


class RuntimeCollector(Collector):
    """Collects camera, relay and bus figures from a runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        """Yield the metric families."""
        labels = ["camera", "stream"]
        state = GaugeMetricFamily(
            "citywall_stream_state",
            "1 for the stream's current state",
            labels=[*labels, "state"],
        )
        fps = GaugeMetricFamily(
            "citywall_stream_fps", "Measured packets per second", labels=labels
        )
        bps = GaugeMetricFamily(
            "citywall_stream_bitrate_bps", "Measured bits per second", labels=labels
        )
        users = GaugeMetricFamily(
            "citywall_stream_users", "Current users of the stream", labels=labels
        )
        reconnects = CounterMetricFamily(
            "citywall_stream_reconnects", "Reconnections since start", labels=labels
        )
        for stream in self.runtime.fleet.streams():
            h = stream.health()
            key = [stream.key.camera_id, stream.key.role.value]
            for s in StreamState:
                state.add_metric([*key, s.value], 1.0 if h.state is s else 0.0)
            fps.add_metric(key, h.fps)
            bps.add_metric(key, h.bitrate_bps)
            users.add_metric(key, h.viewers)
            reconnects.add_metric(key, h.reconnects)
        yield from (state, fps, bps, users, reconnects)
        viewers = GaugeMetricFamily(
            "citywall_live_viewers", "Open WebRTC viewer sessions"
        )
        viewers.add_metric([], self.runtime.relay.viewer_count)
        yield viewers
        published = CounterMetricFamily(
            "citywall_events_published", "Events published on the bus"
        )
        published.add_metric([], self.runtime.bus.published)
        yield published
        dropped = GaugeMetricFamily(
            "citywall_events_dropped",
            "Events dropped for slow subscribers (current subscribers)",
        )
        dropped.add_metric([], self.runtime.bus.dropped_total)
        yield dropped


def render(runtime: Runtime) -> bytes:
    """The Prometheus text exposition of ``runtime``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime))
    return bytes(generate_latest(registry))

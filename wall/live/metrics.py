"""Prometheus figures of the cameras' streams and the live relay."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from devices.cameras.fleet import CameraFleet
from devices.cameras.health import StreamState
from wall.live.core.admission import Limit, Pool, SessionKind
from wall.live.core.lifetime import ReapReason
from wall.live.relay import LiveViewRelay

_LABELS = ["camera", "stream"]


def stream_metrics(fleet: CameraFleet) -> Iterator[Metric]:
    """State, rate, bitrate, users and reconnects of every camera stream."""
    state = GaugeMetricFamily(
        "citywall_stream_state",
        "1 for the stream's current state",
        labels=[*_LABELS, "state"],
    )
    fps = GaugeMetricFamily(
        "citywall_stream_fps", "Measured packets per second", labels=_LABELS
    )
    bps = GaugeMetricFamily(
        "citywall_stream_bitrate_bps", "Measured bits per second", labels=_LABELS
    )
    users = GaugeMetricFamily(
        "citywall_stream_users", "Current users of the stream", labels=_LABELS
    )
    reconnects = CounterMetricFamily(
        "citywall_stream_reconnects", "Reconnections since start", labels=_LABELS
    )
    for stream in fleet.streams():
        h = stream.health()
        key = [stream.key.camera_id, stream.key.role.value]
        for s in StreamState:
            state.add_metric([*key, s.value], 1.0 if h.state is s else 0.0)
        fps.add_metric(key, h.fps)
        bps.add_metric(key, h.bitrate_bps)
        users.add_metric(key, h.viewers)
        reconnects.add_metric(key, h.reconnects)
    yield from (state, fps, bps, users, reconnects)


def relay_metrics(relay: LiveViewRelay) -> Iterator[Metric]:
    """Open live sessions by kind and pool, and the reaped and refused ones."""
    viewers = GaugeMetricFamily(
        "citywall_live_viewers", "Open live sessions (WebRTC and MPEG-TS)"
    )
    viewers.add_metric([], relay.viewer_count)
    sessions = GaugeMetricFamily(
        "citywall_live_sessions",
        "Open live sessions by kind (webrtc, mpegts) and pool (viewer, display)",
        labels=["kind", "pool"],
    )
    counts = relay.counts()
    for kind in SessionKind:
        for pool in Pool:
            sessions.add_metric([kind.value, pool.value], counts[(kind, pool.value)])
    reaped = CounterMetricFamily(
        "citywall_live_sessions_reaped",
        "Sessions the relay closed itself: never connected, failed, or silent",
        labels=["reason"],
    )
    for reason in (r for r in ReapReason if r is not ReapReason.CLOSED):
        reaped.add_metric([reason.value], relay.reaped[reason])
    refused = CounterMetricFamily(
        "citywall_live_sessions_refused",
        "Sessions refused at a limit (token, address, viewers, global)",
        labels=["limit"],
    )
    for limit in Limit:
        refused.add_metric([limit.value], relay.refused[limit])
    yield from (viewers, sessions, reaped, refused)

"""Topic to payload format and station, and the one entry point that decodes.

The default layout needs no configuration: ``citywall/stations/<station>/<format>``
with the format ``senml``, ``tb`` or ``plain``, and the ThingsBoard gateway
topic ``v1/gateway/telemetry`` (stations named in the payload). Deployments
add routes as data: an MQTT topic filter, the format of its payloads and the
level of the filter (a ``+``) that holds the station. Configured routes are
tried first, in order, then the defaults; the first match wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from devices.protocols.document import MAX_PAYLOAD_BYTES, parse_document
from devices.protocols.plain import decode_plain
from devices.protocols.readings import FORMATS, DecodeError, Format, Reading, shown
from devices.protocols.senml import decode_senml
from devices.protocols.thingsboard import decode_tb, decode_tb_gateway


class RouteMatch(NamedTuple):
    """What a topic says: the payload format and the station, if it names one."""

    format: Format
    station: str | None


@dataclass(frozen=True, slots=True)
class TopicRoute:
    """One topic filter and how to read the payloads published under it.

    Attributes:
        topic_filter: an MQTT filter (``+`` one level, ``#`` the rest).
        format: the payload format on matching topics.
        station_level: index (from 0) of the ``+`` level holding the
            station, or None when the payload names it.

    Examples:
        >>> sensors = TopicRoute("sensors/+/tb", "tb", station_level=1)
        >>> sensors.match("sensors/bahe-01/tb")
        RouteMatch(format='tb', station='bahe-01')
        >>> sensors.match("sensors/bahe-01/senml") is None
        True
    """

    topic_filter: str
    format: Format
    station_level: int | None = None

    def __post_init__(self) -> None:
        levels = self.topic_filter.split("/")
        if not self.topic_filter or any(
            ("+" in level or "#" in level) and len(level) > 1 for level in levels
        ):
            raise ValueError(f"topic filter {self.topic_filter!r} is not MQTT")
        if "#" in levels[:-1]:
            raise ValueError(f"'#' must be the last level of {self.topic_filter!r}")
        if self.format not in FORMATS:
            raise ValueError(f"unknown payload format {self.format!r}")
        if self.station_level is not None and (
            self.format == "tb_gateway"
            or not 0 <= self.station_level < len(levels)
            or levels[self.station_level] != "+"
        ):
            raise ValueError(
                f"station_level {self.station_level} of {self.topic_filter!r}"
                " must point at a '+' level (and gateways name stations themselves)"
            )

    def match(self, topic: str) -> RouteMatch | None:
        """The format and station for ``topic``, or None if it does not match."""
        if not topic or "+" in topic or "#" in topic:
            return None
        levels, wanted = topic.split("/"), self.topic_filter.split("/")
        if topic.startswith("$") and wanted[0] in {"+", "#"}:
            return None  # MQTT: wildcards never match $SYS-style topics
        if wanted[-1] == "#":
            wanted = wanted[:-1]
            if len(levels) < len(wanted):
                return None
        elif len(levels) != len(wanted):
            return None
        if any(w not in {"+", t} for w, t in zip(wanted, levels, strict=False)):
            return None
        station = None if self.station_level is None else levels[self.station_level]
        return RouteMatch(self.format, station)


DEFAULT_ROUTES: tuple[TopicRoute, ...] = (
    TopicRoute("citywall/stations/+/senml", "senml", station_level=2),
    TopicRoute("citywall/stations/+/tb", "tb", station_level=2),
    TopicRoute("citywall/stations/+/plain", "plain", station_level=2),
    TopicRoute("v1/gateway/telemetry", "tb_gateway"),
)
"""The layout that works with nothing configured."""


def route(topic: str, routes: tuple[TopicRoute, ...] = ()) -> RouteMatch | None:
    """The format and station of a topic: configured routes, then the defaults.

    Examples:
        >>> route("citywall/stations/bahe-01/senml")
        RouteMatch(format='senml', station='bahe-01')
        >>> route("v1/gateway/telemetry")
        RouteMatch(format='tb_gateway', station=None)
        >>> route("elsewhere/x") is None
        True
    """
    for candidate in (*routes, *DEFAULT_ROUTES):
        found = candidate.match(topic)
        if found is not None:
            return found
    return None


def decode(
    topic: str,
    payload: bytes,
    received_at: datetime,
    routes: tuple[TopicRoute, ...] = (),
    *,
    max_payload: int = MAX_PAYLOAD_BYTES,
) -> tuple[Reading, ...]:
    """Decode one MQTT message into readings, in time order (M2).

    Args:
        topic: the topic it was published on.
        payload: the raw payload.
        received_at: when it arrived (timezone-aware); server-time and
            relative readings are observed at it (M1, M6).
        routes: configured routes, tried before :data:`DEFAULT_ROUTES`.
        max_payload: the size limit in bytes (M4).

    Raises:
        DecodeError: ``unknown_topic`` or the decoder's reason (M4).
        ValueError: if ``received_at`` is naive (a caller's bug).

    Examples:
        >>> from datetime import UTC
        >>> now = datetime(2025, 7, 8, 10, 0, tzinfo=UTC)
        >>> [r.element for r in decode("citywall/stations/s1/tb", b'{"wl": 3}', now)]
        ['water_level']
    """
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    found = route(topic, routes)
    if found is None:
        raise DecodeError("unknown_topic", f"no route for topic {shown(topic)}")
    document = parse_document(payload, max_payload)
    if found.format == "senml":
        return decode_senml(document, found.station, received_at)
    if found.format == "tb":
        return decode_tb(document, found.station, received_at)
    if found.format == "plain":
        return decode_plain(document, found.station, received_at)
    return decode_tb_gateway(document, received_at)

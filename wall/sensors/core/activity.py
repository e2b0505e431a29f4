"""Station activity: who is reporting, who fell silent, and our own outages (M12, M13).

A station silent for k x its ``expected_report_interval_s`` (k = 2.5 by
default) becomes inactive and the board decides to raise its offline alarm;
any later data makes it active again and decides to clear it (M13). A station
never heard since start-up is measured from start-up.

While ingestion is degraded (our broker connection is down) nobody goes
inactive: the silence is ours, not theirs. After the reconnect every active
station's silence is measured from the reconnect, not from its last data, so
one outage does not take the whole fleet offline (M12). Each outage is
returned as an :class:`IngestionGap` so the service can record it.

Silence is measured on the monotonic clock only; UTC times are carried for
people and alarms, so a ±1 h wall-clock step changes no decision (O4). The
service should :meth:`ActivityBoard.tick` before it marks ingestion down, so
silence that was due before the outage still counts.

Examples:
    >>> from datetime import UTC, datetime
    >>> from wall.sensors.core.stations import Station, StationKind
    >>> t0 = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)
    >>> board = ActivityBoard.start([Station("h1", StationKind.WATER_LEVEL)], 0.0)
    >>> board, found = board.tick(749.0, t0)
    >>> found
    ()
    >>> board, found = board.tick(750.0, t0)
    >>> [d.action.value for d in found], board.activity("h1").active
    (['raise_offline'], False)
    >>> board, d = board.observed("h1", 800.0, t0)
    >>> d.action.value, board.activity("h1").active
    ('clear_offline', True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from wall.alarms.core import Originator, Severity
from wall.platform.wire import JsonValue, wire_time
from wall.sensors.core.decisions import STATION_ORIGINATOR_KIND
from wall.sensors.core.stations import Station

__all__ = [
    "DEFAULT_INACTIVITY_FACTOR",
    "OFFLINE_ALARM_TYPE",
    "OFFLINE_SEVERITY",
    "ActivityAction",
    "ActivityBoard",
    "ActivityDecision",
    "IngestionGap",
    "StationActivity",
]

DEFAULT_INACTIVITY_FACTOR = 2.5
"""k: a station is inactive after k x its expected report interval (M13)."""
OFFLINE_ALARM_TYPE = "station_offline"
"""Alarm type of the offline alarm (originator ``station:<id>``)."""
OFFLINE_SEVERITY = Severity.MAJOR
"""Proposed default severity of the offline alarm."""


class ActivityAction(StrEnum):
    """What the service should do with a station's offline alarm."""

    RAISE_OFFLINE = "raise_offline"
    CLEAR_OFFLINE = "clear_offline"
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class StationActivity:
    """Where one station stands.

    Attributes:
        station_id: The station.
        expected_report_interval_s: How often it should report.
        active: It reported within k x the interval (or is not yet due).
        last_activity_monotonic_s: Monotonic time of its last data, if any.
        last_activity_at: UTC time of its last data, if any (for people).
        silent_since_monotonic_s: Where its silence is measured from: the
            latest of its last data, start-up and the last reconnect (M12).
    """

    station_id: str
    expected_report_interval_s: float
    active: bool
    last_activity_monotonic_s: float | None
    last_activity_at: datetime | None
    silent_since_monotonic_s: float

    def due_monotonic_s(self, factor: float) -> float:
        """Monotonic time at which continued silence makes it inactive."""
        return self.silent_since_monotonic_s + factor * self.expected_report_interval_s


@dataclass(frozen=True, slots=True)
class ActivityDecision:
    """What one data arrival or tick decided for one station.

    Attributes:
        action: What to do with the offline alarm.
        station_id: The station (the alarm's originator).
        at: UTC time of the decision (the alarm transition time).
        last_activity_at: UTC time of its last data, ``None`` if never heard.
        silent_s: Seconds of silence measured (monotonic) when it went inactive.
        limit_s: k x the expected report interval, seconds.
    """

    action: ActivityAction
    station_id: str
    at: datetime
    last_activity_at: datetime | None = None
    silent_s: float | None = None
    limit_s: float | None = None

    @property
    def originator(self) -> Originator:
        """The alarm's originator, ``station:<id>``."""
        return Originator(STATION_ORIGINATOR_KIND, self.station_id)

    def details(self) -> Mapping[str, JsonValue]:
        """Alarm details for people: last data, silence and its limit."""
        last = self.last_activity_at
        found: dict[str, JsonValue] = {
            "last_activity_at": None if last is None else wire_time(last),
        }
        if self.silent_s is not None:
            found["silent_s"] = round(self.silent_s, 3)
        if self.limit_s is not None:
            found["limit_s"] = self.limit_s
        return MappingProxyType(found)


@dataclass(frozen=True, slots=True)
class IngestionGap:
    """One outage of our own ingestion (M12): from the drop to the reconnect.

    Attributes:
        started_at: UTC time of the drop, for people.
        ended_at: UTC time of the reconnect.
        duration_s: Its length on the monotonic clock (O4).
    """

    started_at: datetime
    ended_at: datetime
    duration_s: float


@dataclass(frozen=True, slots=True)
class _Outage:
    started_monotonic_s: float
    started_at: datetime


@dataclass(frozen=True, slots=True)
class ActivityBoard:
    """Activity of every configured station, and whether ingestion is degraded.

    Attributes:
        stations: Station id → its activity.
        factor: k of M13.
        outage: The ongoing outage of our ingestion, ``None`` when connected.
    """

    stations: Mapping[str, StationActivity]
    factor: float = DEFAULT_INACTIVITY_FACTOR
    outage: _Outage | None = None

    def __post_init__(self) -> None:
        if not self.factor >= 1:
            raise ValueError("the inactivity factor must be >= 1")
        object.__setattr__(self, "stations", MappingProxyType(dict(self.stations)))

    @classmethod
    def start(
        cls,
        stations: Iterable[Station],
        now_monotonic_s: float,
        *,
        factor: float = DEFAULT_INACTIVITY_FACTOR,
        offline: Iterable[str] = (),
    ) -> ActivityBoard:
        """The board at start-up: nobody heard yet, silence from now.

        Args:
            stations: The configured stations.
            now_monotonic_s: Start-up time, monotonic.
            factor: k of M13.
            offline: Stations whose offline alarm is still active from before
                a restart: they start inactive, so their first data clears it
                and their continued silence does not raise it again.
        """
        down = frozenset(offline)
        return cls(
            {
                s.id: StationActivity(
                    s.id,
                    s.expected_report_interval_s,
                    s.id not in down,
                    None,
                    None,
                    now_monotonic_s,
                )
                for s in stations
            },
            factor,
        )

    @property
    def degraded(self) -> bool:
        """Our ingestion is down; nobody is declared inactive meanwhile (M12)."""
        return self.outage is not None

    def activity(self, station_id: str) -> StationActivity:
        """One station's activity.

        Raises:
            KeyError: the station is not on the board.
        """
        return self.stations[station_id]

    def observed(
        self, station_id: str, now_monotonic_s: float, now: datetime
    ) -> tuple[ActivityBoard, ActivityDecision]:
        """Data from ``station_id`` arrived (received at ``now``, UTC).

        Late data counts: a station that sends yesterday's backlog is alive.

        Raises:
            KeyError: the station is not on the board.
        """
        was = self.stations[station_id]
        now_active = replace(
            was,
            active=True,
            last_activity_monotonic_s=now_monotonic_s,
            last_activity_at=now,
            silent_since_monotonic_s=max(was.silent_since_monotonic_s, now_monotonic_s),
        )
        action = ActivityAction.NOTHING if was.active else ActivityAction.CLEAR_OFFLINE
        decision = ActivityDecision(action, station_id, now, now)
        return self._with({station_id: now_active}), decision

    def tick(
        self, now_monotonic_s: float, now: datetime
    ) -> tuple[ActivityBoard, tuple[ActivityDecision, ...]]:
        """Mark the stations silent past k x their interval inactive.

        Returns the board and one ``raise_offline`` decision per station that
        went inactive now; nothing while ingestion is degraded (M12).
        """
        if self.outage is not None:
            return self, ()
        changed: dict[str, StationActivity] = {}
        decisions: list[ActivityDecision] = []
        for sid, a in self.stations.items():
            if not a.active or now_monotonic_s < a.due_monotonic_s(self.factor):
                continue
            changed[sid] = replace(a, active=False)
            decisions.append(
                ActivityDecision(
                    ActivityAction.RAISE_OFFLINE,
                    sid,
                    now,
                    a.last_activity_at,
                    now_monotonic_s - a.silent_since_monotonic_s,
                    self.factor * a.expected_report_interval_s,
                )
            )
        return self._with(changed), tuple(decisions)

    def next_due_monotonic_s(self) -> float | None:
        """When the next active station falls due; ``None`` if none can now."""
        if self.outage is not None:
            return None
        due = [
            a.due_monotonic_s(self.factor) for a in self.stations.values() if a.active
        ]
        return min(due, default=None)

    def ingestion_down(self, now_monotonic_s: float, now: datetime) -> ActivityBoard:
        """Our broker connection dropped: ingestion is degraded (M12).

        A second call during the same outage keeps the first drop time.
        """
        if self.outage is not None:
            return self
        return replace(self, outage=_Outage(now_monotonic_s, now))

    def ingestion_up(
        self, now_monotonic_s: float, now: datetime
    ) -> tuple[ActivityBoard, IngestionGap | None]:
        """We reconnected: silence is measured from now, not from last data (M12).

        Returns the board and the gap that ended, ``None`` if none was open.
        Stations already inactive before the outage stay inactive.
        """
        outage = self.outage
        if outage is None:
            return self, None
        restarted = {
            sid: replace(
                a,
                silent_since_monotonic_s=max(
                    a.silent_since_monotonic_s, now_monotonic_s
                ),
            )
            for sid, a in self.stations.items()
        }
        gap = IngestionGap(
            outage.started_at,
            now,
            max(0.0, now_monotonic_s - outage.started_monotonic_s),
        )
        return replace(self, stations=restarted, outage=None), gap

    def reconfigured(
        self, stations: Iterable[Station], now_monotonic_s: float
    ) -> ActivityBoard:
        """The board for a reloaded registry: known stations keep their state.

        A changed interval applies from the next tick; a new station is
        measured from now, as at start-up; a removed one leaves the board.
        """
        found: dict[str, StationActivity] = {}
        for s in stations:
            known = self.stations.get(s.id)
            found[s.id] = (
                StationActivity(
                    s.id,
                    s.expected_report_interval_s,
                    True,
                    None,
                    None,
                    now_monotonic_s,
                )
                if known is None
                else replace(
                    known, expected_report_interval_s=s.expected_report_interval_s
                )
            )
        return replace(self, stations=found)

    def _with(self, changed: Mapping[str, StationActivity]) -> ActivityBoard:
        if not changed:
            return self
        return replace(self, stations={**self.stations, **changed})

"""The ``stations:`` and ``sensor_rules:`` sections of the settings (domain §2.3).

Each model validates its own values and compiles into the pure values of
:mod:`wall.sensors.core`. What spans a rule and a station (the rule's datum
against the station's (R11), create and clear conditions at the station's
thresholds (R2), unknown stations and cameras, duplicate ids) is checked by
:mod:`wall.config.consistency` with :func:`rule_problems_on`, so that the
file loader reports it at its line beside every field error (HS5).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from wall.alarms.core import Severity
from wall.platform.wire import WireModel
from wall.sensors.core import (
    DEFAULT_TIMEZONE,
    Condition,
    Op,
    Rule,
    RuleProblem,
    Schedule,
    Station,
    StationKind,
    Thresholds,
    Trigger,
    TriggerKind,
    static_overlap_problems,
)
from wall.sensors.core.stations import (
    DEFAULT_EXPECTED_REPORT_INTERVAL_S,
    attribute_path,
)

__all__ = [
    "ClearSettings",
    "ConditionSettings",
    "CreateSettings",
    "LocationSettings",
    "RuleSettings",
    "ScheduleSettings",
    "StationSettings",
    "ThresholdSettings",
    "config_warnings",
    "rule_problems_on",
]

_ID = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
_ELEMENT = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
_ALARM_TYPE = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
_DATUM = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
]
_REF = Annotated[str, AfterValidator(attribute_path)]
_NAME = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class LocationSettings(WireModel):
    """A point in WGS-84, (lon, lat) order."""

    lon: float = Field(ge=-180, le=180, description="Longitude, degrees east.")
    lat: float = Field(ge=-90, le=90, description="Latitude, degrees north.")


class ThresholdSettings(WireModel):
    """Levels (m, station datum) and field capacities of a station (domain §6)."""

    warning_level_m: float | None = Field(None, description="警戒水位, m.")
    guarantee_level_m: float | None = Field(
        None, description="保证水位, m; above the warning level."
    )
    flood_limit_level_m: float | None = Field(
        None, description="汛限水位 of a reservoir, m."
    )
    historic_max_m: float | None = Field(None, description="Highest level on record.")
    field_capacity_pct_by_depth: dict[
        Annotated[int, Field(ge=1, le=1000)], Annotated[float, Field(gt=0, le=100)]
    ] = Field(default_factory=dict, description="Depth (cm) → field capacity (%).")

    @model_validator(mode="after")
    def _compiles(self) -> Self:
        self.thresholds()  # Thresholds' ValueError names the problem
        return self

    def thresholds(self) -> Thresholds:
        """The core value."""
        return Thresholds(
            self.warning_level_m,
            self.guarantee_level_m,
            self.flood_limit_level_m,
            self.historic_max_m,
            dict(self.field_capacity_pct_by_depth),
        )


class StationSettings(WireModel):
    """One monitoring station (测站)."""

    id: _ID = Field(description="Station id, unique.")
    name: _NAME = Field(description="Shown to operators.")
    kind: StationKind = Field(description="What it measures or does.")
    location: LocationSettings = Field(description="Where it stands (WGS-84).")
    datum: _DATUM | None = Field(
        None, description="Height datum of its levels, e.g. cn1985 or local:ba."
    )
    thresholds: ThresholdSettings = ThresholdSettings()
    expected_report_interval_s: float = Field(
        DEFAULT_EXPECTED_REPORT_INTERVAL_S, gt=0, description="How often it reports."
    )
    linked_camera_ids: tuple[_ID, ...] = Field(
        (), description="Cameras that watch it (the alarm tiles show them)."
    )
    min_valid: float | None = Field(None, description="Lowest plausible reading.")
    max_valid: float | None = Field(None, description="Highest plausible reading.")
    max_rate_per_min: float | None = Field(
        None, gt=0, description="Spike guard per minute; water levels: 1 m/min."
    )
    spike_persist_samples: int = Field(
        3, ge=1, le=100, description="Agreeing readings that make a jump real."
    )

    @model_validator(mode="after")
    def _compiles(self) -> Self:
        self.station()  # Station's ValueError names the problem
        return self

    def station(self) -> Station:
        """The core value."""
        return Station(
            id=self.id,
            kind=self.kind,
            datum=self.datum,
            thresholds=self.thresholds.thresholds(),
            expected_report_interval_s=self.expected_report_interval_s,
            linked_camera_ids=self.linked_camera_ids,
            min_valid=self.min_valid,
            max_valid=self.max_valid,
            max_rate_per_min=self.max_rate_per_min,
            spike_persist_samples=self.spike_persist_samples,
        )


class ConditionSettings(WireModel):
    """A comparison with a number, a pair, or a station attribute (R5)."""

    op: Op = Field(description="gt, ge, lt, le, eq, ne, between or outside.")
    value: float | tuple[float, float] | None = Field(
        None, description="The threshold; [low, high] for between/outside."
    )
    value_ref: _REF | None = Field(
        None, description="Station attribute instead of value."
    )
    offset: float = Field(0.0, description="Added to value_ref, e.g. -0.05.")
    default: float | None = Field(
        None, description="Used when value_ref is missing; else the rule is disabled."
    )

    @model_validator(mode="after")
    def _compiles(self) -> Self:
        if self.value_ref is None and (self.offset or self.default is not None):
            raise ValueError("offset and default go with value_ref")
        self.condition()  # Condition's ValueError names the problem
        return self

    def condition(self) -> Condition:
        """The core value."""
        low, high = self.value if isinstance(self.value, tuple) else (self.value, None)
        return Condition(self.op, low, high, self.value_ref, self.offset, self.default)


class _TriggerSettings(WireModel):
    condition: ConditionSettings = Field(description="What must hold.")
    kind: TriggerKind = Field(
        TriggerKind.SIMPLE, description="simple, duration or repeating."
    )
    duration_s: float | None = Field(
        None, gt=0, description="Seconds it must hold (duration)."
    )
    repeat_count: int | None = Field(
        None, ge=2, description="Readings in a row (repeating)."
    )

    def _trigger(self, severity: Severity | None) -> Trigger:
        return Trigger(
            self.condition.condition(),
            self.kind,
            self.duration_s,
            self.repeat_count,
            severity,
        )


class CreateSettings(_TriggerSettings):
    """A create trigger and the severity it raises."""

    severity: Severity = Field(description="critical, major, minor, warning…")

    @model_validator(mode="after")
    def _compiles(self) -> Self:
        self.trigger()
        return self

    def trigger(self) -> Trigger:
        """The core value."""
        return self._trigger(self.severity)


class ClearSettings(_TriggerSettings):
    """The clear trigger: outside every create condition (hysteresis, R2)."""

    @model_validator(mode="after")
    def _compiles(self) -> Self:
        self.trigger()
        return self

    def trigger(self) -> Trigger:
        """The core value."""
        return self._trigger(None)


class ScheduleSettings(WireModel):
    """Hours a rule may raise in (R9); ``end`` before ``start`` runs overnight."""

    weekdays: tuple[int, ...] = Field(
        (1, 2, 3, 4, 5, 6, 7), description="ISO weekdays (1=Mon) it starts on."
    )
    start: time = Field(description="Local start, HH:MM.")
    end: time = Field(description="Local end (excluded), HH:MM.")
    timezone: str = Field(DEFAULT_TIMEZONE, description="IANA zone of the hours.")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {name!r}") from err
        return name

    @model_validator(mode="after")
    def _compiles(self) -> Self:
        self.schedule()
        return self

    def schedule(self) -> Schedule:
        """The core value."""
        return Schedule(frozenset(self.weekdays), self.start, self.end, self.timezone)


class RuleSettings(WireModel):
    """An alarm rule on a station element (domain §2.3 ``AlarmRule``)."""

    id: _ID = Field(description="Rule id, unique.")
    name: _NAME = Field(description="Shown to operators.")
    type: _ALARM_TYPE = Field(description="Type of its alarm, e.g. water_level_high.")
    station: _ID | None = Field(None, description="The one station it applies to.")
    station_kind: StationKind | None = Field(
        None, description="Or: every station of this kind."
    )
    element: _ELEMENT = Field(description="Element evaluated, e.g. water_level.")
    create: tuple[CreateSettings, ...] = Field(
        description="Create triggers, one per severity."
    )
    clear: ClearSettings = Field(description="The clear trigger.")
    schedule: ScheduleSettings | None = Field(
        None, description="Hours it may raise in; always if absent."
    )
    reactivation_threshold_s: float | None = Field(
        None, ge=0, description="Re-raise within this after a clear reactivates (A6)."
    )
    datum: _DATUM | None = Field(
        None, description="Datum of its literal levels; must match the station's."
    )

    @field_validator("create")
    @classmethod
    def _one_per_severity(
        cls, creates: tuple[CreateSettings, ...]
    ) -> tuple[CreateSettings, ...]:
        # not Field(min_length=1): pydantic would add "at least 1 item" to
        # every error of an invalid item
        severities = [c.severity for c in creates]
        if not severities:
            raise ValueError("a rule needs at least one create trigger")
        if len(set(severities)) != len(severities):
            raise ValueError("each create trigger needs its own severity")
        return creates

    @field_validator("clear")
    @classmethod
    def _outside_create(
        cls, clear: ClearSettings, info: ValidationInfo
    ) -> ClearSettings:
        creates = info.data.get("create")
        if creates is None:
            return clear  # create is invalid: its own error says so
        triggers = tuple(c.trigger() for c in creates)
        problems = static_overlap_problems(triggers, clear.trigger())
        if problems:
            raise ValueError(problems[0].message)
        return clear

    @model_validator(mode="after")
    def _scoped(self) -> Self:
        if (self.station is None) == (self.station_kind is None):
            raise ValueError("name exactly one of station and station_kind")
        return self

    def rule(self) -> Rule:
        """The core value."""
        return Rule(
            id=self.id,
            type=self.type,
            element=self.element,
            creates=tuple(c.trigger() for c in self.create),
            clear=self.clear.trigger(),
            station_id=self.station,
            station_kind=self.station_kind,
            schedule=None if self.schedule is None else self.schedule.schedule(),
            reactivation_threshold_s=self.reactivation_threshold_s,
            datum=self.datum,
        )


def rule_problems_on(rule: object, station: object) -> tuple[RuleProblem, ...]:
    """Why a configured rule may not run on a configured station (R2, R11).

    Both are raw config items; if either is invalid on its own, field
    validation reports it and this returns nothing.
    """
    try:
        compiled = RuleSettings.model_validate(rule).rule()
        target = StationSettings.model_validate(station).station()
    except (ValidationError, ValueError):
        return ()
    return compiled.problems(target)


def config_warnings(
    stations: Sequence[StationSettings], rules: Sequence[RuleSettings]
) -> tuple[str, ...]:
    """What is allowed but degrades a station or rule (R5, R8), for check-config.

    A soil-moisture station without field capacities gets no drought grade;
    a rule whose ``value_ref`` a station lacks (without a default) runs
    disabled on it.
    """
    found: list[str] = []
    for n, s in enumerate(stations):
        if s.kind is StationKind.SOIL_MOISTURE and not (
            s.thresholds.field_capacity_pct_by_depth
        ):
            found.append(
                f"stations[{n}] ({s.id}): no field capacity: drought grades "
                "are not computed"
            )
    compiled = [s.station() for s in stations]
    for n, r in enumerate(rules):
        rule = r.rule()
        found.extend(
            f"sensor_rules[{n}] ({r.id}): station {station.id} has no {ref}: "
            "the rule is disabled there"
            for station in compiled
            if rule.applies_to(station)
            for ref in rule.missing_attributes(station.attributes())
        )
    return tuple(found)

"""Shared pieces of the rule tables: a gauge, rules on it, and a run over levels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from wall.alarms.core import Severity
from wall.sensors.core import (
    Action,
    BoundRule,
    Condition,
    Op,
    Quality,
    Reading,
    Rule,
    RuleDecision,
    RuleState,
    Schedule,
    Station,
    StationKind,
    Thresholds,
    Trigger,
    TriggerKind,
    bind,
    evaluate,
)

T0 = datetime(2025, 7, 8, 2, 0, tzinfo=UTC)
WARNING = "thresholds.warning_level_m"
GUARANTEE = "thresholds.guarantee_level_m"
GAUGE = Station(
    "bz-h-001",
    StationKind.WATER_LEVEL,
    "cn1985",
    Thresholds(warning_level_m=10.0, guarantee_level_m=11.5),
)


def gt(value: float | None = None, ref: str | None = None, **kw: float) -> Condition:
    return Condition(Op.GT, value, ref=ref, **kw)


def le(value: float | None = None, ref: str | None = None, **kw: float) -> Condition:
    return Condition(Op.LE, value, ref=ref, **kw)


ABOVE_WARNING = Trigger(gt(ref=WARNING), severity=Severity.MAJOR)
BELOW_WARNING = Trigger(le(ref=WARNING, offset=-0.05))


def rule(
    creates: Iterable[Trigger] = (ABOVE_WARNING,),
    clear: Trigger = BELOW_WARNING,
    *,
    schedule: Schedule | None = None,
    datum: str | None = None,
) -> Rule:
    return Rule(
        "level-high",
        "water_level_high",
        "water_level",
        tuple(creates),
        clear,
        station_id=GAUGE.id,
        schedule=schedule,
        datum=datum,
    )


def duration(minutes: float) -> Trigger:
    return Trigger(
        gt(10.0), TriggerKind.DURATION, duration_s=minutes * 60, severity=Severity.MAJOR
    )


@dataclass
class Run:
    """Feeds readings to one bound rule, keeping its state; records decisions."""

    bound: BoundRule
    state: RuleState = field(default_factory=RuleState)
    attributes: Mapping[str, float] = field(default_factory=GAUGE.attributes)
    decisions: list[RuleDecision] = field(default_factory=list)
    monotonic_origin_s: float = 1000.0

    def feed(
        self,
        value: float,
        at_s: float,
        quality: Quality = Quality.GOOD,
        *,
        retained: bool = False,
        monotonic_s: float | None = None,
    ) -> RuleDecision:
        mono = self.monotonic_origin_s + at_s if monotonic_s is None else monotonic_s
        at = T0 + timedelta(seconds=at_s)
        reading = Reading(value, at, mono, quality, retained)
        result = evaluate(self.bound, self.state, reading, self.attributes)
        self.state = result.state
        self.decisions.append(result.decision)
        return result.decision

    def levels(self, values: Iterable[float], every_s: float = 60.0) -> list[Action]:
        start = len(self.decisions)
        for n, v in enumerate(values):
            self.feed(v, (start + n) * every_s)
        return [d.action for d in self.decisions[start:]]


def run(r: Rule | None = None) -> Run:
    return Run(bind(rule() if r is None else r, GAUGE))

"""Alarm rules on station elements: binding and evaluation (R1-R6, R9, R11).

A :class:`Rule` has create triggers, one per severity, and one clear
trigger. It is bound to each station it applies to by :func:`bind`, which
refuses a threshold datum other than the station's (R11) and a clear
condition that overlaps a create condition (R2). :func:`evaluate` then steps
a :class:`RuleState` over that station's readings:

- no alarm: the most severe firing create trigger raises it;
- alarm raised: a more severe firing trigger raises its severity (R6: the
  same alarm), the clear trigger clears it; severity never drops while the
  alarm is active, because a drop would flap at the higher threshold;
- a schedule limits raising (not clearing) to its hours in its zone (R9);
- thresholds are resolved from the attributes passed with each reading, so
  an edited one applies from the next reading; a missing one without a
  default disables the rule with a reason, never compares with 0 (R5);
- readings that are late, spiking, out of range or retained, or older than
  the last one evaluated, change nothing (M2, M11, R10).

The state is plain data with a JSON form (R3). The monotonic time of the
previous reading is left out of it: after a restore, the first step measures
the time since the previous reading by observed times, later steps again by
monotonic time (O4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial

from wall.alarms.core import AlarmKey, Originator, Severity
from wall.sensors.core.conditions import MissingAttribute, overlaps
from wall.sensors.core.decisions import STATION_ORIGINATOR_KIND, Action, RuleDecision
from wall.sensors.core.readings import Reading
from wall.sensors.core.rule_state import RuleState
from wall.sensors.core.schedules import Schedule
from wall.sensors.core.stations import Station, StationKind
from wall.sensors.core.triggers import Trigger, TriggerState

__all__ = [
    "BoundRule",
    "Evaluation",
    "Rule",
    "RuleProblem",
    "RuleRefused",
    "bind",
    "evaluate",
    "overlap_problems",
    "static_overlap_problems",
]


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """Why a rule may not run on a station.

    Attributes:
        key: The rule's setting it is about (``datum``, ``clear``, ``station``).
        message: What is wrong, for people.
    """

    key: str
    message: str


class RuleRefused(ValueError):
    """A rule that may not run on a station; ``problems`` lists every reason."""

    def __init__(
        self, rule_id: str, station_id: str, problems: tuple[RuleProblem, ...]
    ) -> None:
        reasons = "; ".join(p.message for p in problems)
        super().__init__(f"rule {rule_id} on station {station_id}: {reasons}")
        self.rule_id = rule_id
        self.station_id = station_id
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Rule:
    """One alarm rule (domain §2.3 ``AlarmRule``).

    Attributes:
        id: Rule id.
        type: Type of the alarm it raises (``water_level_high``).
        element: Element it evaluates (``water_level``).
        creates: Create triggers, each with its own severity.
        clear: The clear trigger.
        station_id: The one station it applies to, or
        station_kind: every station of this kind.
        schedule: Hours it may raise in; ``None``: always.
        reactivation_threshold_s: For the alarm model (A6); ``None``: its default.
        datum: Height datum of its literal thresholds, if it names one (R11).
    """

    id: str
    type: str
    element: str
    creates: tuple[Trigger, ...]
    clear: Trigger
    station_id: str | None = None
    station_kind: StationKind | None = None
    schedule: Schedule | None = None
    reactivation_threshold_s: float | None = None
    datum: str | None = None

    def __post_init__(self) -> None:
        AlarmKey(self.type, Originator(STATION_ORIGINATOR_KIND, self.id))
        if not self.creates:
            raise ValueError(f"rule {self.id}: needs at least one create trigger")
        severities = [t.severity for t in self.creates]
        if None in severities or len(set(severities)) != len(severities):
            raise ValueError(f"rule {self.id}: each create needs its own severity")
        if self.clear.severity is not None:
            raise ValueError(f"rule {self.id}: the clear trigger has no severity")
        if (self.station_id is None) == (self.station_kind is None):
            raise ValueError(f"rule {self.id}: name a station or a station kind")

    def applies_to(self, station: Station) -> bool:
        """The rule's scope includes ``station``."""
        if self.station_id is not None:
            return station.id == self.station_id
        return station.kind is self.station_kind

    def problems(self, station: Station) -> tuple[RuleProblem, ...]:
        """Why the rule may not run on ``station`` (empty: it may).

        A reference that the station lacks is no problem here: the rule then
        runs disabled, with its reason, until the attribute appears (R5).
        """
        found: list[RuleProblem] = []
        if self.datum is not None and self.datum != station.datum:
            message = (
                f"thresholds are in datum {self.datum!r} but the station uses "
                f"{station.datum!r}"
            )
            found.append(RuleProblem("datum", message))
        found += overlap_problems(self.creates, self.clear, station.attributes())
        return tuple(found)

    def missing_attributes(self, attributes: Mapping[str, float]) -> tuple[str, ...]:
        """References without a value or a default: the rule runs disabled."""
        conditions = [t.condition for t in (*self.creates, self.clear)]
        return tuple(
            sorted(
                {
                    c.ref
                    for c in conditions
                    if c.ref is not None
                    and c.default is None
                    and c.ref not in attributes
                }
            )
        )


def overlap_problems(
    creates: tuple[Trigger, ...], clear: Trigger, attributes: Mapping[str, float]
) -> tuple[RuleProblem, ...]:
    """A problem for each create condition the clear condition overlaps (R2).

    Conditions whose reference is missing are skipped (see :meth:`Rule.problems`).
    """
    found: list[RuleProblem] = []
    for create in creates:
        try:
            clash = overlaps(create.condition, clear.condition, attributes)
        except MissingAttribute:
            continue
        if clash:
            message = (
                f"the clear condition ({clear.condition.describe()}) overlaps "
                f"the {create.severity} create condition "
                f"({create.condition.describe()}): it must lie outside it"
            )
            found.append(RuleProblem("clear", message))
    return tuple(found)


def static_overlap_problems(
    creates: tuple[Trigger, ...], clear: Trigger
) -> tuple[RuleProblem, ...]:
    """:func:`overlap_problems` where it can be judged without a station (R2).

    All literal: no attributes needed. All relative to one attribute: its
    value shifts every set alike, so 0 stands for any. Mixed: nothing yet;
    :meth:`Rule.problems` checks each station.
    """
    refs = {t.condition.ref for t in (*creates, clear)}
    if len(refs) != 1:
        return ()
    (ref,) = refs
    return overlap_problems(creates, clear, {} if ref is None else {ref: 0.0})


@dataclass(frozen=True, slots=True)
class BoundRule:
    """A rule accepted for one station: only these are evaluated (R11)."""

    rule: Rule
    station_id: str


def bind(rule: Rule, station: Station) -> BoundRule:
    """Accept ``rule`` for ``station``.

    Raises:
        RuleRefused: out of scope, another datum (R11) or overlapping
            create and clear conditions at the station's thresholds (R2).
    """
    if not rule.applies_to(station):
        outside = RuleProblem("station", "the station is not in its scope")
        raise RuleRefused(rule.id, station.id, (outside,))
    problems = rule.problems(station)
    if problems:
        raise RuleRefused(rule.id, station.id, problems)
    return BoundRule(rule, station.id)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The state after a reading and what it decided."""

    state: RuleState
    decision: RuleDecision


@dataclass(frozen=True, slots=True)
class _Step:
    """One reading's trigger states and the thresholds they were compared with."""

    creates: tuple[TriggerState, ...]
    clear: TriggerState
    thresholds: tuple[float, ...]
    clear_threshold: float


def _elapsed_s(state: RuleState, reading: Reading) -> float:
    if state.last_observed_at is None:
        return 0.0
    if state.last_monotonic_s is None:  # restored: monotonic time restarted
        return (reading.observed_at - state.last_observed_at).total_seconds()
    return reading.monotonic_s - state.last_monotonic_s


def _skip_reason(state: RuleState, reading: Reading) -> str | None:
    last = state.last_observed_at
    if last is not None and reading.observed_at <= last:
        return "not newer than the last reading evaluated"
    if reading.retained:
        return "retained message: an old value, not a new event"
    if not reading.evaluated:
        return f"quality {reading.quality}: not evaluated"
    return None


def _step(
    rule: Rule, state: RuleState, reading: Reading, attributes: Mapping[str, float]
) -> _Step:
    """Advance every trigger; raises MissingAttribute before changing anything."""
    value, elapsed = reading.value, _elapsed_s(state, reading)
    raising = rule.schedule is None or rule.schedule.contains(reading.observed_at)
    holds = [raising and t.condition.holds(value, attributes) for t in rule.creates]
    clear_holds = rule.clear.condition.holds(value, attributes)
    prior = state.creates
    if len(prior) != len(rule.creates):  # the rule was edited: start over
        prior = tuple(TriggerState() for _ in rule.creates)
    creates = tuple(
        t.advance(s, h, elapsed)
        for t, s, h in zip(rule.creates, prior, holds, strict=True)
    )
    clear = rule.clear.advance(state.clear, clear_holds, elapsed)
    thresholds = tuple(t.condition.threshold(attributes) for t in rule.creates)
    clear_threshold = rule.clear.condition.threshold(attributes)
    return _Step(creates, clear, thresholds, clear_threshold)


def _choose(
    rule: Rule, raised: Severity | None, step: _Step
) -> tuple[Action, Severity | None, float | None]:
    """Action, its severity and threshold, from the advanced triggers."""
    fired = [
        (t.severity, threshold)
        for t, s, threshold in zip(
            rule.creates, step.creates, step.thresholds, strict=True
        )
        if t.severity is not None and t.fired(s)
    ]
    top = max(fired, key=lambda pair: pair[0].rank, default=None)
    if raised is None:
        if top is None:
            return Action.NOTHING, None, None
        return Action.RAISE, top[0], top[1]
    if rule.clear.fired(step.clear):
        return Action.CLEAR, None, step.clear_threshold
    if top is not None and top[0].rank > raised.rank:
        return Action.UPDATE_SEVERITY, top[0], top[1]
    return Action.NOTHING, None, None


def evaluate(
    bound: BoundRule,
    state: RuleState,
    reading: Reading,
    attributes: Mapping[str, float],
) -> Evaluation:
    """Step a bound rule over one reading of its station.

    Args:
        bound: The rule, accepted for the station by :func:`bind`.
        state: State after the previous reading (``RuleState()`` at first).
        reading: The reading of the rule's element.
        attributes: The station's current attributes (``Station.attributes``).

    Returns:
        The next state and the decision; a skipped reading keeps the state.
    """
    rule = bound.rule
    decide = partial(
        RuleDecision,
        rule_id=rule.id,
        alarm_type=rule.type,
        station_id=bound.station_id,
        element=rule.element,
        observed_at=reading.observed_at,
        value=reading.value,
    )
    skip = _skip_reason(state, reading)
    if skip is not None:
        return Evaluation(state, decide(Action.NOTHING, reason=skip))
    try:
        step = _step(rule, state, reading, attributes)
    except MissingAttribute as err:
        reason = f"rule {rule.id} is disabled on station {bound.station_id}: {err}"
        return Evaluation(state, decide(Action.DISABLED, reason=reason))
    action, severity, threshold = _choose(rule, state.raised, step)
    raised = state.raised
    clear = step.clear
    if action is Action.RAISE:
        raised, clear = severity, TriggerState()
    elif action is Action.UPDATE_SEVERITY:
        raised = severity
    elif action is Action.CLEAR:
        raised = None
    following = replace(
        state,
        raised=raised,
        creates=step.creates,
        clear=clear,
        last_observed_at=reading.observed_at,
        last_monotonic_s=reading.monotonic_s,
    )
    previous = (
        state.raised if action in (Action.UPDATE_SEVERITY, Action.CLEAR) else None
    )
    return Evaluation(
        following,
        decide(
            action, severity=severity, previous_severity=previous, threshold=threshold
        ),
    )

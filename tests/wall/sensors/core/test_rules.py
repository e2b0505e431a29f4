"""Rule tables: hysteresis (R1), durations across a restart (R3), repeats (R4).

Also attribute thresholds (R5), escalation of the same alarm (R6), the
readings rules skip (M2, M11, R10) and monotonic durations (O4).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.wall.sensors.core.rule_runs import (
    GAUGE,
    GUARANTEE,
    T0,
    WARNING,
    duration,
    gt,
    le,
    rule,
    run,
)
from wall.alarms.core import (
    Alarm,
    AlarmChange,
    EventKind,
    Severity,
    clear_alarm,
    raise_alarm,
    update_alarm,
)
from wall.sensors.core import (
    Action,
    Condition,
    Quality,
    RuleDecision,
    RuleState,
    Trigger,
    TriggerKind,
    TriggerState,
)

N, RAISE, CLEAR = Action.NOTHING, Action.RAISE, Action.CLEAR
UPDATE, DISABLED = Action.UPDATE_SEVERITY, Action.DISABLED


# --- R1: hysteresis ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("create", "clear", "expected"),
    [
        pytest.param(gt(10.0), le(9.95), [N, RAISE, N, N], id="literal-hysteresis"),
        pytest.param(
            gt(ref=WARNING),
            le(ref=WARNING, offset=-0.05),
            [N, RAISE, N, N],
            id="attribute-hysteresis",
        ),
        # the storm hysteresis prevents: one shared threshold
        pytest.param(gt(10.0), le(10.0), [N, RAISE, CLEAR, RAISE], id="shared"),
    ],
)
def test_r1_levels_hovering_at_the_warning_level_give_one_alarm(
    create: Condition, clear: Condition, expected: list[Action]
) -> None:
    r = run(rule([Trigger(create, severity=Severity.MAJOR)], Trigger(clear)))
    assert r.levels([9.98, 10.01, 9.99, 10.02]) == expected


def test_r1_the_alarm_clears_at_or_below_the_clear_level() -> None:
    r = run()
    assert r.levels([10.01, 9.96, 9.95]) == [RAISE, N, CLEAR]
    assert r.decisions[-1].previous_severity is Severity.MAJOR
    assert r.decisions[-1].threshold == pytest.approx(9.95)


# --- R3: duration, also across a restart -----------------------------------------


def test_r3_a_condition_held_for_9_min_59_s_then_failing_raises_nothing() -> None:
    r = run(rule([duration(10)]))
    for s in (*range(0, 600, 60), 599):
        r.feed(10.5, s)
    r.feed(9.0, 600)
    assert all(d.action is N for d in r.decisions)
    assert r.state.creates == (TriggerState(),)


def test_r3_a_condition_held_for_10_min_raises_at_exactly_t0_plus_10_min() -> None:
    r = run(rule([duration(10)]))
    actions = r.levels([10.5] * 12)
    assert actions == [N] * 10 + [RAISE, N]
    assert r.decisions[10].observed_at == T0 + timedelta(minutes=10)


def test_r3_a_restart_at_minute_7_still_raises_at_minute_10() -> None:
    before = run(rule([duration(10)]))
    before.levels([10.5] * 8)  # minutes 0-7
    persisted = json.loads(json.dumps(before.state.to_json()))
    # a new process: the monotonic clock starts from another origin
    after = run(rule([duration(10)]))
    after.state = RuleState.from_json(persisted)
    after.monotonic_origin_s = -400_000.0
    actions = [after.feed(10.5, m * 60).action for m in (8, 9, 10)]
    assert actions == [N, N, RAISE]
    assert after.decisions[-1].observed_at == T0 + timedelta(minutes=10)


def test_r3_without_the_persisted_state_the_restart_loses_7_minutes() -> None:
    fresh = run(rule([duration(10)]))
    actions = [fresh.feed(10.5, m * 60).action for m in range(8, 19)]
    assert actions.index(RAISE) == 10  # minute 18, not 10


def test_o4_a_wall_clock_step_does_not_shorten_a_duration() -> None:
    r = run(rule([duration(10)]))
    r.feed(10.5, 0, monotonic_s=0.0)
    # the observed time jumps an hour ahead, the monotonic clock one minute
    decision = r.feed(10.5, 3600, monotonic_s=60.0)
    assert decision.action is N and r.state.creates[0].held_s == 60.0


def test_r3_rule_state_round_trips_and_refuses_garbage() -> None:
    state = RuleState(
        Severity.MAJOR,
        (TriggerState(True, 420.5, 8),),
        TriggerState(True, 0.0, 1),
        datetime(2025, 7, 8, 2, 7, 0, 123456, tzinfo=UTC),
        77.0,
    )
    restored = RuleState.from_json(json.loads(json.dumps(state.to_json())))
    assert restored == RuleState(
        state.raised, state.creates, state.clear, state.last_observed_at, None
    )
    with pytest.raises(ValueError, match="malformed rule state"):
        RuleState.from_json({"raised": "major", "creates": "?"})


# --- R4: repeating ---------------------------------------------------------------


def test_r4_one_good_sample_in_between_starts_the_count_again() -> None:
    three = Trigger(
        gt(10.0), TriggerKind.REPEATING, repeat_count=3, severity=Severity.MAJOR
    )
    r = run(rule([three], Trigger(le(9.0))))
    assert r.levels([10.1, 10.2, 9.9, 10.1, 10.2, 10.3]) == [N, N, N, N, N, RAISE]


# --- R5: attribute thresholds ------------------------------------------------------


def test_r5_a_changed_warning_level_applies_from_the_next_reading() -> None:
    r = run()
    r.attributes = {WARNING: 11.0}
    assert r.levels([10.5]) == [N]
    r.attributes = {WARNING: 10.0}  # edited, no restart
    assert r.levels([10.5]) == [RAISE]
    assert r.decisions[-1].threshold == 10.0


def test_r5_a_missing_attribute_disables_the_rule_visibly_never_a_silent_zero() -> None:
    r = run()
    r.attributes = {}
    decision = r.feed(0.5, 0)  # above 0: a silent 0 would raise here
    assert decision.action is DISABLED
    assert decision.reason is not None and WARNING in decision.reason
    assert r.state == RuleState()
    assert rule().missing_attributes({}) == (WARNING,)


def test_r5_a_missing_attribute_falls_back_to_the_condition_default() -> None:
    create = Trigger(gt(ref=WARNING, default=12.0), severity=Severity.MAJOR)
    r = run(rule([create], Trigger(le(9.0))))
    r.attributes = {}
    assert r.levels([11.5, 12.5]) == [N, RAISE]


# --- R6: escalation of the same alarm ----------------------------------------------


def carry_out(decision: RuleDecision, alarm: Alarm | None, n: int) -> AlarmChange:
    """What the sensor service does with a decision, with the real alarm model."""
    at = decision.observed_at
    if decision.action is RAISE:
        assert decision.severity is not None
        return raise_alarm(
            alarm,
            decision.alarm_type,
            decision.originator,
            decision.severity,
            decision.details(),
            at,
            60,
            new_id=f"a{n}",
        )
    assert alarm is not None
    if decision.action is UPDATE:
        return update_alarm(alarm, at, severity=decision.severity)
    assert decision.action is CLEAR
    return clear_alarm(alarm, at)


def test_r6_warning_then_guarantee_raises_the_severity_of_the_same_alarm() -> None:
    creates = (
        Trigger(gt(ref=WARNING), severity=Severity.MAJOR),
        Trigger(gt(ref=GUARANTEE, offset=0.0), severity=Severity.CRITICAL),
    )
    r = run(rule(creates))
    levels = [9.9, 10.2, 11.0, 11.6, 11.0, 9.9]
    assert r.levels(levels) == [N, RAISE, N, UPDATE, N, CLEAR]
    assert [d.severity for d in r.decisions if d.severity] == [
        Severity.MAJOR,
        Severity.CRITICAL,
    ]
    alarm: Alarm | None = None
    events: list[tuple[str, EventKind]] = []
    for n, decision in enumerate(r.decisions):
        if decision.changes_alarm:
            change = carry_out(decision, alarm, n)
            alarm = change.alarm
            events += [(e.alarm_id, e.kind) for e in change.events]
    assert events == [
        ("a1", EventKind.CREATED),
        ("a1", EventKind.SEVERITY_CHANGED),
        ("a1", EventKind.CLEARED),
    ]
    assert alarm is not None and str(alarm.originator) == f"station:{GAUGE.id}"
    assert alarm.severity is Severity.CRITICAL and not alarm.active
    assert alarm.details["threshold"] == 10.0 and alarm.details["value"] == 10.2


def test_r6_a_first_reading_over_both_levels_raises_critical_at_once() -> None:
    creates = (
        Trigger(gt(ref=WARNING), severity=Severity.MAJOR),
        Trigger(gt(ref=GUARANTEE), severity=Severity.CRITICAL),
    )
    r = run(rule(creates))
    assert r.levels([12.0]) == [RAISE]
    assert r.decisions[0].severity is Severity.CRITICAL
    assert r.decisions[0].threshold == 11.5


# --- readings rules skip (M2, M11, R10) ---------------------------------------------


@pytest.mark.parametrize(
    ("quality", "retained"),
    [
        pytest.param(Quality.LATE, False, id="M2-late"),
        pytest.param(Quality.SPIKE, False, id="R10-spike"),
        pytest.param(Quality.OUT_OF_RANGE, False, id="out-of-range"),
        pytest.param(Quality.GOOD, True, id="M11-retained"),
    ],
)
def test_readings_that_are_not_new_good_values_raise_and_clear_nothing(
    quality: Quality, retained: bool
) -> None:
    r = run()
    decision = r.feed(12.0, 0, quality, retained=retained)
    assert decision.action is N and decision.reason
    assert r.state == RuleState()
    assert r.levels([10.5]) == [RAISE]
    decision = r.feed(9.0, 500, quality, retained=retained)
    assert decision.action is N and r.state.raised is Severity.MAJOR


def test_m2_a_reading_older_than_the_last_one_evaluated_changes_nothing() -> None:
    r = run()
    r.feed(10.5, 120)
    state = r.state
    assert r.feed(9.0, 60).action is N and r.state == state

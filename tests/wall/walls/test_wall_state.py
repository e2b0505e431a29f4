"""WallState transitions: revisions, audit, revert stack, tiles (W3, W5, W6, W10, A1-A4, A9)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from wall.walls.core.audit import Action, Outcome
from wall.walls.core.commands import (
    ActivateLayout,
    Cause,
    ClearTileOverride,
    Command,
    Instant,
    PushTile,
    RevertCause,
    RevertEvent,
    RevertPolicy,
    TileBack,
    WrongWall,
)
from wall.walls.core.screen import HISTORY_DEPTH
from wall.walls.core.wall_state import (
    LayoutNotShown,
    Transition,
    WallState,
    apply,
    due_reverts,
    newest,
    next_revert_monotonic_s,
    rebase_monotonic,
)

T0 = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)
WALL = "main"


def at(s: float) -> Instant:
    return Instant(T0 + timedelta(seconds=s), s)


def operator(layout: str, panel_ids: frozenset[str] = frozenset()) -> ActivateLayout:
    return ActivateLayout(
        wall_id=WALL, layout_id=layout, actor="duty-1", panel_ids=panel_ids
    )


def alarm(
    ref: str,
    layout: str,
    priority: int = 100,
    policy: RevertPolicy = RevertPolicy.ON_CLEAR,
    *,
    revert_after_s: float | None = None,
    exclusive_group: str | None = None,
    panel_ids: frozenset[str] = frozenset(),
    cooldown_s: float = 0.0,
    rule_id: str | None = None,
) -> ActivateLayout:
    return ActivateLayout(
        wall_id=WALL,
        layout_id=layout,
        actor="rule-flood",
        cause=Cause.ALARM,
        cause_ref=ref,
        priority=priority,
        revert_policy=policy,
        revert_after_s=revert_after_s,
        exclusive_group=exclusive_group,
        panel_ids=panel_ids,
        cooldown_s=cooldown_s,
        rule_id=rule_id,
    )


def clear(ref: str, event: RevertEvent = RevertEvent.CLEARED) -> RevertCause:
    return RevertCause(wall_id=WALL, cause_ref=ref, event=event)


def push(tile: str, content: str, layout: str | None = None) -> PushTile[str]:
    return PushTile(
        wall_id=WALL, tile_id=tile, content=content, actor="duty-1", layout_id=layout
    )


def run(
    *commands: Command[str], state: WallState[str] | None = None, step_s: float = 1.0
) -> tuple[WallState[str], list[Transition[str]]]:
    current = state or EMPTY
    done = []
    for i, command in enumerate(commands):
        transition = apply(current, command, at(i * step_s))
        done.append(transition)
        current = transition.state
    return current, done


EMPTY: WallState[str] = WallState(WALL)
BASE, _ = run(operator("L0"))


def test_w5_higher_revision_wins_and_audit_keeps_both_causes() -> None:
    rule = ActivateLayout(
        wall_id=WALL,
        layout_id="L2",
        actor="rule-7",
        cause=Cause.RULE,
        cause_ref="rule-7",
    )
    first = apply(EMPTY, operator("L1"), at(0.0))
    second = apply(first.state, rule, at(0.05))
    assert (first.state.revision, second.state.revision) == (1, 2)
    assert second.state.active_layout_id == "L2"
    assert newest(second.state, first.state) is second.state
    assert newest(first.state, second.state) is second.state
    audits = [t.audit for t in (first, second)]
    assert [(a.cause, a.from_layout_id, a.to_layout_id) for a in audits if a] == [
        (Cause.OPERATOR, None, "L1"),
        (Cause.RULE, "L1", "L2"),
    ]


@pytest.mark.parametrize(
    ("activations", "expected"),
    [
        ([("L1", set())], {"p1": "L1", "p2": "L1", "p3": "L1"}),
        ([("L1", set()), ("L2", {"p1", "p2"})], {"p1": "L2", "p2": "L2", "p3": "L1"}),
        (
            [("L1", set()), ("L2", {"p1", "p2"}), ("L3", {"p2", "p3"})],
            {"p1": "L2", "p2": "L3", "p3": "L3"},
        ),
        ([("L2", {"p1"}), ("L1", set())], {"p1": "L1", "p2": "L1", "p3": "L1"}),
        ([("L2", {"p1"})], {"p1": "L2", "p2": None, "p3": None}),
    ],
)
def test_w3_scoped_layout_leaves_other_panels(
    activations: list[tuple[str, set[str]]], expected: dict[str, str | None]
) -> None:
    state, _ = run(*(operator(lay, panel_ids=frozenset(p)) for lay, p in activations))
    assert {p: state.screen.layout_for_panel(p) for p in expected} == expected


def test_w3_scoped_activation_keeps_overrides_of_the_other_layout() -> None:
    state, _ = run(operator("L1"), push("t9", "cam-9"))
    state, _ = run(operator("L2", panel_ids=frozenset({"p1"})), state=state)
    assert state.active_layout_id == "L2"
    assert dict(state.screen.overrides("L1")) == {"t9": "cam-9"}
    state, _ = run(push("t9", "cam-5", layout="L1"), state=state)
    assert dict(state.screen.overrides("L1")) == {"t9": "cam-5"}


def test_w6_desired_state_is_a_value_a_display_can_reapply() -> None:
    script = (operator("L1"), push("t1", "cam-1"), alarm("a1", "LA"), push("t2", "c2"))
    once, _ = run(*script)
    again, _ = run(*script)
    assert once == again
    assert once.screen.visible() == again.screen.visible()
    assert once.screen.visible()[0][-1].layout_id == "LA"


def test_o2_audit_exactly_when_the_revision_moves() -> None:
    script: list[Command[str]] = [
        operator("L0"),
        push("t1", "c1"),
        push("t1", "c1"),  # same content: nothing changes
        TileBack(wall_id=WALL, tile_id="t1", actor="duty-1"),
        TileBack(wall_id=WALL, tile_id="t1", actor="duty-1"),  # empty memory
        alarm("a1", "LA"),
        alarm("a1", "LA"),  # already on the stack
        clear("zz"),  # unknown
        clear("a1"),
    ]
    _, transitions = run(*script)
    revision = 0
    for transition in transitions:
        moved = transition.state.revision == revision + 1
        assert moved == (transition.audit is not None)
        assert transition.state.revision in {revision, revision + 1}
        revision = transition.state.revision
    outcomes = [t.outcome for t in transitions]
    assert outcomes == [
        Outcome.APPLIED,
        Outcome.TILE_SET,
        Outcome.NO_OP,
        Outcome.TILE_RESTORED,
        Outcome.NO_OP,
        Outcome.APPLIED,
        Outcome.ALREADY_ACTIVE,
        Outcome.UNKNOWN_REF,
        Outcome.REVERTED,
    ]


@pytest.mark.parametrize(
    ("pushes", "backs", "expected"),
    [
        (1, 1, None),  # back to the layout's own content
        (3, 1, "cam-2"),
        (3, 2, "cam-1"),
        (3, 3, None),
        (10, 8, "cam-2"),  # eight remembered: cam-9 … cam-2
        (10, 9, "cam-2"),  # the ninth "back" has nothing left
        (20, 8, "cam-12"),
    ],
)
def test_w10_back_keeps_8(pushes: int, backs: int, expected: str | None) -> None:
    commands: list[Command[str]] = [
        push("t1", f"cam-{i}") for i in range(1, pushes + 1)
    ]
    commands += [TileBack(wall_id=WALL, tile_id="t1", actor="duty-1")] * backs
    state, _ = run(*commands, state=BASE)
    assert state.overrides.get("t1") == expected
    assert len(state.tile_history("t1")) <= HISTORY_DEPTH


def test_w10_clear_override_is_remembered_for_back() -> None:
    state, _ = run(
        push("t1", "cam-1"),
        ClearTileOverride(wall_id=WALL, tile_id="t1", actor="duty-1"),
        state=BASE,
    )
    assert "t1" not in state.overrides
    state, (t,) = run(TileBack(wall_id=WALL, tile_id="t1", actor="x"), state=state)
    assert state.overrides["t1"] == "cam-1"
    assert t.audit is not None and t.audit.action is Action.TILE_BACK


def test_overrides_last_until_the_layout_is_activated_again() -> None:
    state, _ = run(push("t1", "cam-1"), operator("L0"), state=BASE)
    assert dict(state.overrides) == {}
    assert state.tile_history("t1") == ()


@pytest.mark.parametrize(
    ("raised", "on_screen"),
    [
        ([("a", 200), ("b", 100)], "a"),
        ([("a", 100), ("b", 200)], "b"),
        ([("a", 200), ("b", 200)], "b"),  # newest wins a tie
        ([("a", 100), ("b", 200), ("c", 200), ("d", 150)], "c"),
        ([("a", 255), ("b", 1)], "a"),
    ],
)
def test_a1_priority_then_newest(raised: list[tuple[str, int]], on_screen: str) -> None:
    state, _ = run(*(alarm(ref, f"L-{ref}", prio) for ref, prio in raised), state=BASE)
    assert state.active_layout_id == f"L-{on_screen}"
    assert state.stack[-1].cause_ref == on_screen


def test_a1_lower_priority_is_queued_without_touching_displays() -> None:
    state, (high, low) = run(alarm("b", "LB", 200), alarm("a", "LA", 100), state=BASE)
    assert (high.outcome, low.outcome) == (Outcome.APPLIED, Outcome.QUEUED)
    assert not low.display_changed and low.audit is not None
    state, (t,) = run(clear("b"), state=state)
    assert state.active_layout_id == "LA" and t.display_changed


def test_a2_on_clear_restores_the_exact_prior_screen() -> None:
    before, _ = run(push("t1", "cam-1"), state=BASE)
    during, _ = run(alarm("a", "LA"), push("t1", "cam-alarm"), state=before)
    assert during.active_layout_id == "LA"
    after, (t,) = run(clear("a"), state=during)
    assert after.screen == before.screen
    assert after.overrides == {"t1": "cam-1"}
    assert after.revision == during.revision + 1
    assert (after.cause, after.cause_ref) == (Cause.REVERT, "a")
    assert t.audit is not None and t.audit.to_layout_id == "L0"


@pytest.mark.parametrize(
    ("policy", "events", "reverted_after"),
    [
        (RevertPolicy.ON_CLEAR, ["cleared"], 1),
        (RevertPolicy.ON_CLEAR, ["acked", "cleared"], 2),
        (RevertPolicy.ON_ACK, ["cleared", "acked"], 2),
        (RevertPolicy.ON_ACK_AND_CLEAR, ["cleared", "acked"], 2),
        (RevertPolicy.ON_ACK_AND_CLEAR, ["acked", "acked", "cleared"], 3),
        (RevertPolicy.ON_ACK_AND_CLEAR, ["cleared", "cleared"], None),
        (RevertPolicy.ON_ACK_AND_CLEAR, ["forced"], 1),
        (RevertPolicy.ON_ACK, ["expired"], None),
    ],
)
def test_a2_revert_policy(
    policy: RevertPolicy, events: list[str], reverted_after: int | None
) -> None:
    state, _ = run(alarm("a", "LA", policy=policy), state=BASE)
    shown = []
    for event in events:
        state, _ = run(clear("a", RevertEvent(event)), state=state)
        shown.append(state.active_layout_id)
    expected = [
        "L0" if reverted_after is not None and i + 1 >= reverted_after else "LA"
        for i in range(len(events))
    ]
    assert shown == expected


def test_a2_after_s_reverts_on_the_monotonic_deadline() -> None:
    cmd = alarm("a", "LA", policy=RevertPolicy.AFTER_S, revert_after_s=60.0)
    state = apply(BASE, cmd, at(100.0)).state
    assert next_revert_monotonic_s(state) == 160.0
    assert due_reverts(state, at(159.9)) == ()
    early = apply(state, clear("a", RevertEvent.EXPIRED), at(159.9))
    assert early.state is state and early.audit is None
    (due,) = due_reverts(state, at(160.0))
    assert apply(state, due, at(160.0)).state.active_layout_id == "L0"


def test_a2_after_s_survives_a_restart_by_utc_age() -> None:
    cmd = alarm("a", "LA", policy=RevertPolicy.AFTER_S, revert_after_s=60.0)
    state = apply(BASE, cmd, at(100.0)).state
    restarted = Instant(T0 + timedelta(seconds=130), 5.0)  # monotonic clock reset
    rebased = rebase_monotonic(state, restarted)
    assert next_revert_monotonic_s(rebased) == pytest.approx(35.0)


@pytest.mark.parametrize(
    ("clear_order", "shown"),
    [
        (["a", "b"], ["LB", "L0"]),  # A clears: LB stays; B clears: the original
        (["b", "a"], ["LA", "L0"]),
    ],
)
def test_a3_nested_alarms(clear_order: list[str], shown: list[str]) -> None:
    state, _ = run(alarm("a", "LA", 100), alarm("b", "LB", 200), state=BASE)
    seen = []
    for ref in clear_order:
        state, _ = run(clear(ref), state=state)
        seen.append(state.active_layout_id)
    assert seen == shown
    assert state.screen == BASE.screen


def test_a3_clearing_a_buried_alarm_does_not_touch_displays() -> None:
    state, _ = run(alarm("a", "LA", 100), alarm("b", "LB", 200), state=BASE)
    _, (t,) = run(clear("a"), state=state)
    assert t.outcome is Outcome.REVERTED and not t.display_changed


def test_a3_exclusive_group_replaces_instead_of_nesting() -> None:
    stage1 = alarm("flood-1", "L-stage1", 100, exclusive_group="flood")
    stage2 = alarm("flood-2", "L-stage2", 150, exclusive_group="flood")
    state, (_, t) = run(stage1, stage2, state=BASE)
    assert [e.cause_ref for e in state.stack] == ["flood-2"]
    assert t.audit is not None and t.audit.superseded_refs == ("flood-1",)
    state, _ = run(clear("flood-2"), state=state)
    assert state.active_layout_id == "L0"


def test_a3_scoped_alarm_reveals_the_base_when_the_full_one_clears() -> None:
    full = alarm("a", "LA", 100)
    scoped = alarm("b", "LB", 200, panel_ids=frozenset({"p1"}))
    state, _ = run(full, scoped, clear("a"), state=BASE)
    assert (
        state.screen.layout_for_panel("p1"),
        state.screen.layout_for_panel("p2"),
    ) == (
        "LB",
        "L0",
    )


def test_a4_operator_change_during_an_alarm_is_kept_at_revert() -> None:
    state, _ = run(alarm("a", "LA", 200), alarm("b", "LB", 50), state=BASE)
    state, (takeover,) = run(operator("L-manual"), state=state)
    assert takeover.audit is not None and takeover.audit.superseded_refs == ("b", "a")
    assert state.stack == () and state.active_layout_id == "L-manual"
    state, (late,) = run(clear("a"), state=state)
    assert late.outcome is Outcome.UNKNOWN_REF and late.audit is None
    assert state.active_layout_id == "L-manual"


def test_a4_tile_push_during_an_alarm_goes_with_the_alarm_layout() -> None:
    state, _ = run(alarm("a", "LA"), push("t1", "cam-7"), clear("a"), state=BASE)
    assert state.active_layout_id == "L0" and dict(state.overrides) == {}


def test_schedule_change_during_an_alarm_replaces_the_base_beneath() -> None:
    night = ActivateLayout(
        wall_id=WALL, layout_id="L-night", actor="sched", cause=Cause.SCHEDULE
    )
    state, (_, t, _) = run(alarm("a", "LA"), night, clear("a"), state=BASE)
    assert t.outcome is Outcome.BASE_UPDATED and not t.display_changed
    assert state.active_layout_id == "L-night"


def test_a9_flapping_rule_activates_once_per_cooldown() -> None:
    fire = ActivateLayout(
        wall_id=WALL,
        layout_id="L-rain",
        actor="rule-rain",
        cause=Cause.RULE,
        cause_ref="rule-rain",
        cooldown_s=5.0,
    )
    state = BASE
    accepted = []
    for i in range(1000):  # 100 Hz for 10 s
        t = apply(state, fire, at(i / 100))
        if t.audit is not None:
            accepted.append(i / 100)
        else:
            assert t.outcome is Outcome.COOLDOWN
        state = t.state
    assert accepted == [0.0, 5.0]


@pytest.mark.parametrize(
    ("second_utc_offset_s", "second_monotonic_s", "outcome"),
    [
        (-3600.0, 10.0, Outcome.COOLDOWN),  # NTP set the clock back an hour
        (+3600.0, 10.0, Outcome.COOLDOWN),  # ... or forward
        (-3600.0, 61.0, Outcome.APPLIED),
    ],
)
def test_a9_o4_cooldown_uses_the_monotonic_clock(
    second_utc_offset_s: float, second_monotonic_s: float, outcome: Outcome
) -> None:
    fire = alarm("a", "LA", cooldown_s=60.0, rule_id="rule-1")
    state, _ = run(fire, clear("a"), state=BASE)
    again = replace(fire, cause_ref="a-2")
    now = Instant(T0 + timedelta(seconds=second_utc_offset_s), second_monotonic_s)
    assert apply(state, again, now).outcome is outcome


def test_a9_cooldown_is_per_rule() -> None:
    one = alarm("a", "LA", cooldown_s=60.0, rule_id="rule-1")
    two = alarm("b", "LB", cooldown_s=60.0, rule_id="rule-2")
    _, transitions = run(one, two, state=BASE)
    assert [t.outcome for t in transitions] == [Outcome.APPLIED, Outcome.APPLIED]


def test_commands_for_another_wall_or_hidden_layout_are_refused() -> None:
    other = ActivateLayout(wall_id="side", layout_id="L1", actor="x")
    with pytest.raises(WrongWall):
        apply(BASE, other, at(0))
    with pytest.raises(LayoutNotShown):
        apply(BASE, push("t1", "c", layout="L-other"), at(0))
    with pytest.raises(LayoutNotShown):
        apply(EMPTY, push("t1", "c"), at(0))

"""Issue 11, config: stations and sensor rules, every error at the line of its key.

Field errors come from the models; cross-references (duplicate ids, unknown
stations and cameras, R2 at a station's thresholds, R11 datums, two rules on
one alarm) from the consistency check, all in one run of the real loader.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from wall.alarms.core import Severity
from wall.config.loading import ConfigError, parse_settings
from wall.config.settings import Settings
from wall.sensors.core import Op, StationKind, TriggerKind, bind
from wall.sensors.settings import (
    RuleSettings,
    ScheduleSettings,
    StationSettings,
    config_warnings,
)

Found = list[tuple[int | None, str, str]]

CAMERAS = "cameras:\n  - id: cam-1\n    name: n\n    streams:\n      main: {url: 'rtsp://h/1'}\n"
GAUGE = (
    "  - id: {id}\n"
    "    name: 巴河 {id}\n"
    "    kind: water_level\n"
    "    location: {{lon: 106.75, lat: 31.86}}\n"
    "    datum: cn1985\n"
    "    thresholds: {{warning_level_m: 10.0, guarantee_level_m: 11.5}}\n"
)
RULE = (
    "  - id: {id}\n"
    "    name: level high\n"
    "    type: water_level_high\n"
    "    station: {station}\n"
    "    element: water_level\n"
    "    create:\n"
    "      - severity: major\n"
    "        condition: {{op: gt, value_ref: thresholds.warning_level_m}}\n"
    "    clear:\n"
    "      condition: {{op: le, value_ref: thresholds.warning_level_m, offset: -0.05}}\n"
)


def found(text: str) -> Found:
    """Every (line, path, message) of one run over ``text``."""
    with pytest.raises(ConfigError) as info:
        parse_settings(text, env={})
    return [(i.line, i.path, i.message) for i in info.value.issues]


def test_a_flood_station_and_its_rule_load_compile_and_bind() -> None:
    text = (
        CAMERAS
        + "stations:\n"
        + GAUGE.format(id="h1")
        + "    linked_camera_ids: [cam-1]\n"
        + "sensor_rules:\n"
        + RULE.format(id="r1", station="h1")
        + "      kind: duration\n      duration_s: 600\n"
        + "    schedule: {start: '08:00', end: '20:00'}\n"
        + "    datum: cn1985\n"
    )
    settings = parse_settings(text, env={})
    station = settings.stations[0].station()
    rule = settings.sensor_rules[0].rule()
    assert station.linked_camera_ids == ("cam-1",)
    assert station.attributes()["thresholds.warning_level_m"] == 10.0
    assert rule.clear.kind is TriggerKind.DURATION and rule.clear.duration_s == 600
    assert rule.creates[0].severity is Severity.MAJOR
    assert rule.schedule is not None and rule.schedule.timezone == "Asia/Shanghai"
    assert bind(rule, station).station_id == "h1"


CASES: list[tuple[str, str, Found]] = [
    (
        "R2: a literal clear overlapping its create is refused at the clear key",
        "sensor_rules:\n"
        "  - id: r1\n"
        "    name: n\n"
        "    type: level_high\n"
        "    station_kind: water_level\n"
        "    element: water_level\n"
        "    create: [{severity: major, condition: {op: gt, value: 10}}]\n"
        "    clear: {condition: {op: lt, value: 12}}\n",  # 8
        [
            (
                8,
                "sensor_rules[0].clear",
                "the clear condition (lt 12.0) overlaps the major create condition"
                " (gt 10.0): it must lie outside it",
            )
        ],
    ),
    (
        "R11 and R2 at a station, unknown station, duplicate ids, unknown camera",
        "stations:\n"
        + GAUGE.format(id="h1")
        + "    linked_camera_ids: [ghost]\n"  # 8
        + GAUGE.format(id="h1")  # 9
        + "sensor_rules:\n"
        + RULE.format(id="r1", station="h1")  # 16
        + "    datum: local:ba\n"  # 26
        + RULE.format(id="r1", station="h9")  # 27, station at 30
        + "  - id: r3\n    name: n\n    type: between_levels\n    station: h1\n"  # 37
        + "    element: water_level\n"
        + "    create: [{severity: major, condition:"
        + " {op: gt, value_ref: thresholds.warning_level_m}}]\n"
        + "    clear: {condition: {op: lt, value_ref: thresholds.guarantee_level_m}}\n",
        [
            (
                8,
                "stations[0].linked_camera_ids[0]",
                "no camera with id 'ghost' (none is configured)",
            ),
            (
                9,
                "stations[1].id",
                "duplicate station id 'h1' (first at stations[0].id)",
            ),
            (
                26,
                "sensor_rules[0].datum",
                "station 'h1': thresholds are in datum 'local:ba' but the station"
                " uses 'cn1985'",
            ),
            (
                27,
                "sensor_rules[1].id",
                "duplicate rule id 'r1' (first at sensor_rules[0].id)",
            ),
            (30, "sensor_rules[1].station", "no station 'h9' (known: h1)"),
            (
                43,
                "sensor_rules[2].clear",
                "station 'h1': the clear condition (lt thresholds.guarantee_level_m)"
                " overlaps the major create condition (gt thresholds.warning_level_m):"
                " it must lie outside it",
            ),
        ],
    ),
    (
        "two rules raising one alarm type on the same station",
        "stations:\n"
        + GAUGE.format(id="h1")
        + "sensor_rules:\n"
        + RULE.format(id="r1", station="h1")
        + RULE.format(id="r2", station="h1").replace(
            "station: h1", "station_kind: water_level"
        ),  # 19: type at 21
        [
            (
                21,
                "sensor_rules[1].type",
                "rule raises 'water_level_high' on station 'h1' like the rule at"
                " sensor_rules[0]: one alarm per station and type",
            )
        ],
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_cross_references_are_reported_at_their_lines(
    name: str, text: str, expected: Found
) -> None:
    assert found(text) == expected


FIELD_CASES: list[tuple[str, str, str]] = [
    (
        "thresholds: {warning_level_m: 10, guarantee_level_m: 9}",
        "stations[0].thresholds",
        "guarantee_level_m must be above warning_level_m",
    ),
    ("kind: rain", "stations[0]", "water levels apply to level stations, not rain"),
    ("location: {lon: 200, lat: 31}", "stations[0].location.lon", "less than or equal"),
    ("min_valid: 5\n    max_valid: 1", "stations[0]", "min_valid must be below"),
]


@pytest.mark.parametrize(("line", "path", "message"), FIELD_CASES)
def test_station_field_errors_name_their_key(
    line: str, path: str, message: str
) -> None:
    station = GAUGE.format(id="h1")
    key = line.split(":", 1)[0]
    kept = [ln for ln in station.splitlines() if not ln.strip().startswith(f"{key}:")]
    text = "stations:\n" + "\n".join(kept) + f"\n    {line}\n"
    [(_, got_path, got)] = found(text)
    assert got_path == path and message in got


RULE_BASE = {
    "id": "r1",
    "name": "n",
    "type": "level_high",
    "station": "h1",
    "element": "water_level",
    "create": [{"severity": "major", "condition": {"op": "gt", "value": 10}}],
    "clear": {"condition": {"op": "le", "value": 9.95}},
}


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            {
                "create": [
                    {
                        "severity": "major",
                        "condition": {
                            "op": "gt",
                            "value": 1,
                            "value_ref": "thresholds.warning_level_m",
                        },
                    }
                ]
            },
            ("create", 0, "condition"),
            "exactly one of value and value_ref",
        ),
        (
            {
                "create": [
                    {
                        "severity": "major",
                        "kind": "duration",
                        "condition": {"op": "gt", "value": 10},
                    }
                ]
            },
            ("create", 0),
            "duration_s > 0",
        ),
        (
            {"clear": {"condition": {"op": "le", "value_ref": "thresholds.nope"}}},
            ("clear", "condition", "value_ref"),
            "unknown station attribute",
        ),
        (
            {"clear": {"condition": {"op": "between", "value": 3}}},
            ("clear", "condition"),
            "needs a literal pair",
        ),
        (
            {"clear": {"condition": {"op": "le", "value": 3, "offset": 1}}},
            ("clear", "condition"),
            "offset and default go with value_ref",
        ),
        ({"station_kind": "rain"}, (), "exactly one of station and station_kind"),
        ({"create": []}, ("create",), "at least one create trigger"),
        (
            {"create": [RULE_BASE["create"][0], RULE_BASE["create"][0]]},  # type: ignore[index]
            ("create",),
            "its own severity",
        ),
        ({"type": "Level High"}, ("type",), "String should match pattern"),
        (
            {
                "schedule": {
                    "start": "08:00",
                    "end": "20:00",
                    "timezone": "Mars/Olympus",
                }
            },
            ("schedule", "timezone"),
            "unknown time zone 'Mars/Olympus'",
        ),
    ],
)
def test_rule_field_errors_name_their_key(
    change: dict[str, object], path: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        RuleSettings.model_validate({**RULE_BASE, **change})
    errors = info.value.errors()
    assert [(tuple(e["loc"]), message in e["msg"]) for e in errors] == [(path, True)]


def test_settings_built_in_code_check_the_cross_references_too() -> None:
    station = StationSettings.model_validate(
        {
            "id": "h1",
            "name": "n",
            "kind": "water_level",
            "location": {"lon": 106.7, "lat": 31.8},
            "datum": "cn1985",
        }
    )
    rule = RuleSettings.model_validate({**RULE_BASE, "datum": "local:ba"})
    with pytest.raises(
        ValidationError, match=r"sensor_rules\[0\]\.datum: station 'h1'"
    ):
        Settings(stations=(station,), sensor_rules=(rule,))
    assert Settings(
        stations=(station,), sensor_rules=(rule.model_copy(update={"datum": None}),)
    )


def test_r5_r8_warnings_for_a_probe_without_capacity_and_a_missing_reference() -> None:
    probe = StationSettings.model_validate(
        {
            "id": "s1",
            "name": "n",
            "kind": "soil_moisture",
            "location": {"lon": 106.7, "lat": 31.8},
        }
    )
    gauge = StationSettings.model_validate(
        {
            "id": "h1",
            "name": "n",
            "kind": "water_level",
            "location": {"lon": 106.7, "lat": 31.8},
        }
    )
    by_ref = RuleSettings.model_validate(
        {
            **RULE_BASE,
            "create": [
                {
                    "severity": "major",
                    "condition": {
                        "op": "gt",
                        "value_ref": "thresholds.warning_level_m",
                    },
                }
            ],
        }
    )
    assert config_warnings([probe, gauge], [by_ref]) == (
        "stations[0] (s1): no field capacity: drought grades are not computed",
        "sensor_rules[0] (r1): station h1 has no thresholds.warning_level_m:"
        " the rule is disabled there",
    )
    with_capacity = probe.model_copy(
        update={
            "thresholds": probe.thresholds.model_copy(
                update={"field_capacity_pct_by_depth": {20: 40.0}}
            )
        }
    )
    assert config_warnings([with_capacity], []) == ()
    assert with_capacity.station().field_capacity_pct(20) == 40.0


def test_schedule_and_condition_settings_compile_to_core_values() -> None:
    schedule = ScheduleSettings.model_validate(
        {"weekdays": [1, 5], "start": "22:00", "end": "06:00"}
    ).schedule()
    assert schedule.weekdays == {1, 5} and schedule.timezone == "Asia/Shanghai"
    band = RuleSettings.model_validate(
        {
            **RULE_BASE,
            "create": [
                {"severity": "minor", "condition": {"op": "outside", "value": [2, 8]}}
            ],
            "clear": {"condition": {"op": "between", "value": [3, 7]}},
        }
    ).rule()
    assert band.creates[0].condition.op is Op.OUTSIDE
    assert (band.clear.condition.value, band.clear.condition.high) == (3.0, 7.0)
    assert StationSettings.model_fields["kind"].annotation is StationKind

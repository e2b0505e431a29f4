"""The pure sensor core: stations, grading and alarm rules (HS1).

Pure: no I/O, no asyncio, no clock reads; every time is an argument.
:mod:`~wall.sensors.core.stations` holds the station values,
:mod:`~wall.sensors.core.quality` the quality flags (M2, R10),
:mod:`~wall.sensors.core.levels`, :mod:`~wall.sensors.core.rainfall` and
:mod:`~wall.sensors.core.drought` the gradings (R7, R8), and
:mod:`~wall.sensors.core.rules` the rule state machine (R1-R6, R9, R11)
whose decisions the service carries out with :mod:`wall.alarms.core`, and
:mod:`~wall.sensors.core.activity` station inactivity and outages (M12, M13).
"""

from wall.sensors.core.activity import (
    DEFAULT_INACTIVITY_FACTOR,
    OFFLINE_ALARM_TYPE,
    OFFLINE_SEVERITY,
    ActivityAction,
    ActivityBoard,
    ActivityDecision,
    IngestionGap,
    StationActivity,
)
from wall.sensors.core.conditions import Condition, MissingAttribute, Op, overlaps
from wall.sensors.core.decisions import STATION_ORIGINATOR_KIND, Action, RuleDecision
from wall.sensors.core.drought import DroughtGrade, DroughtReading, soil_drought
from wall.sensors.core.levels import StageReading, WaterStage, water_stage
from wall.sensors.core.quality import (
    DEFAULT_LATE_AFTER_S,
    Grade,
    Limits,
    Quality,
    SpikeState,
    grade,
    is_late,
)
from wall.sensors.core.rainfall import (
    RainstormAssessment,
    RainstormSignal,
    RainWindow,
    rain_window,
    rainstorm,
)
from wall.sensors.core.readings import Reading
from wall.sensors.core.rule_state import RuleState
from wall.sensors.core.rules import (
    BoundRule,
    Evaluation,
    Rule,
    RuleProblem,
    RuleRefused,
    bind,
    evaluate,
    overlap_problems,
    static_overlap_problems,
)
from wall.sensors.core.schedules import DEFAULT_TIMEZONE, Schedule
from wall.sensors.core.stations import Station, StationKind, Thresholds
from wall.sensors.core.triggers import Trigger, TriggerKind, TriggerState

__all__ = [
    "DEFAULT_INACTIVITY_FACTOR",
    "DEFAULT_LATE_AFTER_S",
    "DEFAULT_TIMEZONE",
    "OFFLINE_ALARM_TYPE",
    "OFFLINE_SEVERITY",
    "STATION_ORIGINATOR_KIND",
    "Action",
    "ActivityAction",
    "ActivityBoard",
    "ActivityDecision",
    "BoundRule",
    "Condition",
    "DroughtGrade",
    "DroughtReading",
    "Evaluation",
    "Grade",
    "IngestionGap",
    "Limits",
    "MissingAttribute",
    "Op",
    "Quality",
    "RainWindow",
    "RainstormAssessment",
    "RainstormSignal",
    "Reading",
    "Rule",
    "RuleDecision",
    "RuleProblem",
    "RuleRefused",
    "RuleState",
    "Schedule",
    "SpikeState",
    "StageReading",
    "Station",
    "StationActivity",
    "StationKind",
    "Thresholds",
    "Trigger",
    "TriggerKind",
    "TriggerState",
    "WaterStage",
    "bind",
    "evaluate",
    "grade",
    "is_late",
    "overlap_problems",
    "overlaps",
    "rain_window",
    "rainstorm",
    "soil_drought",
    "static_overlap_problems",
    "water_stage",
]

"""The ``detection:`` section of the settings and its compiled per-camera plan.

Zones are polygons in the pixels of the camera's *sub* stream (the picture the
detector analyses). A ``crowd`` zone carries a crowding rule; a ``danger`` zone
carries an intrusion rule (optionally armed only while a named condition
holds) and, when ``loitering`` is set, a loitering rule. Rule parameters come
from the camera's defaults unless the zone overrides them.

Validation happens here, once, at start-up (HS5): the config loader turns
every error into a message naming the key path and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from vision.density import CrowdingRule
from vision.hazards import IntrusionRule, LoiteringRule
from vision.motion import MotionRule
from vision.zones import Zone, polygon_area_px
from wall.conditions.core import CONDITION_NAME_PATTERN
from wall.platform.wire import WireModel

__all__ = [
    "CONDITION_NAME_PATTERN",
    "CameraDetectionSettings",
    "CameraPlan",
    "CrowdingPlan",
    "CrowdingSettings",
    "DetectionSettings",
    "HazardPlan",
    "HazardSettings",
    "IntrusionSettings",
    "LoiteringSettings",
    "SeverityName",
    "ZoneSettings",
    "camera_plan",
]

SeverityName = Literal["critical", "major", "minor", "warning", "indeterminate"]
"""Alarm severities, lower-case names of the alarm model's ``Severity`` members."""
_ID = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
_CONDITION = Annotated[str, StringConstraints(pattern=CONDITION_NAME_PATTERN)]
_LABELS = Annotated[tuple[str, ...], Field(min_length=1)]


class CrowdingSettings(WireModel):
    """Crowding rule of a crowd zone (X2, X3): hysteresis and minimum duration."""

    warn_ppm2: float | None = Field(
        4.0, gt=0, description="Raise at this density (persons/m²); needs area_m2."
    )
    clear_ppm2: float | None = Field(
        3.0, gt=0, description="Clear below this density; at most warn_ppm2."
    )
    warn_count: int | None = Field(
        None, ge=1, description="Raise at this many persons (with or without area)."
    )
    clear_count: int | None = Field(
        None, ge=0, description="Clear below this count; defaults to warn_count."
    )
    min_duration_s: float = Field(
        10.0, ge=0, description="The raise condition must hold this long."
    )
    clear_duration_s: float = Field(
        0.0, ge=0, description="The clear condition must hold this long."
    )
    severity: SeverityName = Field("major", description="Alarm severity.")

    @model_validator(mode="after")
    def _consistent(self) -> CrowdingSettings:
        self.rule()  # CrowdingRule checks thresholds; its ValueError names them
        return self

    def rule(self) -> CrowdingRule:
        """The pure rule of :mod:`vision.density`."""
        return CrowdingRule(
            warn_ppm2=self.warn_ppm2,
            clear_ppm2=self.clear_ppm2 if self.warn_ppm2 is not None else None,
            warn_count=self.warn_count,
            clear_count=self.clear_count,
            min_duration_s=self.min_duration_s,
            clear_duration_s=self.clear_duration_s,
        )


class IntrusionSettings(WireModel):
    """Intrusion into a danger zone."""

    enabled: bool = Field(True, description="Evaluate intrusion in danger zones.")
    classes: _LABELS = Field(
        ("person",), description="Model labels that count as intruders."
    )
    condition: _CONDITION | None = Field(
        None, description="Arm only while this named condition is active."
    )
    min_duration_s: float = Field(0.0, ge=0, description="Presence needed to raise.")
    clear_after_s: float = Field(5.0, ge=0, description="Empty this long to clear.")
    severity: SeverityName = Field("critical", description="Alarm severity.")


class LoiteringSettings(WireModel):
    """Loitering in a danger zone: a tracked object dwelling too long."""

    dwell_s: float = Field(gt=0, description="Dwell above which an object loiters.")
    classes: _LABELS = Field(("person",), description="Model labels considered.")
    clear_after_s: float = Field(0.0, ge=0, description="Nobody loitering this long.")
    severity: SeverityName = Field("minor", description="Alarm severity.")


class HazardSettings(WireModel):
    """Hazard rules of danger zones."""

    intrusion: IntrusionSettings = IntrusionSettings()
    loitering: LoiteringSettings | None = Field(
        None, description="Loitering rule; none by default."
    )


class ZoneSettings(WireModel):
    """One zone of a camera's picture."""

    id: _ID = Field(description="Zone id, unique per camera.")
    name: str | None = Field(None, description="Shown to operators; defaults to id.")
    kind: Literal["crowd", "danger"] = Field(description="Which rules apply.")
    polygon: Annotated[tuple[tuple[float, float], ...], Field(min_length=3)] = Field(
        description="Vertices [[x, y], …] in sub-stream pixels, origin top-left."
    )
    area_m2: float | None = Field(
        None, gt=0, description="Real ground area; enables density (X2)."
    )
    crowding: CrowdingSettings | None = Field(
        None, description="Override of the camera's crowding rule."
    )
    hazards: HazardSettings | None = Field(
        None, description="Override of the camera's hazard rules."
    )

    @model_validator(mode="after")
    def _shape(self) -> ZoneSettings:
        if any(x < 0 or y < 0 for x, y in self.polygon):
            raise ValueError(f"zone {self.id!r}: polygon coordinates must be >= 0")
        if polygon_area_px(self.polygon) <= 0:
            raise ValueError(f"zone {self.id!r}: polygon has no area")
        if self.kind == "crowd" and self.hazards is not None:
            raise ValueError(f"zone {self.id!r}: hazards apply to danger zones only")
        if self.kind == "danger" and self.crowding is not None:
            raise ValueError(f"zone {self.id!r}: crowding applies to crowd zones only")
        return self

    @property
    def display_name(self) -> str:
        """Name for operators."""
        return self.name or self.id


class CameraDetectionSettings(WireModel):
    """Zones and rule defaults of one analysed camera."""

    # zone ids are unique per camera: wall.config.consistency checks it, beside
    # every field error, at the line of the duplicate
    zones: tuple[ZoneSettings, ...] = Field((), description="The camera's zones.")
    crowding: CrowdingSettings = Field(
        CrowdingSettings(), description="Crowding rule of its crowd zones."
    )
    hazards: HazardSettings = Field(
        HazardSettings(), description="Hazard rules of its danger zones."
    )


class MotionGatingSettings(WireModel):
    """Skip inference on cameras whose picture has not changed (off by default)."""

    enabled: bool = Field(
        False, description="Infer only frames that differ from the last inferred one."
    )
    pixel_delta: int = Field(
        12, ge=1, le=255, description="Grey-level change that counts (0-255)."
    )
    changed_fraction: float = Field(
        0.002, gt=0, le=1, description="Share of thumbnail pixels that must change."
    )
    max_skip_s: float = Field(
        2.0, gt=0, le=60, description="Infer at least this often however still."
    )

    def rule(self) -> MotionRule:
        """The pure rule of :mod:`vision.motion`."""
        return MotionRule(self.pixel_delta, self.changed_fraction, self.max_skip_s)


class DetectionSettings(WireModel):
    """Person/vehicle detection on the cameras' sub streams (issue 4)."""

    enabled: bool = Field(False, description="Run the detector.")
    model: str = Field(
        "yolox_nano", description="Manifest name in models.manifests_dir."
    )
    analysis_fps: float = Field(
        5.0, gt=0, le=30, description="Frames analysed per camera per second."
    )
    max_frame_age_s: float = Field(
        2.0, gt=0, description="Older frames are skipped; the camera is lagging (X4)."
    )
    # 2, not 4: with single-threaded workers, batches of 4 ran 10-20 % slower
    # per frame than batches of 1-2 on the reference 2-core machine
    batch_size: int = Field(
        2, ge=1, le=32, description="Frames per inference call (across cameras)."
    )
    threads: int = Field(
        1, ge=1, le=64, description="onnxruntime intra-op threads per inference call."
    )
    workers: int = Field(
        2,
        ge=1,
        le=16,
        description=(
            "Inference calls run at once, each on its own worker thread. "
            "Parallel batches use the cores without intra-op spin-waiting."
        ),
    )
    # "fit" runs a 16:9 sub stream at 416x256 instead of 416x416: same scale,
    # no padding computed, ~1.7x the frames per core on the reference machine
    letterbox: Literal["fit", "square"] = Field(
        "fit",
        description=(
            "Network input per frame: 'fit' letterboxes into the smallest "
            "stride-aligned canvas (needs a model whose input size could be made "
            "dynamic at fetch; otherwise the square is used), 'square' always "
            "uses the model's full input size."
        ),
    )
    score_threshold: float | None = Field(
        None, ge=0, le=1, description="Override of the manifest's score threshold."
    )
    motion_gating: MotionGatingSettings = MotionGatingSettings()
    snapshots: bool = Field(True, description="Keep a JPEG with boxes per event.")
    max_events: int = Field(
        1000, ge=10, le=100_000, description="Detection events kept in the store."
    )
    update_interval_s: float = Field(
        5.0, ge=0, description="At most one 'updated' event per alarm this often."
    )
    cameras: dict[_ID, CameraDetectionSettings] = Field(
        default_factory=dict, description="Analysed cameras by camera id."
    )


@dataclass(frozen=True, slots=True)
class CrowdingPlan:
    """A crowd zone's compiled rule."""

    zone_id: str
    rule: CrowdingRule
    severity: SeverityName


@dataclass(frozen=True, slots=True)
class HazardPlan:
    """A danger zone's compiled intrusion or loitering rule."""

    zone_id: str
    rule: IntrusionRule | LoiteringRule
    severity: SeverityName


@dataclass(frozen=True, slots=True)
class CameraPlan:
    """Everything the detector evaluates for one camera.

    Attributes:
        camera_id: The camera.
        zones: Every zone, in configuration order.
        names: Zone id → display name.
        kinds: Zone id → ``crowd`` or ``danger``.
        crowding: Rules of the crowd zones.
        hazards: Intrusion and loitering rules of the danger zones.
        classes: Model labels the rules need (``person`` for crowding).
    """

    camera_id: str
    zones: tuple[Zone, ...]
    names: dict[str, str]
    kinds: dict[str, str]
    crowding: tuple[CrowdingPlan, ...]
    hazards: tuple[HazardPlan, ...]
    classes: frozenset[str]

    @property
    def crowd_zones(self) -> tuple[Zone, ...]:
        """Zones with a crowding rule."""
        ids = {c.zone_id for c in self.crowding}
        return tuple(z for z in self.zones if z.zone_id in ids)


def camera_plan(camera_id: str, settings: CameraDetectionSettings) -> CameraPlan:
    """Compile a camera's settings into zones and pure rules.

    Args:
        camera_id: The camera.
        settings: Its validated detection settings.

    Returns:
        The plan.
    """
    zones, crowding, hazards = [], [], []
    classes: set[str] = set()
    for zs in settings.zones:
        zone = Zone(zs.id, zs.polygon, zs.area_m2)
        zones.append(zone)
        if zs.kind == "crowd":
            c = zs.crowding or settings.crowding
            crowding.append(CrowdingPlan(zs.id, c.rule(), c.severity))
            classes.add("person")
            continue
        h = zs.hazards or settings.hazards
        if h.intrusion.enabled:
            i = h.intrusion
            rule = IntrusionRule(
                zone,
                frozenset(i.classes),
                i.condition,
                i.min_duration_s,
                i.clear_after_s,
            )
            hazards.append(HazardPlan(zs.id, rule, i.severity))
            classes.update(i.classes)
        if h.loitering is not None:
            lo = h.loitering
            loiter = LoiteringRule(
                zs.id, frozenset(lo.classes), lo.dwell_s, lo.clear_after_s
            )
            hazards.append(HazardPlan(zs.id, loiter, lo.severity))
            classes.update(lo.classes)
    return CameraPlan(
        camera_id,
        tuple(zones),
        {z.id: z.display_name for z in settings.zones},
        {z.id: z.kind for z in settings.zones},
        tuple(crowding),
        tuple(hazards),
        frozenset(classes),
    )

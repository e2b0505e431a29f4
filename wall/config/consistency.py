"""The config's cross-references: unique ids, known targets, disjoint schedules.

Field validation (pydantic) checks each value on its own. What spans items is
checked here, on the raw document, so that it runs even when some fields are
invalid: a duplicate camera id is reported together with a bad
``heading_deg``, each at its own key. Parts that are not well-formed (an item
that is not a mapping, an id that is not a string) are skipped; field
validation reports them.

This is the one place of these rules: :mod:`wall.config.loading` runs it on a
file's data, and :class:`wall.config.settings.Settings` runs it on settings
built in code.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

from pydantic import ValidationError

from layouts import load_builtin_layouts
from layouts.yaml_document import KeyPath, dotted_path
from wall.sensors.settings import rule_problems_on
from wall.walls.settings import ScheduleWindowSettings

MAX_KNOWN_NAMED: Final = 20
"""How many known ids a message lists before it only counts the rest."""


@dataclass(frozen=True, slots=True)
class Inconsistency:
    """One cross-reference problem, at the key path it is about."""

    path: KeyPath
    message: str


@cache
def builtin_layout_ids() -> frozenset[str]:
    """Ids of the layouts shipped in ``layouts/definitions/`` (read once)."""
    return frozenset(layout.id for layout in load_builtin_layouts())


def check_consistency(
    data: Mapping[str, object], layout_ids: Collection[str]
) -> list[Inconsistency]:
    """Every cross-reference problem of a config's data, in document order.

    Args:
        data: the config as read (mappings, sequences, scalars).
        layout_ids: the layouts a wall may name.

    Examples:
        >>> doc = {"cameras": [{"id": "a"}, {"id": "a"}], "walls": "?"}
        >>> [(dotted_path(f.path), f.message) for f in check_consistency(doc, {})]
        [('cameras[1].id', "duplicate camera id 'a' (first at cameras[0].id)")]
    """
    found: list[Inconsistency] = []
    camera_ids = _unique_ids(_mappings(data, ("cameras",)), "camera", found)
    _unique_ids(_mappings(data, ("walls",)), "wall", found)
    for path, wall in _mappings(data, ("walls",)):
        _check_wall(path, wall, layout_ids, found)
    _check_detection(data, camera_ids, found)
    stations = _mappings(data, ("stations",))
    _check_stations(stations, camera_ids, found)
    _check_sensor_rules(_mappings(data, ("sensor_rules",)), stations, found)
    return found


def _mappings(
    data: Mapping[str, object], path: KeyPath
) -> list[tuple[KeyPath, Mapping[str, object]]]:
    """The mapping items of the sequence at ``data[path[-1]]``, with their paths."""
    items = data.get(str(path[-1]))
    if not isinstance(items, Sequence) or isinstance(items, str):
        return []
    return [
        ((*path, n), item) for n, item in enumerate(items) if isinstance(item, Mapping)
    ]


def _unique_ids(
    items: list[tuple[KeyPath, Mapping[str, object]]],
    kind: str,
    found: list[Inconsistency],
) -> list[str]:
    first: dict[str, KeyPath] = {}
    for path, item in items:
        item_id = item.get("id")
        if not isinstance(item_id, str):
            continue
        if item_id in first:
            where = dotted_path(first[item_id])
            message = f"duplicate {kind} id {item_id!r} (first at {where})"
            found.append(Inconsistency((*path, "id"), message))
        else:
            first[item_id] = (*path, "id")
    return list(first)


def _known(ids: Collection[str]) -> str:
    if not ids:
        return "(none is configured)"
    names = sorted(ids)
    shown = ", ".join(names[:MAX_KNOWN_NAMED])
    more = len(names) - MAX_KNOWN_NAMED
    return f"(known: {shown}{f' and {more} more' if more > 0 else ''})"


def _missing(
    path: KeyPath, what: str, target: object, known: Collection[str]
) -> Iterator[Inconsistency]:
    if isinstance(target, str) and target not in known:
        yield Inconsistency(path, f"no {what} {target!r} {_known(known)}")


def _check_wall(
    path: KeyPath,
    wall: Mapping[str, object],
    layout_ids: Collection[str],
    found: list[Inconsistency],
) -> None:
    default = wall.get("default_layout")
    found += _missing((*path, "default_layout"), "layout", default, layout_ids)
    windows: list[tuple[KeyPath, ScheduleWindowSettings]] = []
    for window_path, raw in _mappings(wall, (*path, "schedule")):
        target = raw.get("layout_id")
        found += _missing((*window_path, "layout_id"), "layout", target, layout_ids)
        try:
            window = ScheduleWindowSettings.model_validate(raw)
        except ValidationError:
            continue  # field validation reports it; only whole windows can overlap
        for earlier_path, earlier in windows:
            if window.overlaps(earlier):
                message = (
                    f"window {window.name!r} overlaps window {earlier.name!r} "
                    f"({dotted_path(earlier_path)})"
                )
                found.append(Inconsistency(window_path, message))
        windows.append((window_path, window))


def _check_detection(
    data: Mapping[str, object], camera_ids: Collection[str], found: list[Inconsistency]
) -> None:
    detection = data.get("detection")
    cameras = detection.get("cameras") if isinstance(detection, Mapping) else None
    if not isinstance(cameras, Mapping):
        return
    for key, analysed in cameras.items():
        path: KeyPath = ("detection", "cameras", str(key))
        found += _missing(path, "camera with id", key, camera_ids)
        if isinstance(analysed, Mapping):
            zones = _mappings(analysed, (*path, "zones"))
            _unique_ids(zones, "zone", found)


def _check_stations(
    stations: list[tuple[KeyPath, Mapping[str, object]]],
    camera_ids: Collection[str],
    found: list[Inconsistency],
) -> None:
    _unique_ids(stations, "station", found)
    for path, station in stations:
        cameras = station.get("linked_camera_ids")
        if not isinstance(cameras, Sequence) or isinstance(cameras, str):
            continue
        for n, camera in enumerate(cameras):
            where = (*path, "linked_camera_ids", n)
            found += _missing(where, "camera with id", camera, camera_ids)


def _in_scope(
    rule: Mapping[str, object], stations: list[tuple[KeyPath, Mapping[str, object]]]
) -> list[Mapping[str, object]]:
    """The stations a rule names or whose kind it names (first of each id)."""
    target, kind, seen = rule.get("station"), rule.get("station_kind"), set()
    scoped = []
    for _, station in stations:
        sid = station.get("id")
        if isinstance(sid, str) and sid not in seen:
            seen.add(sid)
            named = target is not None and sid == target
            if named or (
                target is None and kind is not None and station.get("kind") == kind
            ):
                scoped.append(station)
    return scoped


def _check_sensor_rules(
    rules: list[tuple[KeyPath, Mapping[str, object]]],
    stations: list[tuple[KeyPath, Mapping[str, object]]],
    found: list[Inconsistency],
) -> None:
    """Unknown stations, R2 and R11 per station, two rules on one alarm key."""
    _unique_ids(rules, "rule", found)
    station_ids = {s.get("id") for _, s in stations} - {None}
    known = {i for i in station_ids if isinstance(i, str)}
    claimed: dict[tuple[object, object], KeyPath] = {}
    for path, rule in rules:
        found += _missing((*path, "station"), "station", rule.get("station"), known)
        for station in _in_scope(rule, stations):
            sid = station.get("id")
            for problem in rule_problems_on(rule, station):
                message = f"station {sid!r}: {problem.message}"
                found.append(Inconsistency((*path, problem.key), message))
            key = (rule.get("type"), sid)
            if key in claimed and isinstance(key[0], str):
                message = (
                    f"rule raises {key[0]!r} on station {sid!r} like the rule at "
                    f"{dotted_path(claimed[key])}: one alarm per station and type"
                )
                found.append(Inconsistency((*path, "type"), message))
            claimed.setdefault(key, path)

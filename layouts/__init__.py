"""Wall layout definitions and the pure layout package."""

from layouts.content import StreamPref
from layouts.errors import (
    IssueCode,
    LayoutError,
    LayoutInvalid,
    LayoutIssue,
    LayoutVersionError,
    Severity,
)
from layouts.fitting import fit_layout_to_wall
from layouts.loader import load_builtin_layouts, parse_layout_data, parse_layout_yaml
from layouts.presets import PRESET_NAMES, preset_layout, preset_rects, split_grid
from layouts.rects import Rect
from layouts.schema import (
    SCHEMA_VERSION,
    Layout,
    LayoutDomain,
    Panel,
    Tile,
    TileContent,
    TileRect,
    WallShape,
    WallSpec,
)
from layouts.solver import (
    PanelPlacement,
    ValidationReport,
    place_tiles,
    tiles_for_panel,
    validate_layout,
)
from layouts.streams import StreamRole, choose_stream, stream_for_tile

__all__ = [
    "PRESET_NAMES",
    "SCHEMA_VERSION",
    "IssueCode",
    "Layout",
    "LayoutDomain",
    "LayoutError",
    "LayoutInvalid",
    "LayoutIssue",
    "LayoutVersionError",
    "Panel",
    "PanelPlacement",
    "Rect",
    "Severity",
    "StreamPref",
    "StreamRole",
    "Tile",
    "TileContent",
    "TileRect",
    "ValidationReport",
    "WallShape",
    "WallSpec",
    "choose_stream",
    "fit_layout_to_wall",
    "load_builtin_layouts",
    "parse_layout_data",
    "parse_layout_yaml",
    "place_tiles",
    "preset_layout",
    "preset_rects",
    "split_grid",
    "stream_for_tile",
    "tiles_for_panel",
    "validate_layout",
]

"""What the walls need to know of the cameras, as a Protocol the walls own.

Which cameras exist (a removed one is a placeholder, W7), which are online
(a tour skips the others, T2) and which stream a tile of a given drawn size
takes (S4). :class:`FleetCameras` answers from the running camera fleet.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from devices.cameras.config import StreamRole as CameraStreamRole
from devices.cameras.fleet import CameraFleet
from devices.cameras.health import StreamState
from layouts.content import StreamPref
from layouts.streams import StreamRole, choose_stream
from wall.live.relay import stream_role

_DOWN = (StreamState.OFFLINE, StreamState.STALLED)


class CameraDirectory(Protocol):
    """The cameras as the walls see them."""

    def ids(self) -> Collection[str]:
        """Every configured camera id."""
        ...

    def online(self, camera_id: str) -> bool:
        """Whether the camera can be shown now (unknown cameras cannot)."""
        ...

    def stream_role(
        self, camera_id: str, preference: StreamPref, drawn_wh: tuple[int, int]
    ) -> StreamRole:
        """The stream a tile drawn at ``drawn_wh`` device px takes (S4)."""
        ...


class FleetCameras:
    """:class:`CameraDirectory` of the running camera fleet."""

    def __init__(self, fleet: CameraFleet) -> None:
        self._fleet = fleet

    def ids(self) -> Collection[str]:
        """Every configured camera id."""
        return self._fleet.cameras.keys()

    def online(self, camera_id: str) -> bool:
        """Online unless the stream composites decode is offline or stalled."""
        camera = self._fleet.cameras.get(camera_id)
        if camera is None:
            return False
        return camera.stream(CameraStreamRole.SUB).state not in _DOWN

    def stream_role(
        self, camera_id: str, preference: StreamPref, drawn_wh: tuple[int, int]
    ) -> StreamRole:
        """The relay's choice for this camera (its measured sub-stream size)."""
        camera = self._fleet.cameras.get(camera_id)
        if camera is None:
            return choose_stream(preference, tile_wh=drawn_wh)
        role = stream_role(camera, preference, drawn_wh)
        return "sub" if role is CameraStreamRole.SUB else "main"

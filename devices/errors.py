"""Domain errors of the devices package."""

from __future__ import annotations


class DeviceError(Exception):
    """Base of device errors."""


class SnapshotUnavailable(DeviceError):
    """No picture can be produced for a snapshot; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

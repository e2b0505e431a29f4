"""The arming conditions detection reads, as it needs them (a consumer-owned protocol).

The conditions capability owns the conditions (the API, sensors and rules
set them); detection only asks which hold and says which of its rules each
one arms. The shell hands it the conditions service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["ArmingConditions"]


class ArmingConditions(Protocol):
    """Which named conditions hold (``wall.conditions.service.ConditionsService``)."""

    def active(self) -> frozenset[str]:
        """Names of the conditions that hold now."""
        ...

    def declare_arms(self, name: str, originators: Sequence[str]) -> None:
        """Record that condition ``name`` arms the rules of ``originators``."""
        ...

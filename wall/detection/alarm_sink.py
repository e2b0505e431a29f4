"""The alarms detection raises, as detection needs them (a consumer-owned protocol).

Detection never imports the alarms capability: the shell hands it the alarm
service, which fits :class:`AlarmSink` (``wall.alarms.service.AlarmService``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from wall.platform.wire import JsonValue

__all__ = ["AlarmSink"]


class AlarmSink(Protocol):
    """Raise, update and clear the alarm of (type, originator).

    ``raised`` → :meth:`raise_`, ``updated`` → :meth:`update` (not a re-raise:
    the alarm's count stays), ``cleared`` → :meth:`clear`.
    """

    async def raise_(
        self,
        type: str,
        originator: str,
        severity: str,
        details: Mapping[str, JsonValue],
    ) -> object:
        """Raise, or update while active, the alarm of (type, originator).

        ``severity`` is the rule's severity name (``major``, ``critical``…).
        """
        ...

    async def update(
        self, type: str, originator: str, *, details: Mapping[str, JsonValue]
    ) -> object:
        """Update the details of the active alarm of (type, originator)."""
        ...

    async def clear(self, type: str, originator: str) -> object:
        """Clear the active alarm of (type, originator)."""
        ...

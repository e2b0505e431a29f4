"""The alarms the service keeps in memory: every open one, a bounded few closed.

Every active or latched alarm is kept, plus at most ``max_closed`` closed
ones (least recently changed dropped first); the repository keeps them all
and answers for the rest. The latest alarm of each key is indexed so a
re-raise finds it without a query.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection

from wall.alarms.core import Alarm, AlarmKey


class AlarmCache:
    """Open alarms, recently closed ones, and the latest alarm of each key.

    Args:
        max_closed: Closed alarms kept (≥ 0).
    """

    def __init__(self, max_closed: int) -> None:
        self.max_closed = max_closed
        self._open: dict[str, Alarm] = {}
        self._closed: OrderedDict[str, Alarm] = OrderedDict()
        self._latest: dict[AlarmKey, str] = {}

    @property
    def open(self) -> Collection[Alarm]:
        """Every active or latched alarm."""
        return self._open.values()

    @property
    def closed_count(self) -> int:
        """Closed alarms kept in memory."""
        return len(self._closed)

    def get(self, alarm_id: str | None) -> Alarm | None:
        """The alarm with this id if kept, else ``None``."""
        if alarm_id is None:
            return None
        return self._open.get(alarm_id) or self._closed.get(alarm_id)

    def latest(self, key: AlarmKey) -> Alarm | None:
        """The latest alarm of ``key`` if kept, else ``None`` (ask the store)."""
        return self.get(self._latest.get(key))

    def remember(self, alarm: Alarm) -> None:
        """Keep ``alarm``'s newest state; drop the oldest closed beyond the bound."""
        self._open.pop(alarm.id, None)
        self._closed.pop(alarm.id, None)
        if alarm.needs_attention:
            self._open[alarm.id] = alarm
        else:
            self._closed[alarm.id] = alarm
        latest = self.latest(alarm.key)
        if latest is None or (latest.started_at, latest.id) <= (
            alarm.started_at,
            alarm.id,
        ):
            self._latest[alarm.key] = alarm.id
        while len(self._closed) > self.max_closed:
            old_id, old = self._closed.popitem(last=False)
            if self._latest.get(old.key) == old_id:
                del self._latest[old.key]

"""The alarm topics of the event bus; each carries the alarm's wire form.

Pages subscribe to ``alarm.*``: the wall's alarm tiles and the console list
follow these events live.
"""

from __future__ import annotations

from collections.abc import Mapping

from wall.alarms.core import Outcome
from wall.alarms.wire import AlarmOut
from wall.platform.event_bus import Topic, topic

ALARM_RAISED = topic("alarm.raised", AlarmOut, "a new alarm was raised")
ALARM_UPDATED = topic(
    "alarm.updated",
    AlarmOut,
    "an active alarm was re-raised, reactivated (A6) or changed severity or details",
)
ALARM_CLEARED = topic(
    "alarm.cleared", AlarmOut, "an alarm's condition ended, or a forced ack cleared it"
)
ALARM_ACKNOWLEDGED = topic(
    "alarm.acknowledged", AlarmOut, "someone acknowledged an alarm"
)

TOPICS_OF: Mapping[Outcome, tuple[Topic[AlarmOut], ...]] = {
    Outcome.CREATED: (ALARM_RAISED,),
    Outcome.UPDATED: (ALARM_UPDATED,),
    Outcome.REACTIVATED: (ALARM_UPDATED,),
    Outcome.CLEARED: (ALARM_CLEARED,),
    Outcome.ACKNOWLEDGED: (ALARM_ACKNOWLEDGED,),
    # a forced ack clears and acknowledges: listeners of either see it
    Outcome.FORCED_ACK: (ALARM_CLEARED, ALARM_ACKNOWLEDGED),
}
"""The topics a transition publishes, in order."""

"""What raised an alarm, and the key that keeps one alarm active per condition.

The text forms live here and nowhere else: an originator is written
``kind:id`` (store column, audit detail, API input) and a key
``type@kind:id`` (audit cause, log lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Originator:
    """What raised the alarm: a kind and an id, written ``kind:id``.

    Examples:
        >>> str(Originator("camera", "nankan-bridge/zone:riverbank"))
        'camera:nankan-bridge/zone:riverbank'
        >>> Originator.parse("station:bz-h-001")
        Originator(kind='station', id='bz-h-001')
    """

    kind: str
    id: str

    def __post_init__(self) -> None:
        if not _KIND_RE.match(self.kind):
            raise ValueError(
                f"originator kind {self.kind!r} must be 1-32 lowercase letters,"
                " digits or '_' and start with a letter"
            )
        if not self.id or len(self.id) > 200 or not self.id.isprintable():
            raise ValueError("originator id must be 1-200 printable characters")

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Originator:
        """Read ``kind:id`` (the id may itself contain ``:``).

        Raises:
            ValueError: No ``:``, or a malformed kind or id.
        """
        kind, sep, ident = text.partition(":")
        if not sep:
            raise ValueError(f"originator {text!r} is not 'kind:id'")
        return cls(kind, ident)

    @classmethod
    def of(cls, value: Originator | str) -> Originator:
        """Accept an originator or its ``kind:id`` text (``camera:gate/zone:a``).

        Examples:
            >>> Originator.of("camera:gate/zone:a")
            Originator(kind='camera', id='gate/zone:a')
        """
        return value if isinstance(value, Originator) else cls.parse(value)


@dataclass(frozen=True, slots=True)
class AlarmKey:
    """``(type, originator)``: at most one active alarm per key.

    Examples:
        >>> str(AlarmKey("crowding", Originator("camera", "cam-1")))
        'crowding@camera:cam-1'
        >>> AlarmKey("Crowding", Originator("camera", "cam-1"))
        Traceback (most recent call last):
        ...
        ValueError: alarm type 'Crowding' must be 1-64 lowercase letters, digits, '_.-'
    """

    type: str
    originator: Originator

    def __post_init__(self) -> None:
        if not _TYPE_RE.match(self.type):
            raise ValueError(
                f"alarm type {self.type!r} must be 1-64 lowercase letters,"
                " digits, '_.-'"
            )

    def __str__(self) -> str:
        return f"{self.type}@{self.originator}"

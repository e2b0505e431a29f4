"""Dead letters: payloads the ingest could not turn into observations (M4).

Malformed JSON, NaN, wrong types, oversize payloads and unknown stations are
kept with a reason code, a message for people and the raw bytes, so an
operator can see what a device sent; the consumer carries on. The raw bytes
are capped at :data:`RAW_CAP_BYTES` (the original size is kept), and the
topic and message are capped too, so a flood of junk cannot fill the disk
with one row per megabyte. SQLite implements the repository in
:mod:`wall.sensors.store`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, Self

__all__ = [
    "MESSAGE_CAP_CHARS",
    "RAW_CAP_BYTES",
    "TOPIC_CAP_CHARS",
    "DeadLetter",
    "DeadLetterRepository",
]

RAW_CAP_BYTES = 4096
"""Raw payload bytes kept per dead letter."""
MESSAGE_CAP_CHARS = 500
"""Characters of the reason's message kept per dead letter."""
TOPIC_CAP_CHARS = 512
"""Characters of the topic kept (MQTT allows 65,535 bytes)."""

_REASON = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One refused payload.

    Attributes:
        received_at: When it arrived (UTC after construction).
        topic: The MQTT topic, or the HTTP route it was posted to.
        reason: A machine-readable code (``malformed_json``, ``oversize``…).
        message: What is wrong, for people.
        raw: The first :data:`RAW_CAP_BYTES` bytes of the payload.
        size: The payload's full size in bytes.
        id: The store's id; ``None`` before it is stored.
    """

    received_at: datetime
    topic: str
    reason: str
    message: str
    raw: bytes
    size: int
    id: int | None = None

    def __post_init__(self) -> None:
        at = self.received_at
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")
        object.__setattr__(self, "received_at", at.astimezone(UTC))
        if not _REASON.fullmatch(self.reason):
            raise ValueError("a dead-letter reason is a snake_case code")
        if len(self.raw) > RAW_CAP_BYTES or self.size < len(self.raw):
            raise ValueError(
                f"raw holds at most {RAW_CAP_BYTES} bytes, and no more than size"
            )
        if len(self.topic) > TOPIC_CAP_CHARS or len(self.message) > MESSAGE_CAP_CHARS:
            raise ValueError("topic or message too long: build with capture()")

    @classmethod
    def capture(
        cls,
        received_at: datetime,
        topic: str,
        reason: str,
        message: str,
        payload: bytes,
    ) -> Self:
        """A dead letter of ``payload``, capped to what the store keeps.

        Examples:
            >>> from datetime import UTC, datetime
            >>> letter = DeadLetter.capture(datetime(2025, 7, 8, tzinfo=UTC),
            ...     "citywall/stations/g1/plain", "oversize", "too big", b"x" * 9000)
            >>> len(letter.raw), letter.size, letter.truncated
            (4096, 9000, True)
        """
        return cls(
            received_at=received_at,
            topic=topic[:TOPIC_CAP_CHARS],
            reason=reason,
            message=message[:MESSAGE_CAP_CHARS],
            raw=bytes(payload[:RAW_CAP_BYTES]),
            size=len(payload),
        )

    @property
    def truncated(self) -> bool:
        """Only the first :data:`RAW_CAP_BYTES` of the payload were kept."""
        return self.size > len(self.raw)


class DeadLetterRepository(Protocol):
    """Where dead letters persist."""

    async def add_dead_letters(self, letters: Sequence[DeadLetter]) -> tuple[int, ...]:
        """Store a batch in one transaction; returns their ids in order."""
        ...

    async def add_dead_letter(self, letter: DeadLetter) -> int:
        """Store one; returns its id."""
        ...

    async def dead_letters(
        self, limit: int = 100, before_id: int | None = None
    ) -> tuple[DeadLetter, ...]:
        """A page of dead letters, newest first (ids below ``before_id``)."""
        ...

    async def dead_letter_counts(self) -> Mapping[str, int]:
        """How many dead letters are stored, by reason."""
        ...

    async def purge_dead_letters(
        self, *, before: datetime | None = None, keep_newest: int | None = None
    ) -> int:
        """Delete those older than ``before`` and all but the newest ``keep_newest``.

        Returns:
            How many were deleted.
        """
        ...

"""The audit log's hash chain (O2): each entry seals the one before it.

Every stored entry carries ``prev_hash`` (the previous entry's ``hash``, or
:data:`GENESIS` for the first) and ``hash``, the SHA-256 of a canonical
serialisation of its own columns and ``prev_hash``. Rewriting, removing or
inserting an entry anywhere but at the end therefore breaks the chain at that
entry or the next, even for someone who dropped the append-only triggers.

Pure: rows in, a verdict out. The SQLite adapter feeds rows in id order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""


@dataclass(frozen=True, slots=True)
class ChainRow:
    """One audit entry as stored: the texts the hash covers, and the hashes.

    Attributes:
        id: Entry id.
        at: Stored time text (UTC ISO-8601).
        actor: Who.
        action: What.
        target: On what (may be ``None``).
        cause: Why (may be ``None``).
        detail: The stored JSON text, byte for byte.
        prev_hash: The previous entry's hash as stored (``None`` if missing).
        hash: This entry's hash as stored (``None`` if missing).
    """

    id: int
    at: str
    actor: str
    action: str
    target: str | None
    cause: str | None
    detail: str
    prev_hash: str | None = None
    hash: str | None = None


def entry_hash(row: ChainRow, prev_hash: str) -> str:
    """The hash an entry must carry after an entry whose hash is ``prev_hash``.

    The serialisation is a JSON array (fixed field order, no spaces, UTF-8)
    of id, at, actor, action, target, cause, detail and prev_hash.

    Examples:
        >>> row = ChainRow(1, "2025-06-01T00:00:00.000000+00:00", "a", "b", None,
        ...                None, "{}")
        >>> len(entry_hash(row, GENESIS))
        64
        >>> entry_hash(row, GENESIS) == entry_hash(row, "1" * 64)
        False
    """
    fields = [
        row.id,
        row.at,
        row.actor,
        row.action,
        row.target,
        row.cause,
        row.detail,
        prev_hash,
    ]
    canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    """What walking the chain found.

    Attributes:
        count: Entries checked (up to and including a broken one).
        broken_at: Id of the first entry where the chain breaks, or ``None``.
        reason: Why it breaks there, for people; ``None`` when intact.
        head_hash: The hash of the last intact entry (:data:`GENESIS` for an
            empty log); recorded elsewhere, it anchors the chain against
            someone who rewrites it whole.
    """

    count: int
    broken_at: int | None = None
    reason: str | None = None
    head_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        """Whether the whole chain is intact."""
        return self.broken_at is None

    def summary(self) -> str:
        """One line for people (``citywall audit verify`` prints it).

        Examples:
            >>> ChainVerdict(2, head_hash="ab" * 32).summary()
            'audit chain OK: 2 entries, head abababababababab'
            >>> ChainVerdict(3, 3, "altered").summary()
            'audit chain broken at id 3: altered (2 entries before it are intact)'
        """
        if self.ok:
            return f"audit chain OK: {self.count} entries, head {self.head_hash[:16]}"
        return (
            f"audit chain broken at id {self.broken_at}: {self.reason}"
            f" ({self.count - 1} entries before it are intact)"
        )


def verify_chain(rows: Iterable[ChainRow], last_issued_id: int = 0) -> ChainVerdict:
    """Walk entries in id order and report the first break.

    Args:
        rows: Every entry, ascending id.
        last_issued_id: The highest id the database ever issued (SQLite's
            ``sqlite_sequence``); entries missing from the end show as a
            break after the last row.

    Examples:
        >>> first = ChainRow(1, "t", "a", "b", None, None, "{}", GENESIS)
        >>> first = ChainRow(1, "t", "a", "b", None, None, "{}", GENESIS,
        ...                  entry_hash(first, GENESIS))
        >>> verify_chain([first]).ok
        True
        >>> verify_chain([first], last_issued_id=2).reason
        'entries after id 1 are missing (the database issued ids up to 2)'
    """
    expected_prev, count, last_id = GENESIS, 0, 0
    for row in rows:
        count += 1
        reason = _row_fault(row, expected_prev, last_id)
        if reason is not None:
            return ChainVerdict(count, row.id, reason, expected_prev)
        expected_prev, last_id = str(row.hash), row.id
    if last_issued_id > last_id:
        return ChainVerdict(
            count,
            last_id + 1,
            f"entries after id {last_id} are missing"
            f" (the database issued ids up to {last_issued_id})",
            expected_prev,
        )
    return ChainVerdict(count, head_hash=expected_prev)


def _row_fault(row: ChainRow, expected_prev: str, last_id: int) -> str | None:
    if row.hash is None or row.prev_hash is None:
        return "the entry has no hash (written around the store)"
    if row.prev_hash != expected_prev:
        if row.id != last_id + 1:
            return f"entries {last_id + 1} to {row.id - 1} are missing"
        return "prev_hash does not match the previous entry's hash"
    if row.hash != entry_hash(row, row.prev_hash):
        return "the entry's content does not match its hash (it was altered)"
    return None

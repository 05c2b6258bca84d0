"""The audit chain (pure): canonical entry content, its SHA-256, and user text made safe to store.

Each entry stores ``entry_hash = SHA-256(canonical JSON of seq, time, actor, action, object, detail,
prev_hash)``, where ``prev_hash`` is the previous entry's ``entry_hash`` (:data:`GENESIS` for the first).
Changing, removing or inserting an entry breaks the link to the entry after it; removing the newest entries
is caught by the chain head, which keeps the last position and hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from painguide.jsontypes import JsonValue

__all__ = ["GENESIS", "MAX_DETAIL_TEXT", "ChainBreak", "clean_detail", "clean_text", "entry_digest"]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""

MAX_DETAIL_TEXT = 500
"""Longest text kept for one value of an entry's detail (longer text is cut and marked)."""

_ELLIPSIS = "…"


def clean_text(text: object, limit: int) -> str:
    """``text`` with control characters escaped, cut to ``limit`` characters (marked with an ellipsis).

    Examples
    --------
    >>> clean_text("ada\\nlovelace", 20)
    'ada\\\\nlovelace'
    >>> clean_text("x" * 100, 10)
    'xxxxxxxxx…'
    """
    value = str(text)
    if any(not ch.isprintable() for ch in value):
        value = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in value)
    if len(value) > limit:
        value = value[: limit - 1] + _ELLIPSIS
    return value


def clean_detail(detail: object, *, limit: int = MAX_DETAIL_TEXT, depth: int = 0) -> JsonValue:
    """A JSON-compatible copy of ``detail`` with every string cleaned by :func:`clean_text` (and at most
    100 items per list or mapping), so user-supplied text is never stored whole."""
    if depth > 5:
        return clean_text(json.dumps(detail, default=str), limit)
    if isinstance(detail, dict):
        items = list(detail.items())[:100]
        return {clean_text(k, 64): clean_detail(v, limit=limit, depth=depth + 1) for k, v in items}
    if isinstance(detail, list | tuple | set | frozenset):
        values = sorted(detail, key=str) if isinstance(detail, set | frozenset) else list(detail)
        return [clean_detail(v, limit=limit, depth=depth + 1) for v in values[:100]]
    if detail is None or isinstance(detail, bool | int):
        return detail
    if isinstance(detail, float):
        return detail if detail == detail and abs(detail) != float("inf") else str(detail)
    return clean_text(detail, limit)


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_digest(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: JsonValue,
    prev_hash: str,
) -> str:
    """The SHA-256 (hex) of one entry's canonical content and the previous entry's hash.

    Examples
    --------
    >>> at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    >>> a = entry_digest(seq=1, at=at, actor="ada", action="login", object_type="user", object_id="ada",
    ...                  detail=None, prev_hash=GENESIS)
    >>> len(a), a == entry_digest(seq=1, at=at, actor="eve", action="login", object_type="user",
    ...                           object_id="ada", detail=None, prev_hash=GENESIS)
    (64, False)
    """
    content = [seq, _timestamp(at), actor, action, object_type, object_id, detail, prev_hash]
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first broken link: the chain position and row id where it breaks, and what is wrong."""

    seq: int | None
    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else "the chain"
        row = f" (row id {self.entry_id})" if self.entry_id is not None else ""
        return f"{where}{row}: {self.reason}"

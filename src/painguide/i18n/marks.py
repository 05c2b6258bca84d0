"""The translation mark for texts kept in tables and data: nothing but the identity, so pure modules (the
care-pathway gates, chart labels) can mark their texts without importing Babel at start-up."""

from __future__ import annotations

__all__ = ["N_"]


def N_(message: str) -> str:
    """Mark ``message`` for extraction where it is stored; translate it where it is shown."""
    return message

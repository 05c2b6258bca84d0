"""CLI command groups (adapters): parse input, call one service function, render the result."""

from __future__ import annotations

__all__: list[str] = []

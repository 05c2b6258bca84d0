"""Web routes, one module per feature; each defines ``router``."""

from __future__ import annotations

__all__: list[str] = []

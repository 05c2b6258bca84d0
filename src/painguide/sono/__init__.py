"""Ultrasound guidance: frame sources, needle tracking, injectate spread, warnings and outputs.

Modules (imported on demand to keep start-up light): ``frames`` (the frame type), ``dicom`` and ``sources``
(input), ``simulate`` and ``phantom`` (B-mode simulator with ground truth), ``ridge``, ``needle``,
``spread`` and ``pipeline`` (detection maths and events), ``analysis`` and ``service`` (offline analysis
and storage), ``overlay``, ``igtl`` and ``live`` (outputs), ``charts`` (review timeline), ``demo`` (demo
analyses), ``evaluate`` (metrics).
"""

from __future__ import annotations

__all__ = [
    "analysis",
    "charts",
    "demo",
    "dicom",
    "evaluate",
    "frames",
    "igtl",
    "live",
    "needle",
    "overlay",
    "phantom",
    "pipeline",
    "ridge",
    "service",
    "simulate",
    "sources",
    "spread",
]

"""Ultrasound guidance: frame sources, needle tracking, injectate spread, warnings and outputs.

Modules (imported on demand to keep start-up light): ``frames`` (the frame type), ``dicom`` and ``sources``
(input), ``simulate`` (B-mode simulator with ground truth), ``needle``, ``spread`` and ``pipeline``
(detection maths and events), ``analysis`` and ``service`` (offline analysis and storage), ``overlay``,
``igtl`` and ``live`` (outputs), ``evaluate`` (metrics).
"""

from __future__ import annotations

__all__ = [
    "analysis",
    "dicom",
    "evaluate",
    "frames",
    "igtl",
    "live",
    "needle",
    "overlay",
    "pipeline",
    "service",
    "simulate",
    "sources",
    "spread",
]

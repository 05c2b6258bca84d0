"""Radiation dose: dose report parsing, storage, reference levels and alerts.

The package root stays light: import the submodules you need (``painguide.dose.rdsr`` pulls in pydicom).
"""

from __future__ import annotations

__all__ = [
    "charts",
    "dashboard",
    "demo",
    "effective",
    "export",
    "generator",
    "models",
    "orthanc",
    "procedures",
    "rdsr",
    "receiver",
    "reference",
    "service",
    "units",
]

"""Modality advisor: an explainable ranking of guidance modalities for one procedure and one patient."""

from __future__ import annotations

from painguide.advisor.models import ModalityAdvice, PatientFactors, Reason, Recommendation, band_for
from painguide.advisor.ranking import find_procedure, recommend

__all__ = [
    "ModalityAdvice",
    "PatientFactors",
    "Reason",
    "Recommendation",
    "band_for",
    "find_procedure",
    "recommend",
]

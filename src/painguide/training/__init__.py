"""Competence: CUSUM and LC-CUSUM learning curves, the logbook and continuing education (pure domain code).

:mod:`painguide.training.cusum` computes learning curves, :mod:`painguide.training.logbook` counts and judges
performed procedures, :mod:`painguide.training.education` tracks courses, requirements and the
radiation-protection qualification, :mod:`painguide.training.policy` reads the sourced defaults.
"""

from __future__ import annotations

from painguide.training.cusum import (
    CusumDesign,
    LearningCurve,
    competent_at,
    cusum_scores,
    declaration_probability,
    exact_limit,
    lc_cusum_scores,
    learning_curve,
)

__all__ = [
    "CusumDesign",
    "LearningCurve",
    "competent_at",
    "cusum_scores",
    "declaration_probability",
    "exact_limit",
    "lc_cusum_scores",
    "learning_curve",
]

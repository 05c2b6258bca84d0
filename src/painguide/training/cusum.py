"""CUSUM and LC-CUSUM learning curves for a binary outcome (1 = success, 0 = failure).

Both charts use the weights of Bolsin and Colson (2000), derived from Wald's sequential probability ratio
test between an acceptable failure rate ``p0`` and an unacceptable one ``p1``:

* ``P = ln(p1 / p0)``, ``Q = ln((1 - p0) / (1 - p1))``, ``s = Q / (P + Q)``;
* the classic CUSUM (no reset) adds ``1 - s`` for each failure and subtracts ``s`` for each success;
* Biau's LC-CUSUM (Biau and Porcher 2010) tests the null hypothesis "performance is inadequate"
  (failure rate ``p1``) against "adequate" (``p0``): it adds ``s`` for each success, subtracts ``1 - s`` for
  each failure, never falls below 0, and declares competence at the first procedure where it reaches ``h``.

The decision limit ``h = ln((1 - beta) / alpha) / (P + Q)`` is Wald's boundary in the same units. For the
LC-CUSUM, where resetting at 0 makes Wald's boundary an approximation, :func:`exact_limit` gives the limit of
Biau and Porcher (the probability of declaring an inadequate operator competent within ``horizon``
procedures is at most ``alpha``), computed exactly by dynamic programming instead of simulation, and
:func:`declaration_probability` the probability of declaring competence within a number of procedures at any
true failure rate. Pure functions; the chart JSON is :meth:`LearningCurve.to_dict`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from painguide.errors import ValidationError

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

#: Scores within this distance of ``h`` count as reaching it (floating-point sums of s and 1 - s).
_TOLERANCE = 1e-9
#: Longest horizon for the exact limit (the computation grows with horizon squared).
MAX_HORIZON = 2000

LimitMethod = Literal["wald", "exact"]


def _check_probability(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and 0 < value < 1):
        raise ValidationError(name, f"expected a probability strictly between 0 and 1, got {value!r}")


@dataclass(frozen=True, slots=True)
class CusumDesign:
    """Acceptable and unacceptable failure rates and the error rates of the test.

    Parameters
    ----------
    p0 : float
        Acceptable failure rate (0 < p0 < p1).
    p1 : float
        Unacceptable failure rate (p0 < p1 < 1).
    alpha : float
        Probability of a false signal: for the LC-CUSUM, of declaring an operator competent whose failure
        rate is ``p1``.
    beta : float
        Probability of missing a true signal; ``alpha + beta < 1``.

    Examples
    --------
    >>> d = CusumDesign(p0=0.10, p1=0.20, alpha=0.10, beta=0.10)
    >>> round(d.s, 4), round(d.h, 4)
    (0.1452, 2.7095)
    """

    p0: float
    p1: float
    alpha: float
    beta: float

    def __post_init__(self) -> None:
        for name in ("p0", "p1", "alpha", "beta"):
            _check_probability(name, getattr(self, name))
        if self.p0 >= self.p1:
            raise ValidationError(
                "p0",
                f"the acceptable failure rate must be below the unacceptable one (p0 = {self.p0}, "
                f"p1 = {self.p1}): swap them or lower p0",
            )
        if self.alpha + self.beta >= 1:
            raise ValidationError("alpha", f"alpha + beta must be below 1 (got {self.alpha + self.beta:g})")

    @property
    def P(self) -> float:
        """``ln(p1 / p0)``."""
        return math.log(self.p1 / self.p0)

    @property
    def Q(self) -> float:
        """``ln((1 - p0) / (1 - p1))``."""
        return math.log((1 - self.p0) / (1 - self.p1))

    @property
    def s(self) -> float:
        """``Q / (P + Q)``: subtracted per success (CUSUM), added per success (LC-CUSUM)."""
        return self.Q / (self.P + self.Q)

    @property
    def h(self) -> float:
        """Wald's upper boundary ``ln((1 - beta) / alpha) / (P + Q)``."""
        return math.log((1 - self.beta) / self.alpha) / (self.P + self.Q)

    @property
    def h_acceptable(self) -> float:
        """Wald's lower boundary of the classic CUSUM, ``-ln((1 - alpha) / beta) / (P + Q)`` (negative)."""
        return -math.log((1 - self.alpha) / self.beta) / (self.P + self.Q)


def _checked(outcomes: Iterable[int]) -> tuple[int, ...]:
    values = tuple(outcomes)
    for position, value in enumerate(values, 1):
        if value not in (0, 1) or isinstance(value, float):
            raise ValidationError(
                "outcomes", f"expected 1 (success) or 0 (failure), got {value!r} at position {position}"
            )
    return values


def cusum_scores(outcomes: Iterable[int], design: CusumDesign) -> tuple[float, ...]:
    """Classic CUSUM without reset: each failure adds ``1 - s``, each success subtracts ``s``.

    Examples
    --------
    >>> d = CusumDesign(p0=0.10, p1=0.20, alpha=0.10, beta=0.10)
    >>> [round(x, 4) for x in cusum_scores([1, 0, 1], d)]
    [-0.1452, 0.7095, 0.5643]
    """
    s, total, scores = design.s, 0.0, []
    for outcome in _checked(outcomes):
        total += -s if outcome else 1 - s
        scores.append(total)
    return tuple(scores)


def lc_cusum_scores(outcomes: Iterable[int], design: CusumDesign) -> tuple[float, ...]:
    """LC-CUSUM: each success adds ``s``, each failure subtracts ``1 - s``; never below 0.

    Examples
    --------
    >>> d = CusumDesign(p0=0.10, p1=0.20, alpha=0.10, beta=0.10)
    >>> [round(x, 4) for x in lc_cusum_scores([1, 0, 1, 1], d)]
    [0.1452, 0.0, 0.1452, 0.2905]
    """
    s, total, scores = design.s, 0.0, []
    for outcome in _checked(outcomes):
        total = max(0.0, total + (s if outcome else -(1 - s)))
        scores.append(total)
    return tuple(scores)


def competent_at(lc_scores: Sequence[float], h: float) -> int | None:
    """The first (0-based) index where the LC-CUSUM reaches ``h``, or ``None``."""
    return next((i for i, score in enumerate(lc_scores) if score >= h - _TOLERANCE), None)


def _signal_probability(design: CusumDesign, h: float, failure_rate: float, horizon: int) -> float:
    # The LC-CUSUM after some procedures is (a*Q - b*P) / (P + Q) for integers a, b (0 after a reset), so
    # its distribution lives on a small lattice; states that reach h are absorbed. Exact, no simulation.
    scale = design.P + design.Q
    up, down = design.Q / scale, design.P / scale
    states: dict[tuple[int, int], float] = {(0, 0): 1.0}
    absorbed = 0.0
    for _ in range(horizon):
        following: dict[tuple[int, int], float] = {}
        for (a, b), mass in states.items():
            if a * up - b * down + up >= h - _TOLERANCE:
                absorbed += mass * (1 - failure_rate)
            else:
                following[(a + 1, b)] = following.get((a + 1, b), 0.0) + mass * (1 - failure_rate)
            after_failure = (a, b + 1) if a * up - (b + 1) * down > _TOLERANCE else (0, 0)
            following[after_failure] = following.get(after_failure, 0.0) + mass * failure_rate
        states = following
    return absorbed


def _check_horizon(horizon: int) -> None:
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValidationError("horizon", f"expected 1 to {MAX_HORIZON} procedures, got {horizon}")


def declaration_probability(design: CusumDesign, h: float, failure_rate: float, horizon: int) -> float:
    """Probability that the LC-CUSUM reaches ``h`` within ``horizon`` procedures at a true failure rate.

    At ``failure_rate = p1`` this is the real type I error over the horizon, at ``p0`` the power.

    Examples
    --------
    >>> d = CusumDesign(p0=0.10, p1=0.20, alpha=0.10, beta=0.10)
    >>> round(declaration_probability(d, d.h, 0.0, 19), 6), round(declaration_probability(d, d.h, 0.0, 18), 6)
    (1.0, 0.0)
    """
    _check_horizon(horizon)
    if not 0 <= failure_rate <= 1:
        raise ValidationError("failure_rate", f"expected a rate from 0 to 1, got {failure_rate!r}")
    return _signal_probability(design, h, failure_rate, horizon)


def exact_limit(design: CusumDesign, horizon: int) -> float:
    """The smallest ``h`` for which an operator at ``p1`` is declared competent within ``horizon``
    procedures with probability at most ``alpha`` (Biau and Porcher 2010), to 1e-6.
    """
    _check_horizon(horizon)
    low, high = 0.0, design.s * (horizon + 1)  # h above s * horizon can never be reached
    while high - low > 1e-6:
        middle = (low + high) / 2
        if _signal_probability(design, middle, design.p1, horizon) <= design.alpha:
            high = middle
        else:
            low = middle
    return high


@dataclass(frozen=True, slots=True)
class LearningCurve:
    """Both charts of one series of outcomes, the limit used and where competence was declared."""

    design: CusumDesign
    outcomes: tuple[int, ...]
    h: float
    limit: LimitMethod
    horizon: int | None
    scores: tuple[float, ...]
    lc_scores: tuple[float, ...]
    competent_at: int | None

    def to_dict(self) -> dict[str, object]:
        """The ``painguide training cusum --json`` document (docs/cli.md)."""
        return {
            "h": self.h,
            "s": self.design.s,
            "scores": list(self.scores),
            "lc_scores": list(self.lc_scores),
            "competent_at": self.competent_at,
            "h_acceptable": self.design.h_acceptable,
            "limit": self.limit,
            "horizon": self.horizon,
            "p0": self.design.p0,
            "p1": self.design.p1,
            "alpha": self.design.alpha,
            "beta": self.design.beta,
        }


def learning_curve(
    outcomes: Iterable[int], design: CusumDesign, *, horizon: int | None = None
) -> LearningCurve:
    """CUSUM, LC-CUSUM and the competence index; with ``horizon``, the exact LC-CUSUM limit is used.

    Examples
    --------
    >>> d = CusumDesign(p0=0.10, p1=0.20, alpha=0.10, beta=0.10)
    >>> learning_curve([0] + [1] * 19, d).competent_at
    19
    """
    values = _checked(outcomes)
    h = design.h if horizon is None else exact_limit(design, horizon)
    lc = lc_cusum_scores(values, design)
    return LearningCurve(
        design=design,
        outcomes=values,
        h=h,
        limit="wald" if horizon is None else "exact",
        horizon=horizon,
        scores=cusum_scores(values, design),
        lc_scores=lc,
        competent_at=competent_at(lc, h),
    )

"""Effective dose as a labelled population estimate from CT DLP (pure).

Only DLP-based estimates are offered, with the coefficient, its source and a caveat; the coefficients for
DAP (projection X-ray) are open, so no effective dose is computed for fluoroscopy or radiography.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from painguide.datafiles import read_packaged_yaml
from painguide.errors import DataFileError, ValidationError

__all__ = ["EffectiveDoseEstimate", "KFactor", "estimate_from_dlp", "k_factors"]

_FILE = "painguide/dose/data/effective_dose.yaml"


@dataclass(frozen=True, slots=True)
class KFactor:
    """A DLP → effective dose coefficient range (mSv per mGy·cm) for one body region and method."""

    region: str
    method: str
    low: float
    high: float
    status: str


@dataclass(frozen=True, slots=True)
class EffectiveDoseEstimate:
    """An effective dose estimate in mSv (a range when the coefficient is a range), always with its label."""

    low_msv: float
    high_msv: float
    k_factor: KFactor
    source: str
    caveat: str

    def label(self) -> str:
        """Human-readable value with method, coefficient and caveat."""
        value = (
            f"{self.low_msv:.2g}"
            if self.low_msv == self.high_msv
            else f"{self.low_msv:.2g}-{self.high_msv:.2g}"
        )
        k = self.k_factor
        coefficient = f"{k.low}" if k.low == k.high else f"{k.low}-{k.high}"
        return (
            f"≈ {value} mSv (DLP × k = {coefficient} mSv/(mGy·cm), {k.region}, {self.source}). {self.caveat}"
        )


@lru_cache(maxsize=1)
def _load() -> tuple[tuple[KFactor, ...], dict[str, str], str]:
    data, _ = read_packaged_yaml("painguide.dose", "data/effective_dose.yaml")
    try:
        factors = tuple(
            KFactor(str(f["region"]), str(f["method"]), float(f["low"]), float(f["high"]), str(f["status"]))
            for f in data["k_factors"]
        )
        return factors, {str(k): str(v) for k, v in data["sources"].items()}, str(data["caveat"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataFileError(
            _FILE, "k_factors", f"region, method, low, high, status for each entry ({exc})"
        ) from exc


def k_factors() -> tuple[KFactor, ...]:
    """Every coefficient in the data file."""
    return _load()[0]


def estimate_from_dlp(dlp_mgy_cm: float, region: str, *, method: str = "AAPM96") -> EffectiveDoseEstimate:
    """Estimate effective dose from a CT dose-length product.

    Parameters
    ----------
    dlp_mgy_cm : float
        Dose-length product in mGy·cm.
    region : str
        ``head``, ``neck_cervical_spine``, ``chest`` or ``abdomen_pelvis``.
    method : str
        ``AAPM96`` (default) or ``ICRP103-120kV``.

    Raises
    ------
    ValidationError
        If there is no coefficient for this region and method.

    Examples
    --------
    >>> estimate_from_dlp(100.0, "chest").low_msv
    1.4
    """
    factors, sources, caveat = _load()
    for factor in factors:
        if factor.region == region and factor.method == method:
            return EffectiveDoseEstimate(
                round(dlp_mgy_cm * factor.low, 6),
                round(dlp_mgy_cm * factor.high, 6),
                factor,
                sources[method],
                caveat,
            )
    known = sorted({f"{f.region} ({f.method})" for f in factors})
    raise ValidationError(
        "region", f"no DLP coefficient for {region!r} with {method}; known: {', '.join(known)}"
    )

"""Unit normalisation for dose quantities (pure).

Each :class:`Quantity` has one canonical unit and a table of the spellings met in real reports. The DICOM
standard unit (UCUM) of each concept is marked so that any other spelling is recorded as a quirk.

Examples
--------
>>> to_canonical(Quantity.DAP, 9.37e-06, "Gym2")
(0.0937, "DAP unit 'Gym2' is not the standard 'Gy.m2'; normalised")
>>> to_canonical(Quantity.RP_DOSE, 0.00136, "Gy")
(1.36, None)
"""

from __future__ import annotations

import math
import re
from enum import StrEnum

from painguide.errors import ValidationError

__all__ = ["CANONICAL_UNIT", "Quantity", "UnknownUnitError", "parse_number", "to_canonical"]


class Quantity(StrEnum):
    """A physical quantity read from a dose report."""

    DAP = "DAP"
    RP_DOSE = "RP dose"
    CTDI = "CTDIvol"
    DLP = "DLP"
    TIME = "time"
    VOLTAGE = "tube voltage"
    CURRENT = "tube current"
    ANGLE = "angle"
    LENGTH = "length"
    COUNT = "count"


CANONICAL_UNIT: dict[Quantity, str] = {
    Quantity.DAP: "Gy.cm2",
    Quantity.RP_DOSE: "mGy",
    Quantity.CTDI: "mGy",
    Quantity.DLP: "mGy.cm",
    Quantity.TIME: "s",
    Quantity.VOLTAGE: "kV",
    Quantity.CURRENT: "mA",
    Quantity.ANGLE: "deg",
    Quantity.LENGTH: "mm",
    Quantity.COUNT: "1",
}

# (standard UCUM spelling, {normalised spelling: factor to the canonical unit})
_DOSE_MGY = {"gy": 1000.0, "dgy": 100.0, "cgy": 10.0, "mgy": 1.0, "ugy": 1e-3, "µgy": 1e-3}
_TABLES: dict[Quantity, tuple[str, dict[str, float]]] = {
    Quantity.DAP: (
        "Gy.m2",
        {
            "gy.m2": 1e4,
            "gym2": 1e4,
            "gy.m^2": 1e4,
            "gy*m2": 1e4,
            "dgy.m2": 1e3,
            "cgy.m2": 1e2,
            "mgy.m2": 10.0,
            "ugy.m2": 1e-2,
            "µgy.m2": 1e-2,
            "gy.cm2": 1.0,
            "gycm2": 1.0,
            "dgy.cm2": 0.1,
            "dgycm2": 0.1,
            "cgy.cm2": 1e-2,
            "cgycm2": 1e-2,
            "mgy.cm2": 1e-3,
            "mgycm2": 1e-3,
            "ugy.cm2": 1e-6,
            "µgy.cm2": 1e-6,
        },
    ),
    Quantity.RP_DOSE: ("Gy", _DOSE_MGY),
    Quantity.CTDI: ("mGy", _DOSE_MGY),
    Quantity.DLP: (
        "mGy.cm",
        {"mgy.cm": 1.0, "mgycm": 1.0, "mgy*cm": 1.0, "gy.cm": 1000.0, "gycm": 1000.0, "mgy.mm": 0.1},
    ),
    Quantity.TIME: ("s", {"s": 1.0, "sec": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0}),
    Quantity.VOLTAGE: ("kV", {"kv": 1.0, "kvp": 1.0, "v": 1e-3}),
    Quantity.CURRENT: ("mA", {"ma": 1.0, "a": 1000.0, "ua": 1e-3}),
    Quantity.ANGLE: ("deg", {"deg": 1.0, "°": 1.0, "degree": 1.0, "degrees": 1.0}),
    Quantity.LENGTH: ("mm", {"mm": 1.0, "cm": 10.0, "m": 1000.0}),
    Quantity.COUNT: ("1", {"1": 1.0, "{pulse}": 1.0, "{frames}": 1.0, "": 1.0, "no units": 1.0}),
}

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class UnknownUnitError(ValidationError):
    """A unit spelling is not known for the quantity; the value cannot be normalised safely."""

    def __init__(self, quantity: Quantity, unit: str) -> None:
        known = ", ".join(sorted({k for k in _TABLES[quantity][1] if k}))
        super().__init__(
            f"{quantity} unit",
            f"{unit!r} is not a known unit for {quantity} (known: {known}); "
            "add the spelling to painguide.dose.units if it is a genuine vendor variant",
        )


def _normalise_spelling(unit: str) -> str:
    return unit.strip().lower().replace(" ", "").replace("·", ".").replace("²", "2").replace("^", "")


def to_canonical(quantity: Quantity, value: float, unit: str) -> tuple[float, str | None]:
    """Convert ``value`` given in ``unit`` to the canonical unit of ``quantity``.

    Parameters
    ----------
    quantity : Quantity
        What the value measures.
    value : float
        The number as stored.
    unit : str
        The unit code as stored (UCUM code value, or a vendor spelling).

    Returns
    -------
    tuple of (float, str or None)
        The value in :data:`CANONICAL_UNIT` ``[quantity]`` and a quirk message when the unit was not the
        standard DICOM spelling (``None`` otherwise).

    Raises
    ------
    UnknownUnitError
        If the unit spelling is not known for this quantity.
    """
    standard, table = _TABLES[quantity]
    key = _normalise_spelling(unit)
    factor = table.get(key)
    if factor is None and quantity is Quantity.COUNT and key.startswith("{") and key.endswith("}"):
        factor = 1.0  # UCUM annotation of a dimensionless count: {events}, {pulses}, ...
    if factor is None:
        raise UnknownUnitError(quantity, unit)
    quirk = None
    if quantity is not Quantity.COUNT and unit != standard:
        quirk = f"{quantity} unit {unit!r} is not the standard {standard!r}; normalised"
    return _round(value * factor), quirk


def _round(value: float) -> float:
    """Round to 12 significant digits so that unit factors leave no binary noise (1.36 not 1.3599999)."""
    if value == 0 or not math.isfinite(value):
        return value
    digits = 12 - math.floor(math.log10(abs(value))) - 1
    return round(value, digits)


def parse_number(text: str) -> float | None:
    """Read a DICOM decimal string strictly; ``None`` when it is not one plain finite number.

    Examples
    --------
    >>> parse_number(" 8.664e-005 ")
    8.664e-05
    >>> parse_number("10.50/ 15.00") is None
    True
    """
    stripped = text.strip()
    if not _NUMBER.match(stripped):
        return None
    value = float(stripped)
    return value if math.isfinite(value) else None

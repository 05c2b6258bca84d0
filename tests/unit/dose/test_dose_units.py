"""Unit normalisation: every spelling seen in real dose reports lands in the canonical unit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from painguide.dose.units import Quantity, UnknownUnitError, parse_number, to_canonical


@pytest.mark.parametrize(
    ("quantity", "value", "unit", "expected", "quirk"),
    [
        (Quantity.DAP, 1.0e-4, "Gy.m2", 1.0, False),
        (Quantity.DAP, 9.37e-06, "Gym2", 0.0937, True),
        (Quantity.DAP, 10.0, "dGy.cm2", 1.0, True),
        (Quantity.DAP, 20000.0, "cGy.cm2", 200.0, True),
        (Quantity.RP_DOSE, 0.00136, "Gy", 1.36, False),
        (Quantity.RP_DOSE, 2.5, "mGy", 2.5, True),
        (Quantity.DLP, 180.0, "mGy.cm", 180.0, False),
        (Quantity.DLP, 180.0, "mGycm", 180.0, True),
        (Quantity.CTDI, 7.5, "mGy", 7.5, False),
        (Quantity.TIME, 3.1, "ms", 0.0031, True),
        (Quantity.COUNT, 12.0, "{events}", 12.0, False),
    ],
)
def test_to_canonical_converts_known_spellings(
    quantity: Quantity, value: float, unit: str, expected: float, quirk: bool
) -> None:
    converted, message = to_canonical(quantity, value, unit)
    assert converted == pytest.approx(expected, rel=1e-12)
    assert (message is not None) is quirk
    if quirk:
        assert unit in str(message)


def test_to_canonical_refuses_unknown_unit_naming_the_quantity() -> None:
    with pytest.raises(UnknownUnitError, match=r"'R\.cm2' is not a known unit for DAP"):
        to_canonical(Quantity.DAP, 1.0, "R.cm2")


def test_to_canonical_never_mixes_dose_and_dap() -> None:
    with pytest.raises(UnknownUnitError, match="RP dose"):
        to_canonical(Quantity.RP_DOSE, 1.0, "Gy.m2")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8.664e-005", 8.664e-05), (" 74 ", 74.0), ("-0.1", -0.1), (".5", 0.5), ("1.", 1.0)],
)
def test_parse_number_reads_decimal_strings(text: str, expected: float) -> None:
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["10.50/ 15.00", "10.5\\15.0", "", "abc", "nan", "inf", "1e999", "1,5"])
def test_parse_number_rejects_malformed_text(text: str) -> None:
    assert parse_number(text) is None


@given(st.text(max_size=30))
def test_parse_number_never_raises(text: str) -> None:
    result = parse_number(text)
    assert result is None or isinstance(result, float)

"""Fixtures for the dose unit tests: synthetic reports and the real sample RDSRs beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_RDSR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "rdsr"


def shared_rdsr_params() -> list[object]:
    """One pytest param per real sample file, or one skipped param when ../shared is absent."""
    files = sorted(SHARED_RDSR.glob("*.dcm")) if SHARED_RDSR.is_dir() else []
    if not files:
        reason = f"sample RDSRs not found at {SHARED_RDSR} (../shared is absent)"
        return [pytest.param(None, id="no-samples", marks=pytest.mark.skip(reason=reason))]
    return [pytest.param(path, id=path.name, marks=pytest.mark.shared) for path in files]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every test that asks for ``shared_rdsr`` over every real sample file."""
    if "shared_rdsr" in metafunc.fixturenames:
        metafunc.parametrize("shared_rdsr", shared_rdsr_params())

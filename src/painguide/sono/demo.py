"""Demo ultrasound analyses: three simulated injections, stored with their cines (idempotent).

* a normal injection: the needle reaches the target and fluid spreads around the tip;
* an injection with no visible spread: the fluid never appears, so ``no_visible_spread`` fires 4 s after
  the injection start;
* an injection whose fluid first appears about 10 mm from the tip (``spread_away_from_tip``).

Cines are small (320×240, 72 frames at 12 per second) and written once per process.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from painguide.sono.dicom import write_dicom_cine
from painguide.sono.service import analyse_and_add
from painguide.sono.simulate import SimulationParams, simulate_cine
from painguide.store.uow import UnitOfWork

__all__ = ["DEMO_ACTOR", "DEMO_CASES", "demo_cines", "seed_demo_data"]

DEMO_ACTOR = "demo"
_INJECTION_AT_S = 1.5
#: (file name, Study Instance UID, changes to the base simulation).
DEMO_CASES: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("demo-normal-spread.dcm", "2.25.7001", {"seed": 7, "spread_offset_mm": 1.5}),
    ("demo-no-visible-spread.dcm", "2.25.7002", {"seed": 8, "spread_visible": False}),
    ("demo-spread-away-from-tip.dcm", "2.25.7003", {"seed": 9, "spread_offset_mm": 11.0}),
)


@lru_cache(maxsize=1)
def demo_cines() -> tuple[tuple[str, str, bytes], ...]:
    """``(file name, study UID, DICOM bytes)`` of each demo case, simulated once per process."""

    base = SimulationParams(
        rows=240, cols=320, n_frames=72, frame_rate_hz=12.0, injection_at_s=_INJECTION_AT_S,
        needle_speed_mm_s=20.0, spread_rate_mm2_s=30.0, bone=False,
    )  # fmt: skip
    cines = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, study, changes in DEMO_CASES:
            cine = simulate_cine(replace(base, **changes))  # type: ignore[arg-type]
            path = write_dicom_cine(cine.frames, Path(tmp) / name, compression="jpeg")
            cines.append((name, study, path.read_bytes()))
    return tuple(cines)


def seed_demo_data(uow: UnitOfWork) -> None:
    """Analyse and store the demo cines unless demo analyses exist (the caller commits)."""

    if uow.sono.any_by(DEMO_ACTOR):
        return
    for name, study, data in demo_cines():
        analyse_and_add(
            uow, data, name=name, actor=DEMO_ACTOR, injection_at_s=_INJECTION_AT_S, study_instance_uid=study
        )

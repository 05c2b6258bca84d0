"""Named scene families of the simulator and the seed ranges of the development and test sets.

Each family widens one aspect of the base scene (:func:`painguide.sono.simulate.random_params`) to what
practice shows, so the evaluation can be reported family by family. The development set and the frozen
test set use disjoint seed ranges: the detectors are tuned on development seeds only, and every figure
in the documentation comes from the test seeds.

>>> set(DEVELOPMENT_SEEDS) & set(TEST_SEEDS)
set()
>>> set(CONFIRMATION_SEEDS) & (set(DEVELOPMENT_SEEDS) | set(TEST_SEEDS))
set()
>>> scene_params("intravascular", held_out_seed("intravascular", 0)).spread_visible
False
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from painguide.errors import ValidationError
from painguide.sono.phantom import needle_geometry
from painguide.sono.simulate import SimulationParams, random_params

__all__ = [
    "CONFIRMATION_SEEDS",
    "DEVELOPMENT_SEEDS",
    "FAMILIES",
    "TEST_SEEDS",
    "check_families",
    "confirmation_seed",
    "development_seed",
    "held_out_seed",
    "run_on_past_the_wait",
    "scene_params",
    "seed_in",
    "seed_set",
]

DEVELOPMENT_SEEDS = range(100_000, 200_000)
"""Seeds for tuning and development runs."""
TEST_SEEDS = range(900_000, 1_000_000)
"""Seeds of the frozen test set: never used while tuning."""
CONFIRMATION_SEEDS = range(800_000, 900_000)
"""Seeds of the confirmation blocks declared once the test seeds' own blocks were used up (each family's
test cines 500-989, in blocks of 30): never used while tuning; each block is run after a round's changes
are merged, at most twice, and no decision is taken on it."""
FAMILY_STRIDE = 1_000
"""Seeds per family inside each range (family ``k`` starts at ``range.start + k * FAMILY_STRIDE``)."""

FAMILIES = (
    "baseline",
    "mid_probe",
    "steep_deep",
    "out_of_plane",
    "bent",
    "probe_motion",
    "moving_at_injection",
    "fascial_spread",
    "intravascular",
    "fluid_in_vessel",
    "vessel_doppler",
    "artefacts",
    "needle_free",
    "intravascular_moving",
)
"""Scene families, each measured separately (a family added later comes last, so the seeds of the others
stay as they were)."""

AFTER_INJECTION_S = 5.5
"""Intravascular cines run this long after the injection start, so the 4 s no-spread rule can fire."""


def check_families(families: Iterable[str], name: str = "family") -> None:
    """Refuse names that are no scene family, all of them at once, naming the option ``name``.

    Raises
    ------
    ValidationError
        ``name``: the unknown names and the families to choose from.
    """
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise ValidationError(
            name, f"unknown scene family {', '.join(unknown)}; choose one of {', '.join(FAMILIES)}"
        )


def seed_in(seeds: range, family: str, index: int) -> int:
    """Seed of the ``index``-th cine of a family in a range of seeds (see :func:`seed_set`)."""
    check_families((family,))
    if not 0 <= index < FAMILY_STRIDE:
        raise ValidationError("index", f"must be 0-{FAMILY_STRIDE - 1}, got {index}")
    return seeds.start + FAMILIES.index(family) * FAMILY_STRIDE + index


def development_seed(family: str, index: int) -> int:
    """Seed of the ``index``-th development cine of a family."""
    return seed_in(DEVELOPMENT_SEEDS, family, index)


def confirmation_seed(family: str, index: int) -> int:
    """Seed of the ``index``-th confirmation cine of a family (:data:`CONFIRMATION_SEEDS`)."""
    return seed_in(CONFIRMATION_SEEDS, family, index)


def held_out_seed(family: str, index: int) -> int:
    """Seed of the ``index``-th test cine of a family (the frozen test set)."""
    return seed_in(TEST_SEEDS, family, index)


def seed_set(*, test_set: bool = True, confirmation: bool = False) -> tuple[str, range]:
    """The name and seeds of the set an evaluation runs: ``confirmation``, else ``test`` or ``development``.

    >>> seed_set(confirmation=True)
    ('confirmation', range(800000, 900000))
    """
    if confirmation:
        return "confirmation", CONFIRMATION_SEEDS
    return ("test", TEST_SEEDS) if test_set else ("development", DEVELOPMENT_SEEDS)


def scene_params(
    family: str, seed: int, *, rows: int = 480, cols: int = 640, n_frames: int = 60
) -> SimulationParams:
    """Parameters of one cine of a family.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    seed : int
        Seed of the cine (see :func:`development_seed` and :func:`held_out_seed`).
    rows, cols : int
        Image region size.
    n_frames : int
        Frames; the intravascular family is lengthened to :data:`AFTER_INJECTION_S` after the injection.

    Returns
    -------
    SimulationParams
        The drawn parameters, with ``family`` set.
    """
    check_families((family,))
    needle = family != "needle_free"
    base = random_params(seed, rows=rows, cols=cols, n_frames=n_frames, needle=needle, injection=needle)
    rng = np.random.default_rng((seed, 31))
    base = replace(
        base,
        family=family,
        needle_angle_deg=float(rng.uniform(10.0, 55.0)),
        probe_motion_mm=float(rng.uniform(0.0, 0.6)),
    )
    if family == "needle_free":
        return base
    return _FAMILY_DRAWS[family](base, rng)


def _tip_depth(params: SimulationParams, rng: np.random.Generator, deepest: float) -> SimulationParams:
    """Aim the needle at a tip depth between 8 mm and ``deepest`` (within the view)."""
    room = min(deepest, params.depth_mm - 4.0)
    depth = float(rng.uniform(min(8.0, room), room))
    length = (depth - params.needle_entry_z_mm) / math.sin(math.radians(params.needle_angle_deg))
    return replace(params, needle_target_length_mm=max(6.0, length))


def _ready_before_injection(params: SimulationParams) -> SimulationParams:
    """Needle speed such that it stops before the injection starts."""
    _, _, target = needle_geometry(params)
    start, injection = params.needle_start_s, params.injection_at_s or 0.0
    return replace(
        params, needle_speed_mm_s=max(params.needle_speed_mm_s, target / max(0.1, injection - start - 0.1))
    )


def _baseline(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    p = replace(p, needle_angle_deg=float(rng.uniform(10.0, 70.0)))
    return _ready_before_injection(_tip_depth(p, rng, 40.0))


def _mid_probe(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    p = replace(
        p,
        needle_entry_x_mm=float(rng.uniform(0.25, 0.6) * p.width_mm)
        if p.needle_from_left
        else float(rng.uniform(0.4, 0.75) * p.width_mm),
        needle_entry_z_mm=float(rng.uniform(0.0, 2.0)),
        needle_angle_deg=float(rng.uniform(25.0, 60.0)),
    )
    return _ready_before_injection(_tip_depth(p, rng, 40.0))


def _steep_deep(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    p = replace(
        p,
        depth_mm=max(p.depth_mm, 45.0),
        needle_angle_deg=float(rng.uniform(45.0, 70.0)),
        needle_brightness=float(rng.uniform(10.0, 18.0)),
        needle_entry_z_mm=float(rng.uniform(1.0, 6.0)),
        attenuation_db_mm=float(rng.uniform(0.4, 0.8)),
    )
    return _ready_before_injection(_tip_depth(p, rng, 40.0))


def _out_of_plane(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    p = replace(
        p,
        elevation_offset_mm=float(rng.uniform(-0.2, 0.2)),
        elevation_tilt=float(rng.choice([-1.0, 1.0]) * rng.uniform(0.005, 0.03)),
        elevation_drift_mm=float(rng.uniform(0.2, 0.7)),
        elevation_drift_hz=float(rng.uniform(0.2, 0.6)),
        elevation_beam_mm=float(rng.uniform(0.6, 1.0)),
        tip_flicker=float(rng.uniform(0.1, 0.4)),
        out_of_plane_s=None,
    )
    return _ready_before_injection(_tip_depth(p, rng, 30.0))


def _bent(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    if rng.random() < 0.5:
        p = replace(p, needle_bend_deg=float(rng.choice([-1.0, 1.0]) * rng.uniform(2.0, 6.0)))
    else:
        p = replace(
            p,
            needle_deflect_deg=float(rng.choice([-1.0, 1.0]) * rng.uniform(3.0, 8.0)),
            needle_deflect_at=float(rng.uniform(0.3, 0.7)),
        )
    return _ready_before_injection(_tip_depth(p, rng, 35.0))


def _probe_motion(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    p = replace(
        p, probe_motion_mm=float(rng.uniform(1.0, 2.0)), probe_rotation_deg=float(rng.uniform(1.0, 3.0))
    )
    return _ready_before_injection(_tip_depth(p, rng, 35.0))


def _moving_at_injection(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    p = _tip_depth(p, rng, 35.0)
    _, _, target = needle_geometry(p)
    arrive = (p.injection_at_s or 0.0) + float(rng.uniform(0.3, 1.0))
    return replace(p, needle_speed_mm_s=max(4.0, target / max(0.2, arrive - p.needle_start_s)))


def _fascial_spread(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    p = replace(
        p, spread_aspect=float(rng.uniform(4.0, 8.0)), spread_tilt_deg=float(rng.uniform(-15.0, 15.0))
    )
    return _ready_before_injection(_tip_depth(p, rng, 35.0))


def _vessel_at_tip(p: SimulationParams, rng: np.random.Generator, inside: bool) -> SimulationParams:
    entry, direction, target = needle_geometry(p)
    radius = float(rng.uniform(1.5, 3.0))
    tip = entry + target * direction
    centre = tip + (0.3 * radius if inside else radius + 0.5) * direction
    return replace(p, vessel=True, vessel_at=(float(centre[0]), float(centre[1]), radius))


def run_on_past_the_wait(params: SimulationParams) -> SimulationParams:
    """The same scene run on to :data:`AFTER_INJECTION_S` after its injection start (no shorter than it
    was): the length of the intravascular cines, and of every cine with an injection in an evaluation
    run with ``run_on``."""
    frames = math.ceil(((params.injection_at_s or 0.0) + AFTER_INJECTION_S) * params.frame_rate_hz)
    return replace(params, n_frames=max(params.n_frames, frames))


def _intravascular(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    p = _ready_before_injection(_tip_depth(p, rng, 35.0))
    p = _vessel_at_tip(p, rng, inside=True)
    return run_on_past_the_wait(replace(p, spread_visible=False))


def _intravascular_moving(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    """An intravascular injection while the probe moves as in ``probe_motion`` (1-2 mm, 1-3°): the
    no-spread warning must hold when the image moves too."""
    p = _intravascular(p, rng)
    return replace(
        p, probe_motion_mm=float(rng.uniform(1.0, 2.0)), probe_rotation_deg=float(rng.uniform(1.0, 3.0))
    )


def _fluid_in_vessel(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    p = _ready_before_injection(_tip_depth(p, rng, 35.0))
    p = _vessel_at_tip(p, rng, inside=True)
    return replace(
        p,
        spread_visible=False,
        vessel_distends=True,
        vessel_pulsation=float(rng.uniform(0.0, 0.05)),
        vessel_compression=float(rng.uniform(0.3, 0.6)),
        compression_hz=float(rng.uniform(0.5, 0.9)),
        spread_max_mm2=float(rng.uniform(15.0, 35.0)),
    )


def _vessel_doppler(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    p = _ready_before_injection(_tip_depth(p, rng, 35.0))
    entry, direction, target = needle_geometry(p)
    radius = float(rng.uniform(1.5, 3.0))
    ahead = float(rng.uniform(2.0, 8.0)) + radius
    centre = entry + target * direction + ahead * direction
    centre[1] = min(centre[1], p.depth_mm - radius - 3.0)
    return replace(
        p,
        vessel=True,
        vessel_at=(float(centre[0]), float(centre[1]), radius),
        vessel_doppler=bool(rng.random() < 0.6),
        spread_offset_mm=float(rng.uniform(0.5, 1.5)),
    )


def _artefacts(p: SimulationParams, rng: np.random.Generator) -> SimulationParams:
    p = replace(p, reverberation_artefact=True, calcification_shadow=bool(rng.random() < 0.7))
    return _ready_before_injection(_tip_depth(p, rng, 35.0))


_FAMILY_DRAWS = {
    "baseline": _baseline,
    "mid_probe": _mid_probe,
    "steep_deep": _steep_deep,
    "out_of_plane": _out_of_plane,
    "bent": _bent,
    "probe_motion": _probe_motion,
    "moving_at_injection": _moving_at_injection,
    "fascial_spread": _fascial_spread,
    "intravascular": _intravascular,
    "fluid_in_vessel": _fluid_in_vessel,
    "vessel_doppler": _vessel_doppler,
    "artefacts": _artefacts,
    "intravascular_moving": _intravascular_moving,
}

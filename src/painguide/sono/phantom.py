"""Anatomy and needle of the B-mode simulator: echogenicity maps and coherent specular reflectors.

The simulator (:mod:`painguide.sono.simulate`) builds each frame from two ingredients made here:

- a tissue **echogenicity** map (mean backscattered power per pixel): skin, fat and muscle layers with
  bright fascia and striation, an optional bone surface with its acoustic shadow, an optional pulsatile
  vessel, and the injectate pool;
- the **needle** as a coherent specular reflector: the upper wall, a reverberation train below it (copies
  one diameter apart along the beam, decaying geometrically) and a bright bevel at the tip. Each reflector
  is drawn already convolved with the point-spread function, projected across the shaft.

Positions are in millimetres from the top-left pixel centre of the image region: ``x_mm = col * col_spacing``,
``z_mm = row * row_spacing``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from painguide.sono.simulate import SimulationParams

__all__ = [
    "NeedleState",
    "add_bone",
    "needle_amplitude",
    "needle_geometry",
    "needle_state",
    "render_needle",
    "shaft_contrast",
    "spread_area",
    "spread_centre",
    "tissue",
    "vessel_and_spread",
]

FloatImage = NDArray[np.float32]
FloatArray = NDArray[np.float64]

MARGIN_MM = 3.0
"""The needle tip stays this far inside the image region."""


def _grid(rows: int, cols: int, params: SimulationParams) -> tuple[FloatImage, FloatImage]:
    z = (np.arange(rows, dtype=np.float32) * params.row_spacing_mm)[:, None]
    x = (np.arange(cols, dtype=np.float32) * params.col_spacing_mm)[None, :]
    return np.broadcast_to(z, (rows, cols)), np.broadcast_to(x, (rows, cols))


def tissue(params: SimulationParams, rng: np.random.Generator, shape: tuple[int, int]) -> FloatImage:
    """Layered echogenicity: bright skin, 2-5 layers with fascia, muscle striation.

    Parameters
    ----------
    params : SimulationParams
        Geometry of the scene.
    rng : numpy.random.Generator
        Random draws of the anatomy.
    shape : tuple of int
        ``(rows, cols)`` of the canvas (image plus motion margin).

    Returns
    -------
    ndarray of shape (rows, cols), dtype float32
        Mean backscattered power (tissue speckle is 1 on average).
    """
    z, x = _grid(*shape, params)
    echo = np.full(shape, 1.0, dtype=np.float32)
    skin = float(rng.uniform(1.0, 2.5))
    echo[z < skin] = float(rng.uniform(1.8, 3.0))
    interfaces = np.sort(rng.uniform(skin + 2.0, params.depth_mm * 0.9, size=int(rng.integers(2, 6))))
    levels = rng.uniform(0.3, 1.5, size=interfaces.size + 1).astype(np.float32)
    phase = rng.uniform(0, 2 * math.pi, size=interfaces.size)
    wave = rng.uniform(0.3, 1.5, size=interfaces.size)
    tilt = rng.uniform(-0.12, 0.12, size=interfaces.size)
    thickness = rng.uniform(0.15, 0.45, size=interfaces.size)
    brightness = rng.uniform(1.0, 4.0, size=interfaces.size)
    layer = np.zeros(shape, dtype=np.int32)
    for i, depth in enumerate(interfaces):
        surface = depth + tilt[i] * (x - params.width_mm / 2) + wave[i] * np.sin(x / 7.0 + phase[i])
        layer += (z > surface).astype(np.int32)
        echo += (brightness[i] * np.exp(-(((z - surface) / thickness[i]) ** 2))).astype(np.float32)
    echo *= levels[layer]
    period = rng.uniform(1.0, 3.0)
    striation = 1.0 + rng.uniform(0.1, 0.4) * np.sin(2 * math.pi * (z + 0.2 * x) / period)
    echo *= striation.astype(np.float32)
    return echo


def add_bone(echo: FloatImage, params: SimulationParams, rng: np.random.Generator) -> None:
    """Bright curved bone surface with an acoustic shadow beneath, in place."""
    z, x = _grid(echo.shape[0], echo.shape[1], params)
    depth = rng.uniform(0.65, 0.85) * params.depth_mm
    centre = rng.uniform(0.3, 0.7) * params.width_mm
    curvature = rng.uniform(0.01, 0.04)
    surface = depth + curvature * (x - centre) ** 2
    echo[z > surface + 0.4] *= 0.003
    echo += (12.0 * np.exp(-(((z - surface) / 0.35) ** 2))).astype(np.float32)


@dataclass(frozen=True, slots=True)
class NeedleState:
    """Needle pose at one instant (world coordinates, before probe motion).

    Attributes
    ----------
    entry : ndarray of shape (2,)
        A point on the shaft outside the image, (x, z) in mm.
    tip : ndarray of shape (2,)
        Tip position.
    direction : ndarray of shape (2,)
        Unit vector from the hub to the tip.
    plane_gain : float
        1 in plane, small while the needle is out of the image plane.
    """

    entry: FloatArray
    tip: FloatArray
    direction: FloatArray
    plane_gain: float


def needle_geometry(params: SimulationParams) -> tuple[FloatArray, FloatArray, float]:
    """Entry point (x, z), unit direction and the longest length that keeps the tip inside the image."""
    theta = math.radians(params.needle_angle_deg)
    sign = 1.0 if params.needle_from_left else -1.0
    direction = np.array([sign * math.cos(theta), math.sin(theta)])
    entry = np.array([0.0 if params.needle_from_left else params.width_mm, params.needle_entry_z_mm])
    lateral_room = params.width_mm - 2 * MARGIN_MM
    depth_room = params.depth_mm - MARGIN_MM - params.needle_entry_z_mm
    longest = min(lateral_room / abs(direction[0]), depth_room / direction[1])
    return entry, direction, max(0.0, min(params.needle_target_length_mm, longest))


def needle_state(params: SimulationParams, t: float) -> NeedleState:
    """Where the needle is at time ``t``."""
    entry, direction, target = needle_geometry(params)
    length = float(np.clip(params.needle_speed_mm_s * (t - params.needle_start_s), 0.0, target))
    gain = 1.0
    if params.out_of_plane_s is not None and params.out_of_plane_s[0] <= t < params.out_of_plane_s[1]:
        gain = 0.05
    return NeedleState(entry - 15.0 * direction, entry + length * direction, direction, gain)


def needle_amplitude(params: SimulationParams, state: NeedleState) -> float:
    """Specular amplitude of the shaft wall (tissue speckle RMS = 1).

    A smooth shaft reflects the beam away at twice its angle to the transducer face, so the echo that
    returns falls steeply with the angle: ``exp(-(angle / falloff)^2)``, plus a small diffuse part from
    surface roughness. Out of plane the echo almost vanishes.
    """
    ratio = params.needle_angle_deg / params.needle_falloff_deg
    specular = math.exp(-(ratio**2)) + params.needle_diffuse
    return float(params.needle_brightness * specular * state.plane_gain)


def _smooth_step(x: NDArray[Any]) -> NDArray[np.float32]:
    """Logistic approximation of the normal cumulative distribution."""
    return np.asarray(1.0 / (1.0 + np.exp(-1.702 * x)), dtype=np.float32)


def _box(params: SimulationParams, a: FloatArray, b: FloatArray, pad_mm: float) -> tuple[slice, slice] | None:
    """Pixel window of the image covering the segment ``a -> b`` (x, z in mm) plus a margin."""
    x0, x1 = sorted((float(a[0]), float(b[0])))
    z0, z1 = sorted((float(a[1]), float(b[1])))
    c0 = max(0, math.floor((x0 - pad_mm) / params.col_spacing_mm))
    c1 = min(params.cols, math.ceil((x1 + pad_mm) / params.col_spacing_mm) + 1)
    r0 = max(0, math.floor((z0 - pad_mm) / params.row_spacing_mm))
    r1 = min(params.rows, math.ceil((z1 + pad_mm) / params.row_spacing_mm) + 1)
    if c1 <= c0 or r1 <= r0:
        return None
    return slice(r0, r1), slice(c0, c1)


def render_needle(state: NeedleState, params: SimulationParams, shift: FloatArray, into: FloatImage) -> None:
    """Add the coherent needle echo (wall, reverberations, bevel) to the real part of a field, in place.

    Parameters
    ----------
    state : NeedleState
        Needle pose.
    params : SimulationParams
        PSF widths, diameter, reverberation decay, brightness.
    shift : ndarray of shape (2,)
        Probe motion (x, z) in mm: image coordinates are world coordinates minus ``shift``.
    into : ndarray of shape (rows, cols), dtype float32
        Real part of the complex echo field after the PSF.
    """
    start, tip, d = state.entry - shift, state.tip - shift, state.direction
    diameter = params.needle_diameter_mm
    n_reverb = len(params.reverb_weights)
    depth_step = diameter / max(abs(float(d[0])), 0.2)  # one diameter, measured along the beam
    box = _box(params, start, tip + np.array([0.0, n_reverb * depth_step]), 4 * params.speckle_mm[1])
    if box is None:
        return
    rows, cols = box
    z = (np.arange(rows.start, rows.stop, dtype=np.float32) * params.row_spacing_mm)[:, None]
    x = (np.arange(cols.start, cols.stop, dtype=np.float32) * params.col_spacing_mm)[None, :]
    sz, sx = params.speckle_mm
    sin_t, cos_t = abs(float(d[1])), abs(float(d[0]))
    across_sigma = math.hypot(sz * cos_t, sx * sin_t)
    along_sigma = math.hypot(sx * cos_t, sz * sin_t)
    normal = np.array([-d[1], d[0]]) * (1.0 if d[0] > 0 else -1.0)  # points deeper
    length = float(np.linalg.norm(tip - start))
    amplitude = needle_amplitude(params, state)
    rel_x = x - np.float32(start[0])
    patch = np.zeros((rows.stop - rows.start, cols.stop - cols.start), dtype=np.float32)
    for k, weight in enumerate((1.0, *params.reverb_weights)):
        rel_z = z - np.float32(start[1] + k * depth_step)
        along = rel_x * np.float32(d[0]) + rel_z * np.float32(d[1])
        across = rel_x * np.float32(normal[0]) + rel_z * np.float32(normal[1])
        ends = _smooth_step(along / np.float32(along_sigma)) * _smooth_step(
            (np.float32(length) - along) / np.float32(along_sigma)
        )
        patch += (
            np.float32(weight * amplitude) * np.exp(-0.5 * (across / np.float32(across_sigma)) ** 2) * ends
        )
    bevel = params.bevel_brightness * state.plane_gain
    r2 = ((x - np.float32(tip[0])) / np.float32(sx)) ** 2 + ((z - np.float32(tip[1])) / np.float32(sz)) ** 2
    patch += np.float32(bevel) * np.exp(-0.5 * r2)
    into[rows, cols] += patch


def shaft_contrast(
    params: SimulationParams, state: NeedleState, shift: FloatArray, echo: FloatImage, lo: float, hi: float
) -> float:
    """Shaft amplitude over the local tissue echo and noise RMS along the visible part of the shaft.

    Parameters
    ----------
    params : SimulationParams
        Noise and attenuation.
    state : NeedleState
        Needle pose.
    shift : ndarray of shape (2,)
        Probe motion (x, z) in mm.
    echo : ndarray of shape (rows, cols)
        Echogenicity of the frame (before speckle).
    lo, hi : float
        Visible part of the segment from the hub to the tip, as fractions of its length.

    Returns
    -------
    float
        Amplitude ratio; 2 means the shaft echo is twice the RMS of what surrounds it.
    """
    start, tip = state.entry - shift, state.tip - shift
    s = np.linspace(lo, hi, 32)
    points = start[None, :] + s[:, None] * (tip - start)[None, :]
    cols = np.clip(np.rint(points[:, 0] / params.col_spacing_mm).astype(np.intp), 0, params.cols - 1)
    rows = np.clip(np.rint(points[:, 1] / params.row_spacing_mm).astype(np.intp), 0, params.rows - 1)
    z = points[:, 1]
    attenuation = 10.0 ** (-params.attenuation_db_mm * z / 20.0)
    power = echo[rows, cols].astype(np.float64) + (params.noise / attenuation) ** 2
    return float(needle_amplitude(params, state) / math.sqrt(float(np.median(power))))


def spread_area(params: SimulationParams, t: float) -> float:
    """Area of the injectate pool at time ``t`` (0 before the onset or when it is not visible)."""
    if params.injection_at_s is None or not params.spread_visible:
        return 0.0
    onset = params.injection_at_s + params.spread_delay_s
    if t < onset:
        return 0.0
    return float(min(params.spread_max_mm2, params.spread_rate_mm2_s * (t - onset)))


def spread_centre(params: SimulationParams) -> FloatArray:
    """Centre of the fluid pool in world coordinates, next to the final tip (or mid-image)."""
    if not params.needle:
        return np.array([params.width_mm / 2, params.depth_mm / 2])
    entry, direction, target = needle_geometry(params)
    tip = entry + target * direction
    normal = np.array([-direction[1], direction[0]]) * (1.0 if direction[0] > 0 else -1.0)
    towards = 0.5 * direction + normal
    return np.asarray(tip + params.spread_offset_mm * towards / np.linalg.norm(towards), dtype=np.float64)


def vessel_and_spread(
    echo: FloatImage,
    params: SimulationParams,
    vessel: tuple[float, float, float] | None,
    t: float,
    shift: FloatArray,
) -> float:
    """Apply vessel pulsation and injectate to the echo crop in place; return the fluid area (mm²).

    The pool is an ellipse (lateral axis 1.8 times the depth axis) of the true area: the echo is halved at
    its outline and anechoic inside, with posterior acoustic enhancement below it (fluid attenuates less).
    """
    z, x = _grid(params.rows, params.cols, params)
    if vessel is not None:
        vx, vz, r0 = vessel
        radius = r0 * (1.0 + 0.12 * math.sin(2 * math.pi * params.heart_rate_hz * t))
        dist = np.sqrt((x - np.float32(vx - shift[0])) ** 2 + (z - np.float32(vz - shift[1])) ** 2)
        echo[dist < radius] = 0.003
        echo += (3.0 * np.exp(-(((dist - radius) / 0.3) ** 2))).astype(np.float32)
    area = spread_area(params, t)
    if area > 0:
        centre = spread_centre(params) - shift
        aspect = 1.8
        ax = math.sqrt(area * aspect / math.pi)
        az = ax / aspect
        dx = (x - np.float32(centre[0])) / np.float32(ax)
        r = np.sqrt(dx**2 + ((z - np.float32(centre[1])) / np.float32(az)) ** 2)
        echo *= np.clip(0.5 + (r - 1.0) / 0.3, 0.003, 1.0).astype(np.float32)
        below = (z > np.float32(centre[1])) & (np.abs(dx) < 1.0)
        echo[below] *= np.float32(1.0 + params.enhancement * min(1.0, area / 30.0))
    return area

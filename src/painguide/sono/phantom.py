"""Anatomy and needle of the B-mode simulator: echogenicity maps and coherent specular reflectors.

The simulator (:mod:`painguide.sono.simulate`) builds each frame from ingredients made here:

- a static tissue **echogenicity** map (mean backscattered power per pixel, in world coordinates): skin, fat
  and muscle layers with bright fascia and striation, an optional bone surface with its acoustic shadow, and
  optional artefacts (reverberation bands below a strong shallow reflector, a calcification with its
  shadow);
- a per-frame **echo factor** map in image coordinates: the pulsatile or compressible vessel lumen, the
  injectate (a round pool or a thin layer along a fascial plane) with posterior enhancement;
- the **needle** as a coherent specular reflector along a possibly bent path: the upper wall, a
  reverberation train below it (copies one diameter apart along the beam, decaying geometrically) and a
  bright bevel at the tip. Each reflector piece is drawn already convolved with the point-spread function,
  projected across the shaft. Out of the beam plane the echo fades with the elevation offset.

Positions are in millimetres from the top-left pixel centre of the image region: ``x_mm = col * col_spacing``,
``z_mm = row * row_spacing``. World coordinates equal image coordinates when the probe is at rest;
:class:`Pose` maps one to the other while the probe moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from painguide.sono.simulate import SimulationParams

__all__ = [
    "NeedleState",
    "Pose",
    "VesselShape",
    "add_artefacts",
    "add_bone",
    "dynamic_factor",
    "needle_amplitude",
    "needle_geometry",
    "needle_state",
    "render_needle",
    "shaft_contrast",
    "spread_area",
    "spread_centre",
    "tissue",
    "vessel_shape",
]

FloatImage = NDArray[np.float32]
FloatArray = NDArray[np.float64]

MARGIN_MM = 3.0
"""The needle tip stays this far inside the image region."""
SEGMENT_MM = 1.0
"""Length of the pieces a bent or fading needle is drawn with."""


@dataclass(frozen=True, slots=True)
class Pose:
    """Probe pose: image point ``p`` sees world point ``c + R(angle) (p - c) + shift``.

    Attributes
    ----------
    shift : ndarray of shape (2,)
        Translation (x, z) in mm.
    angle_deg : float
        In-plane rotation about the image centre ``centre``.
    centre : ndarray of shape (2,)
        Rotation centre (x, z) in mm.
    """

    shift: FloatArray
    angle_deg: float = 0.0
    centre: FloatArray = field(default_factory=lambda: np.zeros(2))

    def rotation(self) -> FloatArray:
        """World-from-image rotation matrix."""
        a = math.radians(self.angle_deg)
        return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])

    def to_image(self, points: FloatArray) -> FloatArray:
        """World points of shape (..., 2) to image coordinates."""
        rel = np.asarray(points, dtype=np.float64) - self.shift - self.centre
        return np.asarray(rel @ self.rotation() + self.centre, dtype=np.float64)

    def to_world(self, points: FloatArray) -> FloatArray:
        """Image points of shape (..., 2) to world coordinates."""
        rel = np.asarray(points, dtype=np.float64) - self.centre
        return np.asarray(rel @ self.rotation().T + self.centre + self.shift, dtype=np.float64)


def _as_pose(pose: Pose | FloatArray) -> Pose:
    return pose if isinstance(pose, Pose) else Pose(np.asarray(pose, dtype=np.float64))


def _grid(rows: int, cols: int, params: SimulationParams) -> tuple[FloatImage, FloatImage]:
    z = (np.arange(rows, dtype=np.float32) * params.row_spacing_mm)[:, None]
    x = (np.arange(cols, dtype=np.float32) * params.col_spacing_mm)[None, :]
    return np.broadcast_to(z, (rows, cols)), np.broadcast_to(x, (rows, cols))


def tissue(
    params: SimulationParams, rng: np.random.Generator, shape: tuple[int, int], origin: tuple[float, float]
) -> FloatImage:
    """Layered echogenicity: bright skin, 2-5 layers with fascia, muscle striation.

    Parameters
    ----------
    params : SimulationParams
        Geometry of the scene.
    rng : numpy.random.Generator
        Random draws of the anatomy.
    shape : tuple of int
        ``(rows, cols)`` of the canvas (image plus motion margin).
    origin : tuple of float
        World ``(x, z)`` in mm of the canvas's top-left pixel.

    Returns
    -------
    ndarray of shape (rows, cols), dtype float32
        Mean backscattered power (tissue speckle is 1 on average).
    """
    z, x = _grid(*shape, params)
    z, x = z + np.float32(origin[1]), x + np.float32(origin[0])
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


def add_bone(
    echo: FloatImage, params: SimulationParams, rng: np.random.Generator, origin: tuple[float, float]
) -> None:
    """Bright curved bone surface with an acoustic shadow beneath, in place."""
    z, x = _grid(echo.shape[0], echo.shape[1], params)
    z, x = z + np.float32(origin[1]), x + np.float32(origin[0])
    depth = rng.uniform(0.65, 0.85) * params.depth_mm
    centre = rng.uniform(0.3, 0.7) * params.width_mm
    curvature = rng.uniform(0.01, 0.04)
    surface = depth + curvature * (x - centre) ** 2
    echo[z > surface + 0.4] *= 0.003
    echo += (12.0 * np.exp(-(((z - surface) / 0.35) ** 2))).astype(np.float32)


def add_artefacts(
    echo: FloatImage, params: SimulationParams, rng: np.random.Generator, origin: tuple[float, float]
) -> None:
    """Reverberation bands below a strong shallow reflector and a calcification's shadow, in place.

    A strong, nearly horizontal reflector at depth ``d`` is repeated at ``2d, 3d, ...`` with decaying
    brightness (the echo bounces between it and the transducer). A calcification is a bright spot with an
    acoustic shadow straight below it down to the bottom of the image.
    """
    z, x = _grid(echo.shape[0], echo.shape[1], params)
    z, x = z + np.float32(origin[1]), x + np.float32(origin[0])
    if params.reverberation_artefact:
        depth = float(rng.uniform(3.0, 8.0))
        brightness = float(rng.uniform(6.0, 12.0))
        tilt = float(rng.uniform(-0.04, 0.04))
        decay = float(rng.uniform(0.4, 0.65))
        x0, x1 = sorted(rng.uniform(0.0, params.width_mm, size=2))
        x1 = max(x1, x0 + 0.4 * params.width_mm)
        lateral = ((x > x0) & (x < x1)).astype(np.float32)
        k = 1
        while k * depth < params.depth_mm:
            surface = k * depth + tilt * k * (x - params.width_mm / 2)
            band = brightness * decay ** (k - 1) * np.exp(-(((z - surface) / 0.25) ** 2)) * lateral
            echo += band.astype(np.float32)
            k += 1
    if params.calcification_shadow:
        cx = float(rng.uniform(0.2, 0.8) * params.width_mm)
        cz = float(rng.uniform(0.2, 0.6) * params.depth_mm)
        half = float(rng.uniform(0.6, 1.5))
        shadow = (np.abs(x - cx) < half) & (z > cz + half)
        echo[shadow] *= 0.02
        echo += (10.0 * np.exp(-(((x - cx) ** 2 + (z - cz) ** 2) / half**2))).astype(np.float32)


@dataclass(frozen=True, slots=True)
class NeedleState:
    """Needle pose at one instant (world coordinates, before probe motion).

    Attributes
    ----------
    entry : ndarray of shape (2,)
        The hub end of the drawn shaft, outside the image (x, z) in mm.
    tip : ndarray of shape (2,)
        Tip position.
    direction : ndarray of shape (2,)
        Unit vector of the distal shaft, towards the tip.
    plane_gain : float
        1 in plane, small while the needle is out of the image plane (gain at the tip).
    path : ndarray of shape (n, 2)
        Points along the shaft from ``entry`` to ``tip``.
    gains : ndarray of shape (n - 1,)
        Echo gain of each piece between path points (elevation fading and out-of-plane episodes).
    bevel_gain : float
        Gain of the bevel echo at the tip (0 when the tip is momentarily out of the beam).
    """

    entry: FloatArray
    tip: FloatArray
    direction: FloatArray
    plane_gain: float
    path: FloatArray
    gains: FloatArray
    bevel_gain: float = 1.0


def _direction(params: SimulationParams) -> FloatArray:
    theta = math.radians(params.needle_angle_deg)
    sign = 1.0 if params.needle_from_left else -1.0
    return np.array([sign * math.cos(theta), math.sin(theta)])


def needle_geometry(params: SimulationParams) -> tuple[FloatArray, FloatArray, float]:
    """Entry point (x, z), unit direction and the longest length that keeps the tip inside the image."""
    direction = _direction(params)
    if params.needle_entry_x_mm is not None:
        entry = np.array([params.needle_entry_x_mm, params.needle_entry_z_mm])
    else:
        entry = np.array([0.0 if params.needle_from_left else params.width_mm, params.needle_entry_z_mm])
    lateral_room = (
        params.width_mm - MARGIN_MM - entry[0] if direction[0] > 0 else entry[0] - MARGIN_MM
    ) / abs(direction[0])
    depth_room = (params.depth_mm - MARGIN_MM - entry[1]) / direction[1]
    longest = min(lateral_room, depth_room)
    if params.needle_entry_x_mm is None:
        longest = min(longest, (params.width_mm - 2 * MARGIN_MM) / abs(direction[0]))
    return entry, direction, max(0.0, min(params.needle_target_length_mm, longest))


def _path(params: SimulationParams, length: float) -> tuple[FloatArray, FloatArray]:
    """Points from 15 mm before the entry to the tip along the (possibly bent) shaft, and arc lengths."""
    entry, direction, _ = needle_geometry(params)
    s = np.concatenate([[-15.0], np.arange(0.0, length, SEGMENT_MM), [length]])
    s = np.unique(s)
    if params.needle_bend_deg == 0.0 and params.needle_deflect_deg == 0.0:
        return entry[None, :] + s[:, None] * direction[None, :], s
    sign = 1.0 if params.needle_from_left else -1.0
    target = max(needle_geometry(params)[2], 1.0)
    turn = params.needle_bend_deg * np.clip(s, 0.0, None) / target
    turn = turn + params.needle_deflect_deg * (s > params.needle_deflect_at * target)
    theta = np.radians(params.needle_angle_deg + turn)
    steps = np.stack([sign * np.cos(theta), np.sin(theta)], axis=1)
    ds = np.diff(s)
    points = np.concatenate([[np.zeros(2)], np.cumsum(steps[:-1] * ds[:, None], axis=0)])
    origin = points[np.searchsorted(s, 0.0)]
    return entry[None, :] + points - origin[None, :], s


def _elevation_gain(params: SimulationParams, s: FloatArray, t: float) -> FloatArray:
    """Echo gain along the shaft from its elevation offset to the beam plane (Gaussian beam profile)."""
    if params.elevation_tilt == 0.0 and params.elevation_drift_mm == 0.0:
        return np.ones_like(s)
    drift = params.elevation_drift_mm * math.sin(2 * math.pi * params.elevation_drift_hz * t)
    offset = params.elevation_offset_mm + drift + params.elevation_tilt * np.clip(s, 0.0, None)
    return np.asarray(np.exp(-((offset / params.elevation_beam_mm) ** 2)), dtype=np.float64)


def needle_length(params: SimulationParams, t: float) -> float:
    """Inserted length past the entry point at time ``t``."""
    _, _, target = needle_geometry(params)
    return float(np.clip(params.needle_speed_mm_s * (t - params.needle_start_s), 0.0, target))


def needle_state(params: SimulationParams, t: float) -> NeedleState:
    """Where the needle is at time ``t``."""
    length = needle_length(params, t)
    path, s = _path(params, length)
    gain = 1.0
    if params.out_of_plane_s is not None and params.out_of_plane_s[0] <= t < params.out_of_plane_s[1]:
        gain = 0.05
    mid = 0.5 * (s[1:] + s[:-1])
    gains = gain * _elevation_gain(params, mid, t)
    tip_gain = float(gain * _elevation_gain(params, np.array([length]), t)[0])
    bevel = tip_gain
    if params.tip_flicker > 0:
        flicker = np.random.default_rng((params.seed, round(t * 1000)))
        bevel *= 0.0 if flicker.random() < params.tip_flicker else 1.0
    d = path[-1] - path[-2] if len(path) > 1 else _direction(params)
    d = d / max(float(np.linalg.norm(d)), 1e-9)
    return NeedleState(path[0], path[-1], d, tip_gain, path, gains, bevel)


def truth_angle_deg(params: SimulationParams, state: NeedleState) -> float:
    """Angle of the chord over the distal 10 mm of the shaft (the trajectory an operator reads)."""
    path = state.path
    distance = np.linalg.norm(path - path[-1], axis=1)
    far = path[int(np.flatnonzero(distance <= 10.0)[0])] if np.any(distance <= 10.0) else path[0]
    chord = path[-1] - far
    if float(np.linalg.norm(chord)) < 1e-6:
        chord = state.direction
    sign = 1.0 if params.needle_from_left else -1.0
    return float(sign * math.degrees(math.atan2(chord[1], abs(chord[0]))))


def needle_amplitude(params: SimulationParams, state: NeedleState) -> float:
    """Specular amplitude of the shaft wall at the tip (tissue speckle RMS = 1).

    A smooth shaft reflects the beam away at twice its angle to the transducer face, so the echo that
    returns falls steeply with the angle: ``exp(-(angle / falloff)^2)``, plus a small diffuse part from
    surface roughness. Out of plane the echo almost vanishes.
    """
    return _flat_amplitude(params) * state.plane_gain


def _flat_amplitude(params: SimulationParams) -> float:
    ratio = params.needle_angle_deg / params.needle_falloff_deg
    return float(params.needle_brightness * (math.exp(-(ratio**2)) + params.needle_diffuse))


def _smooth_step(x: NDArray[np.floating]) -> NDArray[np.float32]:
    """Logistic approximation of the normal cumulative distribution (far below 0 the exponential overflows
    to infinity and the step is 0, as it should be: that overflow is not reported)."""
    with np.errstate(over="ignore"):
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


def _pieces(state: NeedleState, pose: Pose) -> list[tuple[FloatArray, FloatArray, float]]:
    """The shaft as image-coordinate pieces ``(start, end, gain)``; equal-gain straight runs are merged."""
    points = pose.to_image(state.path)
    out: list[tuple[FloatArray, FloatArray, float]] = []
    for i in range(len(points) - 1):
        gain = float(state.gains[i])
        if out and abs(out[-1][2] - gain) < 1e-3:
            a, b, g = out[-1]
            u = (b - a) / max(float(np.linalg.norm(b - a)), 1e-9)
            v = points[i + 1] - points[i]
            if abs(float(u[0] * v[1] - u[1] * v[0])) < 1e-4 * max(float(np.linalg.norm(v)), 1e-9):
                out[-1] = (a, points[i + 1], g)
                continue
        out.append((points[i], points[i + 1], gain))
    return out


def render_needle(
    state: NeedleState, params: SimulationParams, pose: Pose | FloatArray, into: FloatImage
) -> None:
    """Add the coherent needle echo (wall, reverberations, bevel) to the real part of a field, in place.

    Parameters
    ----------
    state : NeedleState
        Needle pose.
    params : SimulationParams
        PSF widths, diameter, reverberation decay, brightness.
    pose : Pose or ndarray of shape (2,)
        Probe pose (a plain array is a translation (x, z) in mm).
    into : ndarray of shape (rows, cols), dtype float32
        Real part of the complex echo field after the PSF.
    """
    pose = _as_pose(pose)
    flat = _flat_amplitude(params)
    for start, end, gain in _pieces(state, pose):
        if gain * flat > 1e-3:
            _render_piece(start, end, flat * gain, params, into)
    tip = pose.to_image(state.tip)
    sz, sx = params.speckle_mm
    box = _box(params, tip, tip, 4 * sx)
    if box is None or state.bevel_gain <= 0:
        return
    rows, cols = box
    z = (np.arange(rows.start, rows.stop, dtype=np.float32) * params.row_spacing_mm)[:, None]
    x = (np.arange(cols.start, cols.stop, dtype=np.float32) * params.col_spacing_mm)[None, :]
    r2 = ((x - np.float32(tip[0])) / np.float32(sx)) ** 2 + ((z - np.float32(tip[1])) / np.float32(sz)) ** 2
    into[rows, cols] += np.float32(params.bevel_brightness * state.bevel_gain) * np.exp(-0.5 * r2)


def _render_piece(
    start: FloatArray, tip: FloatArray, amplitude: float, params: SimulationParams, into: FloatImage
) -> None:
    """One straight piece of shaft: wall echo and reverberation train, smooth at both ends."""
    length = float(np.linalg.norm(tip - start))
    if length < 1e-6:
        return
    d = (tip - start) / length
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
    into[rows, cols] += patch


def visible_pieces(
    state: NeedleState, params: SimulationParams, pose: Pose, *, min_gain: float = 0.5
) -> tuple[float, FloatArray | None, bool]:
    """Length of shaft inside the image with at least ``min_gain``, its farthest point, and the tip's state.

    Returns
    -------
    length : float
        Visible length in mm.
    far : ndarray of shape (2,) or None
        Image point of the visible shaft nearest the tip (``None`` when nothing is visible).
    tip_visible : bool
        Whether the last millimetre of the shaft is inside the image with at least ``min_gain``.
    """
    points = pose.to_image(state.path)
    inside = (
        (points[:, 0] >= 0)
        & (points[:, 0] <= params.width_mm)
        & (points[:, 1] >= 0)
        & (points[:, 1] <= params.depth_mm)
    )
    ok = inside[:-1] & inside[1:] & (state.gains >= min_gain)
    lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)
    length = float(np.sum(lengths[ok]))
    far = points[int(np.flatnonzero(ok)[-1]) + 1] if ok.any() else None
    return length, far, bool(ok[-1]) if ok.size else False


def shaft_contrast(
    params: SimulationParams, state: NeedleState, pose: Pose | FloatArray, echo: FloatImage
) -> float:
    """Shaft amplitude over the local tissue echo and noise RMS along the visible part of the shaft.

    Parameters
    ----------
    params : SimulationParams
        Noise and attenuation.
    state : NeedleState
        Needle pose.
    pose : Pose or ndarray of shape (2,)
        Probe pose.
    echo : ndarray of shape (rows, cols)
        Echogenicity of the frame in image coordinates (before speckle).

    Returns
    -------
    float
        Amplitude ratio over the in-plane part inside the image (0 when none); 2 means the shaft echo is
        twice the RMS of what surrounds it.
    """
    pose = _as_pose(pose)
    points = pose.to_image(state.path)
    mid = 0.5 * (points[1:] + points[:-1])
    inside = (
        (mid[:, 0] >= 0)
        & (mid[:, 0] <= params.width_mm)
        & (mid[:, 1] >= 0)
        & (mid[:, 1] <= params.depth_mm)
        & (state.gains >= 0.5)
    )
    if not inside.any():
        return 0.0
    mid, gains = mid[inside], state.gains[inside]
    cols = np.clip(np.rint(mid[:, 0] / params.col_spacing_mm).astype(np.intp), 0, params.cols - 1)
    rows = np.clip(np.rint(mid[:, 1] / params.row_spacing_mm).astype(np.intp), 0, params.rows - 1)
    attenuation = 10.0 ** (-params.attenuation_db_mm * mid[:, 1] / 20.0)
    power = echo[rows, cols].astype(np.float64) + (params.noise / attenuation) ** 2
    amplitude = _flat_amplitude(params) * float(np.median(gains))
    return float(amplitude / math.sqrt(float(np.median(power))))


def spread_area(params: SimulationParams, t: float) -> float:
    """Area of injected fluid at time ``t`` (0 before the onset or when no fluid is visible)."""
    if params.injection_at_s is None or not (params.spread_visible or params.vessel_distends):
        return 0.0
    onset = params.injection_at_s + params.spread_delay_s
    if t < onset:
        return 0.0
    return float(min(params.spread_max_mm2, params.spread_rate_mm2_s * (t - onset)))


def spread_centre(params: SimulationParams) -> FloatArray:
    """Centre of the fluid pool in world coordinates, next to the tip where the fluid first came out."""
    if not params.needle:
        return np.array([params.width_mm / 2, params.depth_mm / 2])
    onset = (params.injection_at_s or 0.0) + params.spread_delay_s
    state = needle_state(params, onset)
    direction = state.direction
    normal = np.array([-direction[1], direction[0]]) * (1.0 if direction[0] > 0 else -1.0)
    towards = 0.5 * direction + normal
    return np.asarray(
        state.tip + params.spread_offset_mm * towards / np.linalg.norm(towards), dtype=np.float64
    )


@dataclass(frozen=True, slots=True)
class VesselShape:
    """A vessel at one instant, in image coordinates.

    Attributes
    ----------
    x_mm, z_mm : float
        Centre.
    rx_mm, rz_mm : float
        Lateral and depth semi-axes of the lumen.
    """

    x_mm: float
    z_mm: float
    rx_mm: float
    rz_mm: float


def vessel_shape(
    params: SimulationParams, vessel: tuple[float, float, float] | None, t: float, pose: Pose
) -> VesselShape | None:
    """Lumen at time ``t``: pulsation (artery), compression by probe pressure (vein), distension by fluid."""
    if vessel is None:
        return None
    vx, vz, r0 = vessel
    pulse = 1.0 + params.vessel_pulsation * math.sin(2 * math.pi * params.heart_rate_hz * t)
    r = r0 * pulse
    if params.vessel_distends:
        r = math.sqrt(r * r + spread_area(params, t) / math.pi)
    squeeze = 1.0
    if params.vessel_compression > 0:
        press = 0.5 - 0.5 * math.cos(2 * math.pi * params.compression_hz * t)
        squeeze = 1.0 - params.vessel_compression * press
    centre = pose.to_image(np.array([vx, vz]))
    return VesselShape(float(centre[0]), float(centre[1]), r, r * squeeze)


def dynamic_factor(
    params: SimulationParams, vessel: VesselShape | None, t: float, pose: Pose
) -> tuple[FloatImage, float]:
    """Echo factor of the frame (vessel lumen and wall, injectate, enhancement) and the fluid area (mm²).

    The pool is an ellipse of the true area: round-ish (lateral axis 1.8 times the depth axis), or a thin
    layer along a fascial plane (``spread_aspect`` 4-8, tilted by ``spread_tilt_deg``). The echo is halved
    at its outline and anechoic inside, with posterior acoustic enhancement below it.
    """
    z, x = _grid(params.rows, params.cols, params)
    factor = np.ones((params.rows, params.cols), dtype=np.float32)
    if vessel is not None:
        dist = np.sqrt(
            ((x - np.float32(vessel.x_mm)) / np.float32(vessel.rx_mm)) ** 2
            + ((z - np.float32(vessel.z_mm)) / np.float32(vessel.rz_mm)) ** 2
        )
        factor[dist < 1.0] = 0.003
        factor += (3.0 * np.exp(-((((dist - 1.0) * vessel.rx_mm) / 0.3) ** 2))).astype(np.float32)
    area = spread_area(params, t)
    if area > 0 and params.spread_visible:
        centre = pose.to_image(spread_centre(params))
        aspect = params.spread_aspect
        ax = math.sqrt(area * aspect / math.pi)
        az = ax / aspect
        tilt = math.radians(params.spread_tilt_deg - pose.angle_deg)
        rx, rz = x - np.float32(centre[0]), z - np.float32(centre[1])
        u = (rx * np.float32(math.cos(tilt)) + rz * np.float32(math.sin(tilt))) / np.float32(ax)
        v = (-rx * np.float32(math.sin(tilt)) + rz * np.float32(math.cos(tilt))) / np.float32(az)
        r = np.sqrt(u**2 + v**2)
        factor *= np.clip(0.5 + (r - 1.0) / 0.3, 0.003, 1.0).astype(np.float32)
        below = (z > np.float32(centre[1])) & (np.abs(rx) < np.float32(ax))
        factor[below] *= np.float32(1.0 + params.enhancement * min(1.0, area / 30.0))
    return factor, area

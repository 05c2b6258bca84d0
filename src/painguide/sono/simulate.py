"""B-mode cine simulator with exact ground truth, for tests, evaluation and demonstrations.

The image formation follows the usual pseudo-physical recipe: a frozen field of complex scatterers is
weighted by a tissue echogenicity map (layers, fascia, a pulsatile vessel, bone with its acoustic shadow,
injectate), coherent specular reflectors are added for the needle (angle-dependent brightness, reverberation,
bright bevel), the field is convolved with a Gaussian point-spread function, and the envelope is
log-compressed with a gain, a dynamic range and electronic noise. Probe motion shifts the whole scene.

Positions are in millimetres from the top-left pixel centre of the image region: ``x_mm = col * col_spacing``,
``z_mm = row * row_spacing``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.errors import ValidationError
from painguide.sono.frames import Frame, FrameTruth

__all__ = ["SimulatedCine", "SimulationParams", "random_params", "simulate_cine"]

_MARGIN_MM = 3.0
_MIN_VISIBLE_MM = 3.0
_MIN_AMPLITUDE = 2.0  # specular amplitude (tissue speckle = 1) below which a shaft counts as not visible

FloatImage = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class SimulationParams:
    """Everything that defines one simulated cine; the same parameters always give the same cine.

    Attributes
    ----------
    seed : int
        Seed of every random draw of the cine.
    rows, cols : int
        Size of the image region in pixels.
    width_mm, depth_mm : float
        Physical extent of the image region (lateral, depth).
    n_frames : int
        Number of frames.
    frame_rate_hz : float
        Frames per second.
    needle : bool
        Whether a needle is inserted.
    needle_from_left : bool
        Side of insertion; from the left the shaft goes deeper to the right (positive angle).
    needle_angle_deg : float
        Insertion angle to the horizontal, 0-90 degrees.
    needle_entry_z_mm : float
        Depth at which the shaft crosses the image edge.
    needle_target_length_mm : float
        Shaft length inside the image when the needle stops.
    needle_speed_mm_s : float
        Advance speed.
    needle_start_s : float
        Time at which the needle starts advancing from the image edge.
    needle_brightness : float
        Specular amplitude relative to tissue speckle at a flat angle.
    needle_diameter_mm : float
        Outer diameter of the needle.
    out_of_plane_s : tuple of float, optional
        ``(start, end)`` time window during which the needle leaves the image plane.
    injection_at_s : float, optional
        Time of the injection start; ``None`` for no injection.
    spread_delay_s : float
        Delay between the injection start and the first fluid.
    spread_rate_mm2_s : float
        Growth of the fluid area.
    spread_max_mm2 : float
        Final area of the fluid pool.
    spread_offset_mm : float
        Distance between the tip and the pool centre (large values simulate spread away from the tip).
    spread_visible : bool
        ``False`` simulates an injection whose fluid does not appear in the image.
    speckle_mm : tuple of float
        Point-spread-function width ``(axial, lateral)`` in millimetres (one standard deviation).
    gain_db, dynamic_range_db : float
        Display gain and log-compression range.
    noise : float
        Electronic noise amplitude relative to tissue speckle.
    attenuation_db_mm : float
        Uncompensated depth attenuation.
    vessel, bone : bool
        Whether the scene has a pulsatile vessel and a bone surface with acoustic shadow.
    probe_motion_mm : float
        Amplitude of slow probe motion.
    heart_rate_hz : float
        Pulsation frequency of the vessel.
    """

    seed: int = 0
    rows: int = 240
    cols: int = 320
    width_mm: float = 38.0
    depth_mm: float = 30.0
    n_frames: int = 40
    frame_rate_hz: float = 20.0
    needle: bool = True
    needle_from_left: bool = True
    needle_angle_deg: float = 30.0
    needle_entry_z_mm: float = 4.0
    needle_target_length_mm: float = 25.0
    needle_speed_mm_s: float = 15.0
    needle_start_s: float = 0.2
    needle_brightness: float = 6.0
    needle_diameter_mm: float = 0.7
    out_of_plane_s: tuple[float, float] | None = None
    injection_at_s: float | None = None
    spread_delay_s: float = 0.1
    spread_rate_mm2_s: float = 25.0
    spread_max_mm2: float = 40.0
    spread_offset_mm: float = 1.5
    spread_visible: bool = True
    speckle_mm: tuple[float, float] = (0.15, 0.3)
    gain_db: float = 0.0
    dynamic_range_db: float = 50.0
    noise: float = 0.03
    attenuation_db_mm: float = 0.15
    vessel: bool = True
    bone: bool = True
    probe_motion_mm: float = 0.3
    heart_rate_hz: float = 1.1

    @property
    def row_spacing_mm(self) -> float:
        """Depth per row."""
        return self.depth_mm / self.rows

    @property
    def col_spacing_mm(self) -> float:
        """Width per column."""
        return self.width_mm / self.cols


@dataclass(frozen=True, slots=True)
class SimulatedCine:
    """A simulated cine and its exact ground truth.

    Attributes
    ----------
    params : SimulationParams
        The parameters that produced the cine.
    frames : list of Frame
        The frames, in time order.
    truth : list of FrameTruth
        Ground truth, one per frame.
    spread_onset_s : float, optional
        Time at which fluid first appears (``None`` without visible injectate).
    """

    params: SimulationParams
    frames: list[Frame] = field(default_factory=list)
    truth: list[FrameTruth] = field(default_factory=list)
    spread_onset_s: float | None = None


def random_params(
    seed: int,
    *,
    rows: int = 240,
    cols: int = 320,
    n_frames: int = 40,
    needle: bool = True,
    injection: bool = True,
) -> SimulationParams:
    """Draw widely varied simulation parameters (probe, depth, gain, speckle, anatomy, needle).

    Parameters
    ----------
    seed : int
        Seed of the draw and of the resulting cine.
    rows, cols : int
        Image region size in pixels.
    n_frames : int
        Number of frames.
    needle, injection : bool
        Whether the cine has a needle and an injection.

    Returns
    -------
    SimulationParams
        Parameters for :func:`simulate_cine`.
    """
    rng = np.random.default_rng(seed)
    width = float(rng.uniform(30.0, 50.0))
    depth = float(rng.uniform(25.0, 60.0))
    fps = float(rng.choice([15.0, 20.0, 25.0, 30.0]))
    duration = n_frames / fps
    angle = float(rng.uniform(12.0, 50.0))
    speed = float(rng.uniform(8.0, 25.0))
    start = float(rng.uniform(0.0, 0.2 * duration))
    out_of_plane = None
    if needle and rng.random() < 0.2:
        t0 = float(rng.uniform(0.4, 0.7) * duration)
        out_of_plane = (t0, t0 + 0.15 * duration)
    injection_at = float(rng.uniform(0.45, 0.6) * duration) if injection else None
    target = float(rng.uniform(12.0, 40.0))
    if injection_at is not None:
        speed = max(speed, target / max(0.1, injection_at - start - 0.1))
    return SimulationParams(
        seed=seed,
        rows=rows,
        cols=cols,
        width_mm=width,
        depth_mm=depth,
        n_frames=n_frames,
        frame_rate_hz=fps,
        needle=needle,
        needle_from_left=bool(rng.random() < 0.5),
        needle_angle_deg=angle,
        needle_entry_z_mm=float(rng.uniform(1.5, 0.25 * depth)),
        needle_target_length_mm=target,
        needle_speed_mm_s=speed,
        needle_start_s=start,
        needle_brightness=float(rng.uniform(4.0, 12.0)),
        needle_diameter_mm=float(rng.uniform(0.5, 1.0)),
        out_of_plane_s=out_of_plane,
        injection_at_s=injection_at,
        spread_delay_s=float(rng.uniform(0.0, 0.2)),
        spread_rate_mm2_s=float(rng.uniform(15.0, 60.0)),
        spread_max_mm2=float(rng.uniform(25.0, 80.0)),
        spread_offset_mm=float(rng.uniform(0.5, 2.5)),
        speckle_mm=(float(rng.uniform(0.08, 0.25)), float(rng.uniform(0.15, 0.5))),
        gain_db=float(rng.uniform(-6.0, 6.0)),
        dynamic_range_db=float(rng.uniform(40.0, 60.0)),
        noise=float(rng.uniform(0.01, 0.08)),
        attenuation_db_mm=float(rng.uniform(0.05, 0.3)),
        vessel=bool(rng.random() < 0.7),
        bone=bool(rng.random() < 0.6),
        probe_motion_mm=float(rng.uniform(0.0, 0.6)),
        heart_rate_hz=float(rng.uniform(0.8, 1.6)),
    )


@dataclass(frozen=True, slots=True)
class _Scene:
    """Static parts of a scene on a canvas larger than the image by a motion margin."""

    echo: FloatImage
    scatter_re: FloatImage
    scatter_im: FloatImage
    margin: tuple[int, int]
    vessel: tuple[float, float, float] | None
    motion: NDArray[np.float64]


def _grid(rows: int, cols: int, params: SimulationParams) -> tuple[FloatImage, FloatImage]:
    z = (np.arange(rows, dtype=np.float32) * params.row_spacing_mm)[:, None]
    x = (np.arange(cols, dtype=np.float32) * params.col_spacing_mm)[None, :]
    return np.broadcast_to(z, (rows, cols)), np.broadcast_to(x, (rows, cols))


def _tissue(params: SimulationParams, rng: np.random.Generator, shape: tuple[int, int]) -> FloatImage:
    """Layered echogenicity with skin, fat, fascia and muscle striation."""
    z, x = _grid(*shape, params)
    echo = np.full(shape, 1.0, dtype=np.float32)
    skin = float(rng.uniform(1.0, 2.5))
    echo[z < skin] = 2.5
    interfaces = np.sort(rng.uniform(skin + 2.0, params.depth_mm * 0.9, size=int(rng.integers(2, 5))))
    levels = rng.uniform(0.35, 1.4, size=interfaces.size + 1).astype(np.float32)
    phase = rng.uniform(0, 2 * math.pi, size=interfaces.size)
    wave = rng.uniform(0.3, 1.5, size=interfaces.size)
    tilt = rng.uniform(-0.12, 0.12, size=interfaces.size)
    layer = np.zeros(shape, dtype=np.int32)
    for i, depth in enumerate(interfaces):
        surface = depth + tilt[i] * (x - params.width_mm / 2) + wave[i] * np.sin(x / 7.0 + phase[i])
        layer += (z > surface).astype(np.int32)
        echo += (2.0 * np.exp(-(((z - surface) / 0.25) ** 2))).astype(np.float32)
    echo *= levels[layer]
    striation = 1.0 + 0.35 * np.sin(2 * math.pi * (z + 0.2 * x) / rng.uniform(1.0, 2.5))
    echo *= striation.astype(np.float32)
    return echo


def _add_bone(echo: FloatImage, params: SimulationParams, rng: np.random.Generator) -> None:
    """Bright curved bone surface with an acoustic shadow beneath."""
    z, x = _grid(echo.shape[0], echo.shape[1], params)
    depth = rng.uniform(0.65, 0.85) * params.depth_mm
    centre = rng.uniform(0.3, 0.7) * params.width_mm
    curvature = rng.uniform(0.01, 0.04)
    surface = depth + curvature * (x - centre) ** 2
    echo[z > surface + 0.4] *= 0.003
    echo += (12.0 * np.exp(-(((z - surface) / 0.35) ** 2))).astype(np.float32)


def _make_scene(params: SimulationParams, rng: np.random.Generator) -> _Scene:
    margin = (
        math.ceil(params.probe_motion_mm / params.row_spacing_mm) + 1,
        math.ceil(params.probe_motion_mm / params.col_spacing_mm) + 1,
    )
    shape = (params.rows + 2 * margin[0], params.cols + 2 * margin[1])
    echo = _tissue(params, rng, shape)
    if params.bone:
        _add_bone(echo, params, rng)
    vessel = None
    if params.vessel:
        vessel = (
            float(rng.uniform(0.15, 0.85) * params.width_mm),
            float(rng.uniform(0.35, 0.65) * params.depth_mm),
            float(rng.uniform(1.5, 3.5)),
        )
    scatter = rng.standard_normal((2, *shape)).astype(np.float32)
    n = params.n_frames
    t = np.arange(n) / params.frame_rate_hz
    phases = rng.uniform(0, 2 * math.pi, size=2)
    motion = np.stack(
        [
            params.probe_motion_mm * np.sin(2 * math.pi * 0.3 * t + phases[0]),
            0.5 * params.probe_motion_mm * np.sin(2 * math.pi * 0.2 * t + phases[1]),
        ],
        axis=1,
    )
    return _Scene(echo, scatter[0], scatter[1], margin, vessel, motion)


def _clip_segment(
    p0: NDArray[np.float64], p1: NDArray[np.float64], width: float, depth: float
) -> tuple[float, float]:
    """Liang-Barsky clip of segment ``p0 -> p1`` (x, z) to the image; returns the kept parameter range."""
    t0, t1 = 0.0, 1.0
    delta = p1 - p0
    for p, q in (
        (-delta[0], p0[0]),
        (delta[0], width - p0[0]),
        (-delta[1], p0[1]),
        (delta[1], depth - p0[1]),
    ):
        if abs(p) < 1e-12:
            if q < 0:
                return 1.0, 0.0
            continue
        r = q / p
        if p < 0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
    return t0, t1


@dataclass(frozen=True, slots=True)
class _NeedleState:
    entry: NDArray[np.float64]
    tip: NDArray[np.float64]
    direction: NDArray[np.float64]
    plane_gain: float


def _needle_geometry(params: SimulationParams) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Entry point (x, z), unit direction and the longest length that keeps the tip inside the image."""
    theta = math.radians(params.needle_angle_deg)
    sign = 1.0 if params.needle_from_left else -1.0
    direction = np.array([sign * math.cos(theta), math.sin(theta)])
    entry = np.array([0.0 if params.needle_from_left else params.width_mm, params.needle_entry_z_mm])
    lateral_room = params.width_mm - 2 * _MARGIN_MM
    depth_room = params.depth_mm - _MARGIN_MM - params.needle_entry_z_mm
    longest = min(lateral_room / abs(direction[0]), depth_room / direction[1])
    return entry, direction, max(0.0, min(params.needle_target_length_mm, longest))


def _needle_state(params: SimulationParams, t: float) -> _NeedleState:
    entry, direction, target = _needle_geometry(params)
    length = float(np.clip(params.needle_speed_mm_s * (t - params.needle_start_s), 0.0, target))
    gain = 1.0
    if params.out_of_plane_s is not None and params.out_of_plane_s[0] <= t < params.out_of_plane_s[1]:
        gain = 0.05
    return _NeedleState(entry - 15.0 * direction, entry + length * direction, direction, gain)


def _needle_amplitude(params: SimulationParams, state: _NeedleState) -> float:
    """Specular amplitude of the shaft: falls with the angle to the beam's perpendicular and out of plane."""
    amplitude = params.needle_brightness * math.cos(math.radians(params.needle_angle_deg)) ** 1.5
    return float(amplitude * state.plane_gain)


def _render_needle(
    state: _NeedleState, params: SimulationParams, shift: NDArray[np.float64], rng: np.random.Generator
) -> FloatImage:
    """Coherent amplitude of shaft, reverberation and bevel in image coordinates."""
    z, x = _grid(params.rows, params.cols, params)
    start = state.entry - shift
    tip = state.tip - shift
    d = state.direction
    length = float(np.linalg.norm(tip - start))
    rel_x, rel_z = x - start[0], z - start[1]
    along = rel_x * d[0] + rel_z * d[1]
    radius = params.needle_diameter_mm / 2 + 0.5 * params.speckle_mm[0]
    brightness = _needle_amplitude(params, state)
    inside = np.clip((length - along) / 0.15, 0.0, 1.0) * (along > 0)
    amp = np.zeros((params.rows, params.cols), dtype=np.float32)
    ripple = 1.0 + 0.15 * np.sin(along * rng.uniform(0.8, 1.6) + rng.uniform(0, 6.3))
    spacing = 2.0 * params.needle_diameter_mm
    for k, weight in enumerate((1.0, 0.4, 0.18, 0.08)):
        across = (rel_x * -d[1] + (rel_z - k * spacing) * d[0]) / radius
        amp += (weight * brightness * np.exp(-(across**2)) * inside * ripple).astype(np.float32)
    tip_r2 = ((x - tip[0]) ** 2 + (z - tip[1]) ** 2) / (1.2 * radius) ** 2
    amp += (0.9 * brightness * np.exp(-tip_r2)).astype(np.float32)
    return amp


def _spread_area(params: SimulationParams, t: float) -> float:
    if params.injection_at_s is None or not params.spread_visible:
        return 0.0
    onset = params.injection_at_s + params.spread_delay_s
    if t < onset:
        return 0.0
    return float(min(params.spread_max_mm2, params.spread_rate_mm2_s * (t - onset)))


def _spread_centre(params: SimulationParams) -> NDArray[np.float64]:
    """Centre of the fluid pool in world coordinates, next to the final tip (or mid-image)."""
    if not params.needle:
        return np.array([params.width_mm / 2, params.depth_mm / 2])
    entry, direction, target = _needle_geometry(params)
    tip = entry + target * direction
    normal = np.array([-direction[1], direction[0]]) * (1.0 if direction[0] > 0 else -1.0)
    return tip + params.spread_offset_mm * (0.5 * direction + normal) / np.linalg.norm(
        0.5 * direction + normal
    )


def _dynamic_echo(
    echo: FloatImage, params: SimulationParams, scene: _Scene, t: float, shift: NDArray[np.float64]
) -> float:
    """Apply vessel pulsation and injectate to a copy of the echo crop in place; return the fluid area."""
    z, x = _grid(params.rows, params.cols, params)
    if scene.vessel is not None:
        vx, vz, r0 = scene.vessel
        radius = r0 * (1.0 + 0.12 * math.sin(2 * math.pi * params.heart_rate_hz * t))
        dist = np.sqrt((x - (vx - shift[0])) ** 2 + (z - (vz - shift[1])) ** 2)
        echo[dist < radius] = 0.02
        echo += (3.0 * np.exp(-(((dist - radius) / 0.3) ** 2))).astype(np.float32)
    area = _spread_area(params, t)
    if area > 0:
        centre = _spread_centre(params) - shift
        aspect = 1.8
        ax = math.sqrt(area * aspect / math.pi)
        az = ax / aspect
        r = np.sqrt(((x - centre[0]) / ax) ** 2 + ((z - centre[1]) / az) ** 2)
        echo *= np.clip((r - 0.85) / 0.3, 0.03, 1.0).astype(np.float32)
    return area


def _envelope_to_grey(env: FloatImage, params: SimulationParams) -> NDArray[np.uint8]:
    z = (np.arange(params.rows, dtype=np.float32) * params.row_spacing_mm)[:, None]
    db = 20.0 * np.log10(env + 1e-6) - params.attenuation_db_mm * z + params.gain_db
    dr = params.dynamic_range_db
    grey = np.clip((db + 0.45 * dr) * (255.0 / dr), 0, 255).astype(np.uint8)
    return np.asarray(cv2.GaussianBlur(grey, (3, 3), 0.7), dtype=np.uint8)


def simulate_cine(params: SimulationParams) -> SimulatedCine:
    """Simulate a B-mode cine with exact ground truth.

    Parameters
    ----------
    params : SimulationParams
        What to simulate; the seed makes the result reproducible.

    Returns
    -------
    SimulatedCine
        Frames of shape ``(params.rows, params.cols)`` and their ground truth.
    """
    if params.rows < 32 or params.cols < 32 or params.n_frames < 1:
        raise ValidationError("rows/cols/n_frames", "need at least 32x32 pixels and one frame")
    rng = np.random.default_rng(params.seed)
    scene = _make_scene(params, rng)
    frames: list[Frame] = []
    truth: list[FrameTruth] = []
    for index in range(params.n_frames):
        frame, frame_truth = _simulate_frame(params, scene, index, rng)
        frames.append(frame)
        truth.append(frame_truth)
    onset = None
    if params.injection_at_s is not None and params.spread_visible:
        onset = params.injection_at_s + params.spread_delay_s
    return SimulatedCine(params, frames, truth, onset)


def _simulate_frame(
    params: SimulationParams, scene: _Scene, index: int, rng: np.random.Generator
) -> tuple[Frame, FrameTruth]:
    t = index / params.frame_rate_hz
    shift_px = (
        round(scene.motion[index, 1] / params.row_spacing_mm),
        round(scene.motion[index, 0] / params.col_spacing_mm),
    )
    shift = np.array([shift_px[1] * params.col_spacing_mm, shift_px[0] * params.row_spacing_mm])
    r0, c0 = scene.margin[0] + shift_px[0], scene.margin[1] + shift_px[1]
    window = np.s_[r0 : r0 + params.rows, c0 : c0 + params.cols]
    echo = scene.echo[window].copy()
    area = _dynamic_echo(echo, params, scene, t, shift)
    amplitude = np.sqrt(echo)
    sigma = (params.speckle_mm[0] / params.row_spacing_mm, params.speckle_mm[1] / params.col_spacing_mm)
    norm = _blur_norm(sigma)
    blur = cv2.GaussianBlur
    re = np.asarray(blur(scene.scatter_re[window] * amplitude, (0, 0), sigma[1], sigmaY=sigma[0]), np.float32)
    im = np.asarray(blur(scene.scatter_im[window] * amplitude, (0, 0), sigma[1], sigmaY=sigma[0]), np.float32)
    re /= norm
    im /= norm
    state = None
    if params.needle:
        state = _needle_state(params, t)
        re += _render_needle(state, params, shift, rng)
    noise = rng.standard_normal((2, params.rows, params.cols)).astype(np.float32) * params.noise
    env = np.sqrt((re + noise[0]) ** 2 + (im + noise[1]) ** 2)
    frame = Frame(
        _envelope_to_grey(env, params),
        params.row_spacing_mm,
        params.col_spacing_mm,
        t,
        index,
        f"simulated:{params.seed}",
    )
    return frame, _truth(params, state, shift, area)


def _blur_norm(sigma: tuple[float, float]) -> float:
    """Standard deviation of unit white noise after the Gaussian blur (to keep speckle at unit level)."""
    ky = cv2.getGaussianKernel(2 * math.ceil(4 * sigma[0]) + 1, sigma[0])
    kx = cv2.getGaussianKernel(2 * math.ceil(4 * sigma[1]) + 1, sigma[1])
    return float(math.sqrt(float(np.sum(ky**2)) * float(np.sum(kx**2))))


def _truth(
    params: SimulationParams, state: _NeedleState | None, shift: NDArray[np.float64], area: float
) -> FrameTruth:
    nan = float("nan")
    spread_x = spread_z = nan
    if area > 0:
        spread_x, spread_z = (float(v) for v in _spread_centre(params) - shift)
    if state is None:
        return FrameTruth(False, nan, nan, nan, 0.0, area > 0, area, spread_x, spread_z)
    start, tip = state.entry - shift, state.tip - shift
    lo, hi = _clip_segment(start, tip, params.width_mm, params.depth_mm)
    visible_length = max(0.0, hi - lo) * float(np.linalg.norm(tip - start))
    visible = visible_length >= _MIN_VISIBLE_MM and _needle_amplitude(params, state) >= _MIN_AMPLITUDE
    sign = 1.0 if params.needle_from_left else -1.0
    return FrameTruth(
        visible,
        float(tip[0]),
        float(tip[1]),
        sign * params.needle_angle_deg,
        visible_length,
        area > 0,
        area,
        spread_x,
        spread_z,
    )


def with_seed(params: SimulationParams, seed: int) -> SimulationParams:
    """Return ``params`` with another seed (same scene recipe, new random draws)."""
    return replace(params, seed=seed)

"""B-mode cine simulator with exact ground truth, for tests, evaluation and demonstrations.

Image formation (complex baseband, i.e. after quadrature demodulation of the RF echo):

1. a frozen field of complex Gaussian scatterers is weighted by the amplitude of the tissue echogenicity
   (:mod:`painguide.sono.phantom`: layers, fascia, vessel, bone and shadow, injectate);
2. the field is convolved with a separable Gaussian point-spread function whose axial width (set by the
   pulse length) is smaller than its lateral width (set by the beam), so speckle cells are wider than tall;
3. the needle is added as a coherent specular reflector already shaped by the PSF (wall, reverberation
   train, bevel), with a brightness that falls steeply with its angle to the transducer face;
4. depth attenuation scales the echo, then electronic noise is added (so noise dominates deep down);
5. the envelope (modulus) is log-compressed: time-gain compensation (most of the attenuation plus a
   residual slider curve), overall gain, and a display dynamic range of 45-70 dB mapped to 0-255, followed
   by mild display smoothing.

Probe motion moves and rocks the probe by fractions of a pixel. Positions are in millimetres from the
top-left pixel centre of the image region: ``x_mm = col * col_spacing``, ``z_mm = row * row_spacing``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.errors import ValidationError
from painguide.sono import phantom
from painguide.sono.frames import Frame, FrameTruth

__all__ = ["SimulatedCine", "SimulationParams", "random_params", "simulate_cine", "with_seed"]

MIN_VISIBLE_MM = 3.0
"""Shortest shaft inside the image that counts as a visible needle."""
MIN_CONTRAST = 2.0
"""Shaft echo over the RMS of the surrounding tissue echo and noise below which the needle is not visible."""

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
        Specular amplitude of a flat shaft relative to the tissue speckle RMS.
    needle_falloff_deg : float
        Angle scale of the specular fall-off ``exp(-(angle / falloff)^2)``.
    needle_diffuse : float
        Angle-independent part of the shaft echo (surface roughness), as a fraction of the flat echo.
    needle_diameter_mm : float
        Outer diameter (22 G is about 0.7 mm); sets the reverberation spacing.
    reverb_weights : tuple of float
        Amplitudes of the reverberation copies below the shaft, relative to the wall echo.
    bevel_brightness : float
        Amplitude of the echo of the bevel at the tip.
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
    enhancement : float
        Posterior acoustic enhancement below the pool (fraction of extra echo power).
    speckle_mm : tuple of float
        Point-spread-function width ``(axial, lateral)`` in millimetres (one standard deviation).
    gain_db, dynamic_range_db : float
        Overall gain and log-compression range of the display.
    tissue_level : float
        Where an echo of the average tissue power falls within the dynamic range (0-1) at 0 dB gain.
    tgc_db : tuple of float
        Residual time-gain-compensation curve: dB at equally spaced depths from the top to the bottom.
    tgc_compensation : float
        Fraction of the depth attenuation that the time-gain compensation removes.
    noise : float
        Electronic noise amplitude relative to the tissue speckle RMS at the skin.
    attenuation_db_mm : float
        Round-trip depth attenuation.
    compounding : float
        Weight (0-1) of a locally averaged envelope mixed into the envelope, as spatial compounding and
        speckle reduction do: it fills the deepest speckle nulls.
    smoothing_px : float
        Standard deviation of the display smoothing, in pixels.
    vessel, bone : bool
        Whether the scene has a pulsatile vessel and a bone surface with acoustic shadow.
    probe_motion_mm : float
        Amplitude of slow probe motion (sub-pixel).
    heart_rate_hz : float
        Pulsation frequency of the vessel.
    needle_entry_x_mm : float, optional
        Lateral position where the shaft enters at ``needle_entry_z_mm`` (mid-probe entry); ``None``
        enters at the side edge.
    needle_bend_deg, needle_deflect_deg : float
        Gradual bend over the target length, and a sudden deflection at ``needle_deflect_at`` (fraction
        of the target length), both in degrees (positive turns deeper).
    elevation_offset_mm, elevation_tilt, elevation_drift_mm, elevation_drift_hz, elevation_beam_mm : float
        Out-of-plane geometry: the shaft's distance from the beam plane is ``offset + drift sin(2 pi f t)
        + tilt * s`` at arc length ``s``; the echo falls as ``exp(-(distance / beam)^2)``.
    tip_flicker : float
        Probability that the bevel echo is missing in a frame.
    probe_rotation_deg : float
        Amplitude of the in-plane probe rotation (rocking) about the image centre.
    spread_aspect, spread_tilt_deg : float
        Shape of the injectate: 1.8 is a round pool, 4-8 a layer along a fascial plane, tilted.
    vessel_at : tuple of float, optional
        ``(x, z, radius)`` of the vessel in mm; ``None`` draws a random place.
    vessel_pulsation : float
        Relative radius change over the cardiac cycle (0 for a vein).
    vessel_compression, compression_hz : float
        Fraction by which probe pressure flattens the vessel (a vein), and the pressing frequency.
    vessel_distends : bool
        The injectate goes into the vessel, which swells by the injected area (no local pool).
    vessel_doppler : bool
        Frames carry a colour-Doppler box: the lumen is coloured while the flow is fast.
    reverberation_artefact, calcification_shadow : bool
        Artefacts: repeated bands below a strong shallow reflector, and a calcification with its shadow.
    family : str
        Name of the scene family the parameters were drawn for.
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
    needle_brightness: float = 10.0
    needle_falloff_deg: float = 30.0
    needle_diffuse: float = 0.1
    needle_diameter_mm: float = 0.7
    reverb_weights: tuple[float, ...] = (0.5, 0.25, 0.12)
    bevel_brightness: float = 4.0
    out_of_plane_s: tuple[float, float] | None = None
    injection_at_s: float | None = None
    spread_delay_s: float = 0.1
    spread_rate_mm2_s: float = 25.0
    spread_max_mm2: float = 40.0
    spread_offset_mm: float = 1.5
    spread_visible: bool = True
    enhancement: float = 0.3
    speckle_mm: tuple[float, float] = (0.1, 0.3)
    gain_db: float = 0.0
    dynamic_range_db: float = 55.0
    tissue_level: float = 0.5
    tgc_db: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
    tgc_compensation: float = 0.9
    noise: float = 0.01
    attenuation_db_mm: float = 0.5
    compounding: float = 0.3
    smoothing_px: float = 0.6
    vessel: bool = True
    bone: bool = True
    probe_motion_mm: float = 0.3
    heart_rate_hz: float = 1.1
    needle_entry_x_mm: float | None = None
    needle_bend_deg: float = 0.0
    needle_deflect_deg: float = 0.0
    needle_deflect_at: float = 0.5
    elevation_offset_mm: float = 0.0
    elevation_tilt: float = 0.0
    elevation_drift_mm: float = 0.0
    elevation_drift_hz: float = 0.3
    elevation_beam_mm: float = 0.8
    tip_flicker: float = 0.0
    probe_rotation_deg: float = 0.0
    spread_aspect: float = 1.8
    spread_tilt_deg: float = 0.0
    vessel_at: tuple[float, float, float] | None = None
    vessel_pulsation: float = 0.12
    vessel_compression: float = 0.0
    compression_hz: float = 0.4
    vessel_distends: bool = False
    vessel_doppler: bool = False
    reverberation_artefact: bool = False
    calcification_shadow: bool = False
    family: str = ""

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


def _imaging(rng: np.random.Generator, depth: float) -> dict[str, object]:
    """Probe and display settings: deeper views use lower frequencies (coarser speckle, more noise)."""
    frequency_scale = math.sqrt(depth / 40.0)
    return {
        "speckle_mm": (
            float(rng.uniform(0.06, 0.12) * frequency_scale),
            float(rng.uniform(0.22, 0.45) * frequency_scale),
        ),
        "gain_db": float(rng.uniform(-6.0, 6.0)),
        "dynamic_range_db": float(rng.uniform(45.0, 70.0)),
        "tissue_level": float(rng.uniform(0.45, 0.7)),
        "tgc_db": tuple(float(v) for v in rng.uniform(-5.0, 5.0, size=4)),
        "tgc_compensation": float(rng.uniform(0.75, 1.0)),
        "noise": float(rng.uniform(0.001, 0.01)),
        "attenuation_db_mm": float(rng.uniform(0.2, 0.6)) / frequency_scale,
        "compounding": float(rng.uniform(0.0, 0.7)),
        "smoothing_px": float(rng.uniform(0.4, 1.0)),
    }


def _needle_draws(rng: np.random.Generator, depth: float) -> dict[str, object]:
    diameter = float(rng.uniform(0.5, 0.9))
    decay = float(rng.uniform(0.3, 0.6))
    return {
        "needle_from_left": bool(rng.random() < 0.5),
        "needle_angle_deg": float(rng.uniform(10.0, 55.0)),
        "needle_entry_z_mm": float(rng.uniform(1.5, 0.25 * depth)),
        "needle_brightness": float(rng.uniform(6.0, 16.0)),
        "needle_falloff_deg": float(rng.uniform(22.0, 36.0)),
        "needle_diffuse": float(rng.uniform(0.05, 0.2)),
        "needle_diameter_mm": diameter,
        "reverb_weights": tuple(decay**k for k in range(1, int(rng.integers(2, 6)))),
        "bevel_brightness": float(rng.uniform(1.5, 6.0)),
    }


def random_params(
    seed: int,
    *,
    rows: int = 240,
    cols: int = 320,
    n_frames: int = 40,
    needle: bool = True,
    injection: bool = True,
) -> SimulationParams:
    """Draw widely varied simulation parameters (probe, depth, gain, TGC, speckle, anatomy, needle).

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
    depth = float(rng.uniform(30.0, 80.0))
    fps = float(rng.choice([15.0, 20.0, 25.0, 30.0]))
    duration = n_frames / fps
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
        needle_target_length_mm=target,
        needle_speed_mm_s=speed,
        needle_start_s=start,
        out_of_plane_s=out_of_plane,
        injection_at_s=injection_at,
        spread_delay_s=float(rng.uniform(0.0, 0.2)),
        spread_rate_mm2_s=float(rng.uniform(15.0, 60.0)),
        spread_max_mm2=float(rng.uniform(25.0, 80.0)),
        spread_offset_mm=float(rng.uniform(0.5, 2.5)),
        enhancement=float(rng.uniform(0.1, 0.6)),
        vessel=bool(rng.random() < 0.7),
        bone=bool(rng.random() < 0.6),
        probe_motion_mm=float(rng.uniform(0.0, 0.6)),
        heart_rate_hz=float(rng.uniform(0.8, 1.6)),
        **_imaging(rng, depth),  # type: ignore[arg-type]
        **_needle_draws(rng, depth),  # type: ignore[arg-type]
    )


@dataclass(frozen=True, slots=True)
class _Scene:
    """Static parts of a scene on a canvas larger than the image by a motion margin.

    The complex tissue echo is formed once on the canvas (scatterers times echogenicity, through the
    point-spread function); each frame resamples it at the probe pose, so motion is sub-pixel.
    """

    echo: FloatImage
    field_re: FloatImage
    field_im: FloatImage
    origin: tuple[float, float]
    vessel: tuple[float, float, float] | None
    poses: list[phantom.Pose]


def _motion(params: SimulationParams, rng: np.random.Generator) -> list[phantom.Pose]:
    t = np.arange(params.n_frames) / params.frame_rate_hz
    phases = rng.uniform(0, 2 * math.pi, size=3)
    x = params.probe_motion_mm * np.sin(2 * math.pi * 0.3 * t + phases[0])
    z = 0.5 * params.probe_motion_mm * np.sin(2 * math.pi * 0.2 * t + phases[1])
    angle = params.probe_rotation_deg * np.sin(2 * math.pi * 0.25 * t + phases[2])
    centre = np.array([params.width_mm / 2, params.depth_mm / 2])
    return [phantom.Pose(np.array([x[i], z[i]]), float(angle[i]), centre) for i in range(params.n_frames)]


def _draw_vessel(params: SimulationParams, rng: np.random.Generator) -> tuple[float, float, float] | None:
    drawn = (
        float(rng.uniform(0.15, 0.85) * params.width_mm),
        float(rng.uniform(0.35, 0.65) * params.depth_mm),
        float(rng.uniform(1.5, 3.5)),
    )
    if not params.vessel:
        return None
    return params.vessel_at if params.vessel_at is not None else drawn


def _make_scene(params: SimulationParams, rng: np.random.Generator) -> _Scene:
    reach = params.probe_motion_mm + math.radians(params.probe_rotation_deg) * 0.5 * math.hypot(
        params.width_mm, params.depth_mm
    )
    margin = (math.ceil(reach / params.row_spacing_mm) + 3, math.ceil(reach / params.col_spacing_mm) + 3)
    origin = (-margin[1] * params.col_spacing_mm, -margin[0] * params.row_spacing_mm)
    shape = (params.rows + 2 * margin[0], params.cols + 2 * margin[1])
    echo = phantom.tissue(params, rng, shape, origin)
    if params.bone:
        phantom.add_bone(echo, params, rng, origin)
    vessel = _draw_vessel(params, rng)
    scatter = rng.standard_normal((2, *shape), dtype=np.float32)
    poses = _motion(params, rng)
    art_rng = np.random.default_rng((params.seed, 7))
    phantom.add_artefacts(echo, params, art_rng, origin)
    amplitude = np.sqrt(echo)
    sigma_z = params.speckle_mm[0] / params.row_spacing_mm
    sigma_x = params.speckle_mm[1] / params.col_spacing_mm
    norm = np.float32(_blur_norm((sigma_z, sigma_x)) * math.sqrt(2.0))
    fields = [
        np.asarray(cv2.GaussianBlur(s * amplitude, (0, 0), sigma_x, sigmaY=sigma_z), np.float32) / norm
        for s in scatter
    ]
    return _Scene(echo, fields[0], fields[1], origin, vessel, poses)


def _depth_mm(params: SimulationParams) -> NDArray[np.float32]:
    """Depth of each row, as a column vector of shape (rows, 1)."""
    return (np.arange(params.rows, dtype=np.float32) * np.float32(params.row_spacing_mm))[:, None]


def _envelope_to_grey(env: FloatImage, params: SimulationParams) -> NDArray[np.uint8]:
    """Log compression with time-gain compensation, gain and dynamic range, then display smoothing."""
    z = _depth_mm(params)
    depths = np.linspace(0.0, params.depth_mm, len(params.tgc_db))
    tgc = params.tgc_compensation * params.attenuation_db_mm * z[:, 0] + np.interp(
        z[:, 0], depths, params.tgc_db
    )
    db = 20.0 * np.log10(env + np.float32(1e-6)) + (tgc + params.gain_db).astype(np.float32)[:, None]
    dr = params.dynamic_range_db
    scale = np.float32(255.0 / dr)
    grey = np.clip((db + np.float32(params.tissue_level * dr)) * scale, 0, 255).astype(np.uint8)
    sigma = params.smoothing_px
    return np.asarray(cv2.GaussianBlur(grey, (0, 0), sigma), dtype=np.uint8)


def _warp_matrix(params: SimulationParams, scene: _Scene, pose: phantom.Pose) -> NDArray[np.float64]:
    """Affine map from image pixels (col, row) to canvas pixels (``cv2.warpAffine``, inverse map)."""
    sx, sz = params.col_spacing_mm, params.row_spacing_mm
    scale = np.diag([sx, sz])
    rot = pose.rotation()
    linear = np.diag([1 / sx, 1 / sz]) @ rot @ scale
    offset = (rot @ (-pose.centre) + pose.centre + pose.shift - np.array(scene.origin)) / np.array([sx, sz])
    return np.hstack([linear, offset[:, None]])


def _resample(params: SimulationParams, image: FloatImage, matrix: NDArray[np.float64]) -> FloatImage:
    out = cv2.warpAffine(
        image,
        matrix,
        (params.cols, params.rows),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT,
    )
    return np.asarray(out, dtype=np.float32)


def simulate_cine(
    params: SimulationParams, *, progress: Callable[[int], object] | None = None
) -> SimulatedCine:
    """Simulate a B-mode cine with exact ground truth.

    Parameters
    ----------
    params : SimulationParams
        What to simulate; the seed makes the result reproducible.
    progress : callable, optional
        Called with the number of frames done after each frame.

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
        if progress is not None:
            progress(index + 1)
    onset = None
    if params.injection_at_s is not None and (params.spread_visible or params.vessel_distends):
        onset = params.injection_at_s + params.spread_delay_s
    return SimulatedCine(params, frames, truth, onset)


def _simulate_frame(
    params: SimulationParams, scene: _Scene, index: int, rng: np.random.Generator
) -> tuple[Frame, FrameTruth]:
    t = index / params.frame_rate_hz
    pose = scene.poses[index]
    matrix = _warp_matrix(params, scene, pose)
    vessel = phantom.vessel_shape(params, scene.vessel, t, pose)
    factor, area = phantom.dynamic_factor(params, vessel, t, pose)
    amplitude = np.sqrt(factor)
    re = _resample(params, scene.field_re, matrix) * amplitude
    im = _resample(params, scene.field_im, matrix) * amplitude
    echo = _resample(params, scene.echo, matrix) * factor
    state = None
    if params.needle:
        state = phantom.needle_state(params, t)
        phantom.render_needle(state, params, pose, re)
    attenuation = np.power(np.float32(10.0), -np.float32(params.attenuation_db_mm / 20.0) * _depth_mm(params))
    noise = rng.standard_normal((2, params.rows, params.cols), dtype=np.float32) * np.float32(params.noise)
    env = np.sqrt((re * attenuation + noise[0]) ** 2 + (im * attenuation + noise[1]) ** 2)
    if params.compounding > 0:
        sigma = (params.speckle_mm[0] / params.row_spacing_mm, params.speckle_mm[1] / params.col_spacing_mm)
        local = cv2.GaussianBlur(env, (0, 0), sigma[1], sigmaY=sigma[0])
        env = np.asarray(cv2.addWeighted(env, 1.0 - params.compounding, local, params.compounding, 0.0))
    grey = _envelope_to_grey(env, params)
    colour = _doppler(params, grey, vessel, t) if params.vessel_doppler and vessel is not None else None
    if colour is not None:
        grey = np.asarray(cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    frame = Frame(
        grey,
        params.row_spacing_mm,
        params.col_spacing_mm,
        t,
        index,
        f"simulated:{params.seed}",
        colour,
    )
    return frame, _truth(params, state, pose, area, echo, vessel)


def _doppler(
    params: SimulationParams, grey: NDArray[np.uint8], vessel: phantom.VesselShape, t: float
) -> NDArray[np.uint8]:
    """Colour-Doppler frame (RGB): the lumen coloured red while the flow is above the wall filter."""
    colour = np.repeat(grey[:, :, None], 3, axis=2)
    phase = (params.heart_rate_hz * t) % 1.0
    velocity = max(0.0, math.sin(2 * math.pi * phase)) if params.vessel_pulsation > 0 else 0.6
    if velocity < 0.2:
        return colour
    z, x = _depth_mm(params), (np.arange(params.cols, dtype=np.float32) * params.col_spacing_mm)[None, :]
    r = np.sqrt(((x - vessel.x_mm) / vessel.rx_mm) ** 2 + ((z - vessel.z_mm) / vessel.rz_mm) ** 2)
    lumen = r < 0.85
    level = np.uint8(110 + 140 * velocity)
    colour[lumen] = (level, 20, 20)
    return colour


def _blur_norm(sigma: tuple[float, float]) -> float:
    """Standard deviation of unit white noise after the Gaussian blur (to keep speckle at unit level)."""
    ky = cv2.getGaussianKernel(2 * math.ceil(4 * sigma[0]) + 1, sigma[0])
    kx = cv2.getGaussianKernel(2 * math.ceil(4 * sigma[1]) + 1, sigma[1])
    return float(math.sqrt(float(np.sum(ky**2)) * float(np.sum(kx**2))))


def _truth(
    params: SimulationParams,
    state: phantom.NeedleState | None,
    pose: phantom.Pose,
    area: float,
    echo: FloatImage,
    vessel: phantom.VesselShape | None,
) -> FrameTruth:
    nan = float("nan")
    spread_x = spread_z = nan
    if area > 0:
        centre = (
            (vessel.x_mm, vessel.z_mm)
            if params.vessel_distends and vessel is not None
            else tuple(pose.to_image(phantom.spread_centre(params)))
        )
        spread_x, spread_z = float(centre[0]), float(centre[1])
    vessels = () if vessel is None else ((vessel.x_mm, vessel.z_mm, vessel.rx_mm, vessel.rz_mm),)
    common = {
        "spread_visible": area > 0,
        "spread_area_mm2": area,
        "spread_x_mm": spread_x,
        "spread_z_mm": spread_z,
        "vessels": vessels,
        "fluid_in_vessel": area > 0 and params.vessel_distends,
    }
    if state is None:
        return FrameTruth(False, nan, nan, nan, 0.0, tip_visible=False, **common)  # type: ignore[arg-type]
    visible_length, _, tip_in = phantom.visible_pieces(state, params, pose)
    visible = visible_length >= MIN_VISIBLE_MM
    if visible:
        visible = phantom.shaft_contrast(params, state, pose, echo) >= MIN_CONTRAST
    tip = pose.to_image(state.tip)
    angle = phantom.truth_angle_deg(params, state) - pose.angle_deg
    return FrameTruth(
        visible,
        float(tip[0]),
        float(tip[1]),
        angle,
        visible_length,
        tip_visible=visible and tip_in,
        **common,  # type: ignore[arg-type]
    )


def with_seed(params: SimulationParams, seed: int) -> SimulationParams:
    """Return ``params`` with another seed (same scene recipe, new random draws)."""
    return replace(params, seed=seed)

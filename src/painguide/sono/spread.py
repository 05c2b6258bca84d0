"""Injectate spread: appearance and growth of anechoic fluid, relative to a learned per-pixel echo floor.

Fluid is anechoic, so where it spreads the local mean grey level falls well below what it was. Vessels,
acoustic shadows and cysts are anechoic already; the floor (the darkest local mean seen at each place) is
learned from the frames before the injection starts (at least ``baseline_s`` seconds, covering a cardiac
cycle), so they are ignored afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.sono.frames import Frame
from painguide.sono.ridge import working_image

__all__ = ["ShiftEstimator", "SpreadDetector", "SpreadObservation"]


@dataclass(frozen=True, slots=True)
class SpreadObservation:
    """Injectate seen in one frame.

    Attributes
    ----------
    visible : bool
        Whether new anechoic fluid of at least the minimum area is present.
    area_mm2 : float
        Total area of the new fluid.
    centre_x_mm, centre_z_mm : float
        Centroid of the largest fluid region (``nan`` when none).
    distance_to_tip_mm : float
        Shortest distance from the needle tip to the fluid (``nan`` without a tip or fluid).
    contours_mm : list of ndarray of shape (n, 2)
        Outlines of the fluid regions as (x_mm, z_mm) points, for drawing.
    """

    visible: bool
    area_mm2: float = 0.0
    centre_x_mm: float = float("nan")
    centre_z_mm: float = float("nan")
    distance_to_tip_mm: float = float("nan")
    contours_mm: list[NDArray[np.float64]] = field(default_factory=list)


class ShiftEstimator:
    """Global translation of an image against a fixed reference, by phase correlation.

    The reference spectrum is computed once; each call costs one forward and one inverse DFT of the
    (downsampled) image. The spectra are kept in OpenCV's packed form for real images (CCS: the half of
    the spectrum that determines the rest), which costs about a third of the full complex spectrum. The
    peak of the phase-correlation surface is refined to a fraction of a pixel by a parabola through its
    neighbours in each direction.

    Parameters
    ----------
    reference : ndarray
        The reference image (any numeric type).
    min_peak : float
        A correlation peak below this (the image changed too much to be matched) gives ``None``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = cv2.GaussianBlur(rng.random((64, 80)).astype(np.float32), (0, 0), 1.5)
    >>> moved = np.roll(ref, (2, -3), axis=(0, 1))
    >>> dx, dy = ShiftEstimator(ref)(moved)
    >>> round(dx, 1), round(dy, 1)
    (-3.0, 2.0)
    """

    def __init__(self, reference: NDArray[np.generic], *, min_peak: float = 0.05) -> None:
        rows, cols = reference.shape[:2]
        self._shape = (cv2.getOptimalDFTSize(rows), cv2.getOptimalDFTSize(cols))
        self._window = cv2.createHanningWindow((cols, rows), cv2.CV_32F)
        self._padded = np.zeros(self._shape, dtype=np.float32)
        self._partner, self._real, frequency = _packed_layout(*self._shape)
        self._reference = self._spectrum(reference)
        self.min_peak = min_peak
        # a Gaussian low-pass (sigma 1 pixel) of the whitened cross-spectrum makes the correlation peak
        # smooth, so that a parabola through the logarithms of its samples finds its centre
        fy = np.fft.fftfreq(self._shape[0]).astype(np.float32)
        fx = np.fft.fftfreq(self._shape[1]).astype(np.float32)
        weight = np.exp(np.float32(-2.0 * math.pi**2) * (fy[:, None] ** 2 + fx[None, :] ** 2))
        self._lowpass = np.asarray(weight[frequency], dtype=np.float32)

    def _spectrum(self, image: NDArray[np.generic]) -> NDArray[np.float32]:
        """The packed spectrum of ``image`` less its mean, windowed and padded with zeros."""
        x = np.asarray(image, dtype=np.float32)
        rows, cols = x.shape[:2]
        np.multiply(x - np.float32(x.mean()), self._window, out=self._padded[:rows, :cols])
        return np.asarray(cv2.dft(self._padded), dtype=np.float32)

    def __call__(self, image: NDArray[np.generic]) -> tuple[float, float] | None:
        """Shift ``(dx, dy)`` in pixels of ``image`` against the reference: ``image(x) = reference(x - d)``.

        Returns ``None`` when the correlation peak is weaker than ``min_peak``.
        """
        spectrum = cv2.mulSpectrums(self._spectrum(image), self._reference, 0, conjB=True)
        cross: NDArray[np.float32] = np.asarray(spectrum, dtype=np.float32)
        # each entry over the modulus of its complex value (the other part is 0 for a real entry)
        other = cross.reshape(-1)[self._partner]
        other[self._real] = 0.0
        # the modulus in NumPy: cv2.magnitude may round the last bit differently with the arrays' alignment
        other = other.reshape(cross.shape)
        magnitude = np.sqrt(cross * cross + other * other)
        magnitude += np.float32(1e-6)
        np.multiply(cross, self._lowpass / magnitude, out=cross)
        surface = cv2.idft(cross, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
        _, peak, _, (px, py) = cv2.minMaxLoc(surface)
        if peak < self.min_peak:
            return None
        rows, cols = surface.shape
        floor = 1e-3 * peak
        dx = px + _vertex(surface[py, (px - 1) % cols], peak, surface[py, (px + 1) % cols], floor)
        dy = py + _vertex(surface[(py - 1) % rows, px], peak, surface[(py + 1) % rows, px], floor)
        return (dx - cols if dx > cols / 2 else dx), (dy - rows if dy > rows / 2 else dy)


def _packed_layout(
    rows: int, cols: int
) -> tuple[NDArray[np.intp], NDArray[np.intp], tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Where the parts of the complex values lie in OpenCV's packed (CCS) spectrum of a real image.

    Columns ``2j - 1`` and ``2j`` hold the real and imaginary parts of column ``j`` of the full spectrum.
    The first column (and the last one when ``cols`` is even) holds a column of the full spectrum that is
    the transform of a real sequence, packed the same way down the rows: row 0 (and the last row when
    ``rows`` is even) is real, rows ``2k - 1`` and ``2k`` hold frequency ``k``.

    Returns
    -------
    partner : ndarray of shape (rows * cols,)
        Flat index of the other part of each entry's complex value (itself for a real entry).
    real : ndarray
        Flat indices of the real entries.
    frequency : tuple of ndarray of shape (rows, cols)
        Row and column of the full spectrum that each entry belongs to.
    """
    r, c = np.indices((rows, cols))
    ky, kx = r.copy(), (c + 1) // 2
    partner_r, partner_c = r.copy(), np.where(c % 2 == 1, c + 1, c - 1)
    packed = [0, cols - 1] if cols % 2 == 0 else [0]
    for col in packed:
        kx[:, col] = 0 if col == 0 else cols // 2
        partner_c[:, col] = col
        down = np.arange(rows)
        ky[:, col] = (down + 1) // 2
        partner_r[:, col] = np.where(down % 2 == 1, down + 1, down - 1)
        partner_r[0, col] = 0
        if rows % 2 == 0:
            partner_r[rows - 1, col] = rows - 1
    partner = (partner_r * cols + partner_c).reshape(-1)
    real = np.flatnonzero(partner == np.arange(rows * cols))
    return partner, real, (ky, kx)


class ProbeMotion:
    """In-plane probe motion (translation and rotation) of an image against a fixed reference.

    The left and right halves are matched separately by phase correlation (:class:`ShiftEstimator`);
    their mean shift is the translation, and the difference of their vertical shifts over the distance
    between the halves' centres is the rotation (a rocking probe lifts one side and lowers the other).

    Parameters
    ----------
    reference : ndarray
        The reference image.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> ref = cv2.GaussianBlur(rng.random((90, 120)).astype(np.float32), (0, 0), 1.2)
    >>> turn = cv2.getRotationMatrix2D((59.5, 44.5), -1.5, 1.0)  # 1.5 degrees, image axes
    >>> moved = cv2.warpAffine(ref, turn, (120, 90), borderMode=cv2.BORDER_REFLECT)
    >>> motion = ProbeMotion(ref)(moved)
    >>> round(math.degrees(math.atan2(motion[1, 0], motion[0, 0])), 1)
    1.5
    """

    def __init__(self, reference: NDArray[np.generic]) -> None:
        rows, cols = reference.shape[:2]
        self._half = cols // 2
        self._left = ShiftEstimator(reference[:, : self._half])
        self._right = ShiftEstimator(reference[:, cols - self._half :])
        self._span = float(cols - self._half)
        self._centre = ((cols - 1) / 2.0, (rows - 1) / 2.0)

    def __call__(self, image: NDArray[np.generic]) -> NDArray[np.float64] | None:
        """The affine map (2 by 3) from reference to image coordinates, or ``None`` when a half fails."""
        left = self._left(image[:, : self._half])
        right = self._right(image[:, image.shape[1] - self._half :])
        if left is None or right is None:
            return None
        angle = math.atan2(right[1] - left[1], self._span)
        dx, dy = (left[0] + right[0]) / 2.0, (left[1] + right[1]) / 2.0
        return rigid(angle, dx, dy, self._centre)


def rigid(angle: float, dx: float, dy: float, centre: tuple[float, float]) -> NDArray[np.float64]:
    """The 2 by 3 affine map of a rotation by ``angle`` (radians, image axes) about ``centre`` followed by
    a shift ``(dx, dy)``."""
    c, s = math.cos(angle), math.sin(angle)
    cx, cy = centre
    return np.array([[c, -s, cx - c * cx + s * cy + dx], [s, c, cy - s * cx - c * cy + dy]], dtype=np.float64)


def _scaled(motion: NDArray[np.float64], factor: float) -> NDArray[np.float64]:
    """The same motion in pixels ``factor`` times smaller (the rotation is unchanged)."""
    out = motion.copy()
    out[:, 2] *= factor
    return out


def _compose(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """The affine map ``a`` after ``b`` (2 by 3 each)."""
    product = np.vstack([a, [0.0, 0.0, 1.0]]) @ np.vstack([b, [0.0, 0.0, 1.0]])
    return np.asarray(product[:2], dtype=np.float64)


def _inverse(a: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(cv2.invertAffineTransform(a), dtype=np.float64)


def _point(a: NDArray[np.float64], x: float, z: float) -> tuple[float, float]:
    """The point ``(x, z)`` carried by the affine map ``a`` (2 by 3)."""
    return float(a[0, 0] * x + a[0, 1] * z + a[0, 2]), float(a[1, 0] * x + a[1, 1] * z + a[1, 2])


_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


_Pixel = TypeVar("_Pixel", np.uint8, np.float32)


def _moved(
    image: NDArray[_Pixel], move: NDArray[np.float64], *, outside: int | None = None
) -> NDArray[_Pixel]:
    """``image`` carried by the affine map ``move``: the result at ``move(p)`` is the image at ``p``
    (bilinear, of the same type); where no ``p`` inside the image maps, the border repeats, or the value
    is ``outside``. Unchanged when no pixel moves by 0.05 px or more."""
    size = (image.shape[1], image.shape[0])
    reach = np.abs(move - _IDENTITY) @ np.array([size[0], size[1], 1.0])
    if float(reach.max()) < 0.05:
        return image
    return np.asarray(
        cv2.warpAffine(
            image,
            move,
            size,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE if outside is None else cv2.BORDER_CONSTANT,
            borderValue=0 if outside is None else outside,
        ),
        dtype=image.dtype,
    )


def _median(values: NDArray[np.float32]) -> NDArray[np.float32]:
    """Median along the last axis (as ``np.median``, without its overhead on small arrays)."""
    ordered = np.sort(values, axis=-1)
    n = ordered.shape[-1]
    return np.asarray(0.5 * (ordered[..., (n - 1) // 2] + ordered[..., n // 2]), dtype=np.float32)


def _vertex(before: float, centre: float, after: float, floor: float) -> float:
    """Offset of the centre of a Gaussian through three equally spaced samples (within ±0.5)."""
    before, centre, after = (math.log(max(v, floor)) for v in (before, centre, after))
    curvature = before - 2.0 * centre + after
    if curvature >= 0:
        return 0.0
    return max(-0.5, min(0.5, 0.5 * (before - after) / curvature))


class _BandWindow(NamedTuple):
    """The window of the learning's coordinates that holds the shaft band's bounding box."""

    level: NDArray[np.uint8]  # this frame's level there
    corner: tuple[int, int]  # the window's top left corner (row, column) in the learning's coordinates
    back: NDArray[np.float64]  # this frame to the learning's coordinates
    to_window: NDArray[np.float64]  # the band's box in this frame to the window

    def marks(self, marks: NDArray[np.uint8]) -> NDArray[np.bool_]:
        """Marks over the band's box (255 where so) moved into the window."""
        size = (self.level.shape[1], self.level.shape[0])
        return np.asarray(cv2.warpAffine(marks, self.to_window, size, flags=cv2.INTER_LINEAR) > 127)


class SpreadDetector:
    """Detect new anechoic fluid as a drop of the local echo level below a learned per-pixel floor.

    While learning, the detector keeps, for every working pixel, the darkest 1 mm local mean seen so far:
    vessels (over their whole pulsation), shadows and cysts are dark in this floor already. When learning
    stops, the floor is spread by a minimum filter of ``motion_mm``; with ``register`` it is learned in the
    coordinates of the first frame and moved with the probe onto every later frame. After
    that, a pixel holds fluid when its local mean falls below the floor by more than ``drop`` times the
    median tissue level, or, along a tracked needle shaft, when it is darker than the rest of the shaft's
    band in the same frame (``under_shaft``). Once the injection has started, within ``near_tip_mm`` of the
    needle tip, where the fluid comes out, a smaller drop (``near_drop``) below the floor before its
    widening also counts, and where that floor is black, near a tip at rest, a fall below the level since the
    tip came to rest (``rest_drop``). Without a tracked needle after the injection start, the smaller drop
    also counts within ``vessel_mm`` of the dark structures of the floor (a vein that swells). Such cores
    are then grown over the connected pixels whose level fell by ``edge_fraction`` of their learned mean, to
    reach the outline of the pool.

    Parameters
    ----------
    work_spacing_mm : float
        Pixel size of the working image.
    drop : float
        Fall of the local mean below the floor, as a fraction of the median tissue grey level, that marks
        fluid.
    min_area_mm2 : float
        Smallest fluid area reported.
    baseline_s : float
        Learning time when no injection start is signalled (free-running analysis); it should cover a
        cardiac cycle and the slow probe motion. Frames before an injection start are always used.
    min_learning_s : float
        Shortest learning time before a signalled injection start can stop the learning.
    motion_mm : float
        Width of the minimum filter that widens the floor (a residual of the registration, and probe
        motion when ``register`` is off).
    edge_fraction : float
        A fluid region extends over the connected pixels whose local mean fell by this fraction of its
        learned mean (the outline of the pool, where the echo is about halved).
    bridge_mm : float
        Gaps up to this size inside the fluid are closed (needle echoes crossing the pool).
    register : bool
        Follow probe motion (translation and rotation, :class:`ProbeMotion`): learn the floor in the
        coordinates of the first learning frame and move it onto each frame.
    register_spacing_mm : float
        Pixel size of the image matched for the registration.
    under_shaft : bool
        Look for fluid in the band along and below a tracked needle shaft by comparing each place with the
        rest of that band in the same frame (see :meth:`_fluid_under_shaft`): the learned floor there is
        the tissue before the needle came, which the shaft's echo and reverberations keep covered.
    smooth_ratio : float
        In that band, a place below the band's usual level also counts as fluid where its speckle along
        the shaft (gradient energy) fell below this fraction of the band's usual energy (0: level only).
    smooth_drop : float
        Such a smooth place counts only where its level also lies below the band's usual by this fraction
        of the drop margin: tissue with little speckle of its own is smooth at its usual level, fluid
        under the shaft's reverberations is smooth and darker.
    band_mm : float
        Depth of that band below the shaft (the shaft's echo and its reverberations).
    reach_mm : float
        Length of the shaft, back from the tip, that the band covers.
    near_tip_mm : float
        Radius of the disc around the needle tip (the last one seen) in which, after a signalled injection
        start, fluid is also looked for with ``near_drop`` against the floor that is not widened by
        ``motion_mm`` (0 turns this off).
    near_drop : float
        Fall of the local mean below that floor, as a fraction of the median tissue grey level, that
        marks fluid near the tip.
    near_wide_mm, near_wide_deg : float
        Once the registration places the probe more than this far (or turned by more than this) from where
        it was while learning, the tests near the tip and near the dark structures of the floor take the
        floor widened by ``motion_mm`` within ``vessel_mm`` of those structures (0 and 0 turn this off; see
        :meth:`_near_maps`).
    rest_still : bool
        Test the level at rest (``rest_drop``) only while the floor as learned is used there: once the
        probe has moved by those limits, the lumen that holds a tip moves against its level at rest.
    rest_in_lumens : bool
        Test the level at rest also within ``vessel_mm`` of the dark structures of the floor (vessel
        lumens). Off by default: in a lumen that holds the tip the level moves with the pulse and the flow
        below any level at rest, which is not a pool (an intravascular injection shows none); a bone's
        shadow, the place the test is for, reaches the bottom of the image and is no such structure.
    tip_path : bool
        Look for that fluid along the whole path of the tip since the injection start, not only around the
        last tip: fluid that came out while the needle still advanced stays behind it.
    quiet_ratio : float
        In the band under the shaft, the shaft's own echo included, a place is quiet where its speckle
        along the shaft fell below this fraction of the band's usual energy at that depth (fluid under
        the shaft's echo leaves only the smooth echo; the level there barely falls).
    loud_ratio : float
        A place is loud where that energy is at least this fraction of the usual.
    quiet_frames : int
        A place that was loud in the band before (or came into it after the band's first frame, behind an
        advancing needle) and then stays quiet for this many frames in a row is fluid (0 turns this off;
        see :meth:`_still_quiet`).
    fall_drop : float
        In the band under the shaft, a place below the band's usual level also counts as fluid where its
        level fell below its own highest level in the band in earlier frames by this fraction of the drop
        margin (0 turns this off; see :meth:`_fell_in_band`).
    settle_mm : float
        That highest level is kept only from frames in which the place lay at least this far back from the
        band's end near the tip (the passing tip's bright end is not the place's own level).
    fall_steady : float
        Only places whose mean level while learning lay within this fraction of the drop margin above
        their floor are tested so (steady tissue; a pulsating vessel wall varies over the heart cycle).
    contrast_drop : float
        In the band under the shaft, the rows of the shaft's own echo included, a place also counts as fluid
        where its level fell below its own highest level in the band in earlier frames by this fraction of
        the drop margin while its local contrast rose above ``contrast_rise`` times its own earlier contrast
        there, for ``contrast_frames`` frames in a row, after the injection start (0 turns this off; see
        :meth:`_contrast_fell`).
    contrast_rise : float
        That rise of the local contrast (standard deviation of the working image over 1 mm) over the
        place's earlier contrast in the band.
    contrast_frames : int
        Frames in a row a place must fall so before it counts.
    lost_reach_mm : float
        When the needle is lost while it advanced (by at least ``lost_advance_mm`` along its line over the
        last ``lost_window_s`` it was seen), the area near the tip also covers the needle's line beyond the
        last tip seen, as far as the needle went on at that speed since, up to this length (0 turns this
        off; see :meth:`_lost_ahead`).
    lost_window_s : float
        Time over which the needle's speed along its line is measured, back from the last frame it was seen.
    lost_advance_mm : float
        Least advance along the line over that time for a needle to count as advancing (a tip at rest
        jitters by tenths of a millimetre).
    rest_drop : float
        Where the learned floor near a tip at rest is black (below the ``near_drop`` margin, so no fall
        below it can show), a place also holds fluid when its level falls below the darkest level it had
        since the needle came to rest there by this fraction of the median tissue grey level (0 turns this
        off; see :meth:`_fell_at_rest`).
    rest_frames : int
        Frames with the tip at rest (the last one at or after the injection start) over which that darkest
        level is taken before the comparison starts.
    rest_mm : float
        A tip tracked within this distance of where it came to rest is still at rest there.
    rest_steady : float
        Only places whose mean level while learning lay within this fraction of the drop margin above their
        black floor are tested so (black on the whole; the wall of a vessel the tip lies in moves in and out
        of places whose floor is the black lumen).
    vessel_mm : float
        After the injection start, in a frame without a tracked needle, fluid is also looked for with
        ``near_drop`` within this distance of the dark structures of the learned floor (vessels): a vein
        the fluid goes into swells beyond its lumen, also where the tip is not seen (0 turns this off; see
        :meth:`_near_vessels`).
    lumen_levels : tuple of float
        Those structures are the connected places whose floor lies below one of these fractions of the
        median tissue grey level (each level taken on its own: a vein joined to a shadow at one level may
        stand alone at a darker one).
    lumen_mm2 : float
        Smallest such structure (opened by 1 mm, not touching the bottom of the image, where shadows end).
    behind_mm : float
        Once the tracked tip lies ``behind_advance_mm`` or more from where it was at the injection start
        (the needle moved on while the fluid came out), the places within this distance of that start whose
        level fell in the shaft's band against their own earlier level there (:meth:`_fell_in_band` and
        :meth:`_contrast_fell`) count as fluid cores without the 3-pixel opening (0 turns this off; see
        :meth:`_left_behind`).
    behind_advance_mm : float
        How far the tip must lie from where it was at the injection start for that.
    behind_rest_s : float
        Once the tip has been at rest this long (its level at rest set, ``rest_frames`` and ``rest_mm``), what
        falls behind it is no longer kept that way: fluid the needle left while it moved shows within that
        time of its stop, and the rest rules see to the pool at the resting tip.
    """

    def __init__(
        self,
        *,
        work_spacing_mm: float = 0.25,
        drop: float = 0.1,
        min_area_mm2: float = 1.0,
        baseline_s: float = 1.5,
        min_learning_s: float = 0.5,
        motion_mm: float = 0.5,
        edge_fraction: float = 0.25,
        bridge_mm: float = 3.0,
        register: bool = True,
        register_spacing_mm: float = 0.5,
        under_shaft: bool = True,
        smooth_ratio: float = 0.3,
        smooth_drop: float = 0.5,
        band_mm: float = 2.5,
        reach_mm: float = 10.0,
        near_tip_mm: float = 5.0,
        near_drop: float = 0.06,
        near_wide_mm: float = 1.0,
        near_wide_deg: float = 1.0,
        rest_still: bool = True,
        rest_in_lumens: bool = False,
        tip_path: bool = True,
        quiet_ratio: float = 0.2,
        loud_ratio: float = 0.5,
        quiet_frames: int = 3,
        fall_drop: float = 0.5,
        settle_mm: float = 0.5,
        fall_steady: float = 0.25,
        contrast_drop: float = 0.3,
        contrast_rise: float = 1.15,
        contrast_frames: int = 2,
        lost_reach_mm: float = 15.0,
        lost_window_s: float = 0.3,
        lost_advance_mm: float = 1.0,
        rest_drop: float = 0.03,
        rest_frames: int = 3,
        rest_mm: float = 0.5,
        rest_steady: float = 1.0,
        vessel_mm: float = 3.0,
        lumen_levels: tuple[float, ...] = (0.3, 0.5),
        lumen_mm2: float = 2.0,
        behind_mm: float = 3.0,
        behind_advance_mm: float = 1.0,
        behind_rest_s: float = 0.5,
    ) -> None:
        self.work_spacing_mm = work_spacing_mm
        self.drop = drop
        self.min_area_mm2 = min_area_mm2
        self.baseline_s = baseline_s
        self.min_learning_s = min_learning_s
        self.motion_mm = motion_mm
        self.edge_fraction = edge_fraction
        self.register = register
        self._register_factor = max(1, round(register_spacing_mm / work_spacing_mm))
        # working pixels to the coarse ones matched: their centres sit f/2 - 1/2 working pixels in
        f, half = self._register_factor, (self._register_factor - 1) / 2.0
        self._to_coarse = np.array([[1.0 / f, 0.0, -half / f], [0.0, 1.0 / f, -half / f]])
        self._from_coarse = _inverse(self._to_coarse)
        self._motion_estimator: ProbeMotion | None = None
        self._motion = _IDENTITY.copy()
        self.under_shaft = under_shaft
        self.smooth_ratio = smooth_ratio
        self.smooth_drop = smooth_drop
        self.band_mm = band_mm
        self.reach_mm = reach_mm
        self.near_tip_mm = near_tip_mm
        self.near_drop = near_drop
        self.near_wide_mm = near_wide_mm
        self.near_wide_deg = near_wide_deg
        self.rest_still = rest_still
        self.rest_in_lumens = rest_in_lumens
        self._near: NDArray[np.uint8] | None = None
        self._near_wide: NDArray[np.uint8] | None = None
        self.tip_path = tip_path
        self.quiet_ratio = quiet_ratio
        self.loud_ratio = loud_ratio
        self.quiet_frames = quiet_frames
        self._quiet: NDArray[np.uint8] | None = None  # frames in a row each place was quiet
        self._heard: NDArray[np.uint8] | None = None  # 0 never in the band, 1 in it, 2 loud or new there
        self.fall_drop = fall_drop
        self.settle_mm = settle_mm
        self._kept: NDArray[np.uint8] | None = None  # highest level of each place in the band (0: never)
        self.fall_steady = fall_steady
        self._steady_map: NDArray[np.bool_] | None = None
        self.contrast_drop = contrast_drop
        self.contrast_rise = contrast_rise
        self.contrast_frames = contrast_frames
        # per place in the learning's coordinates: highest level in the band (0: never), its contrast there
        # (running mean) and the frames in a row it fell with its contrast raised
        self._contrast_level: NDArray[np.uint8] | None = None
        self._contrast_usual: NDArray[np.float32] | None = None
        self._contrast_count: NDArray[np.uint8] | None = None
        self._source: tuple[float, float] | None = None
        self.lost_reach_mm = lost_reach_mm
        self.lost_window_s = lost_window_s
        self.lost_advance_mm = lost_advance_mm
        # the shafts seen over the last ``lost_window_s``: time, then its ends in the learning's coordinates
        self._seen: list[tuple[float, float, float, float, float]] = []
        self.rest_drop = rest_drop
        self.rest_frames = rest_frames
        self.rest_mm = rest_mm
        self.rest_steady = rest_steady
        self.vessel_mm = vessel_mm
        self.lumen_levels = lumen_levels
        self.lumen_mm2 = lumen_mm2
        self.behind_mm = behind_mm
        self.behind_advance_mm = behind_advance_mm
        self.behind_rest_s = behind_rest_s
        self._lumens: NDArray[np.uint8] | None = None
        self._structures: NDArray[np.uint8] | None = None  # the dark structures themselves, not widened
        self._lumen_open = cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (round(1.0 / work_spacing_mm) | 1, round(1.0 / work_spacing_mm) | 1)
        )
        # where the tip came to rest (the learning's coordinates), the darkest level of each place since
        # (the learning's coordinates), the frames counted, and whether that level is set
        self._rest_tip: tuple[float, float] | None = None
        self._rest_level: NDArray[np.uint8] | None = None
        self._rest_count = 0
        self._rest_from = 0.0  # the time of the first frame of the tip's current rest
        self._rest_set = False
        self._shaft: tuple[float, float, float, float] | None = None
        self._tissue_level = 0.0
        self._floor: NDArray[np.uint8] | None = None
        self._sum: NDArray[np.float32] | None = None
        self._count = 0
        self._threshold: NDArray[np.uint8] | None = None
        self._edge: NDArray[np.uint8] | None = None
        self._frozen = False
        self._first_time: float | None = None
        size = max(3, round(1.0 / work_spacing_mm))
        self._box = (size, size)
        grow = round(motion_mm / work_spacing_mm) | 1
        self._grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))
        self._open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        bridge = round(bridge_mm / work_spacing_mm) | 1
        self._close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (bridge, bridge)) if bridge > 1 else None

    def _near_from(
        self, floor: NDArray[np.float32], mean: NDArray[np.float32], margin: np.float32
    ) -> NDArray[np.uint8]:
        """The near-tip threshold (``margin`` below ``floor``) and outline maps, stacked on the last axis."""
        edge = np.minimum(
            mean * np.float32(1.0 - self.edge_fraction), floor - margin + np.float32(0.5) * margin
        )
        return np.asarray(np.clip(np.stack([floor - margin, edge], axis=-1), 0, 255), dtype=np.uint8)

    def _moved_near_lumens(self) -> bool:
        """Whether the near-tip tests take the widened floor near the dark structures of the floor now: there
        are such structures, and the registration places the probe more than ``near_wide_mm`` from where it
        was while learning or turned by more than ``near_wide_deg``."""
        if self._near_wide is None:
            return False
        m = self._motion
        turned = abs(math.degrees(math.atan2(m[1, 0], m[0, 0])))
        shifted = math.hypot(m[0, 2], m[1, 2]) * self.work_spacing_mm
        return (self.near_wide_deg > 0 and turned > self.near_wide_deg) or (
            self.near_wide_mm > 0 and shifted > self.near_wide_mm
        )

    def _near_maps(self) -> NDArray[np.uint8]:
        """The near-tip threshold and outline maps: from the floor as learned, or, once the probe has moved
        (:meth:`_moved_near_lumens`), from the floor widened by ``motion_mm`` within ``vessel_mm`` of the dark
        structures of the floor."""
        assert self._near is not None
        return self._near_wide if self._near_wide is not None and self._moved_near_lumens() else self._near

    @property
    def learning(self) -> bool:
        """``True`` while the dark-structure baseline is still being learned."""
        return not self._frozen

    def freeze(self) -> None:
        """Stop learning: from now on every new drop of the echo level counts as fluid."""
        if self._floor is not None and self._sum is not None and self._count:
            floor = cv2.erode(self._floor, self._grow).astype(np.float32)
            self._tissue_level = float(np.median(self._floor[::2, ::2]))
            margin = max(4.0, self.drop * self._tissue_level)
            self._threshold = np.asarray(np.clip(floor - margin, 0, 255), dtype=np.uint8)
            # the outline may not reach into structures that were dark already (vessels, shadows)
            mean = self._sum / np.float32(self._count)
            edge = np.minimum(mean * np.float32(1.0 - self.edge_fraction), floor - np.float32(0.5 * margin))
            self._edge = np.asarray(np.clip(edge, 0, 255), dtype=np.uint8)
            # near the tip: the floor as learned (not widened) and the smaller margin, threshold and outline
            near_margin = np.float32(max(4.0, self.near_drop * self._tissue_level))
            self._near = self._near_from(self._floor.astype(np.float32), mean, near_margin)
            self._structures = self._dark_structures()
            self._lumens = self._find_lumens() if self.vessel_mm > 0 else None
            if self._lumens is not None and (self.near_wide_mm > 0 or self.near_wide_deg > 0):
                # near the dark structures of the floor, once the probe has moved: the widened floor
                wide = self._near_from(floor, mean, near_margin)
                self._near_wide = np.where(self._lumens[..., None] > 0, wide, self._near)
            if self.register:
                self._motion_estimator = ProbeMotion(self._coarse(mean))
        self._frozen = True

    def __call__(
        self,
        frame: Frame,
        *,
        tip_mm: tuple[float, float] | None = None,
        shaft_mm: tuple[float, float, float, float] | None = None,
        injecting: bool = False,
        free_running: bool = False,
        work: NDArray[np.uint8] | None = None,
    ) -> SpreadObservation:
        """Update the baseline or look for fluid in one frame.

        Parameters
        ----------
        frame : Frame
            The frame.
        tip_mm : tuple of float, optional
            ``(x_mm, z_mm)`` of the needle tip, to measure how far the fluid is from it.
        shaft_mm : tuple of float, optional
            ``(start_x_mm, start_z_mm, tip_x_mm, tip_z_mm)`` of the needle tracked in this frame, for the
            fluid under the shaft.
        injecting : bool
            Whether the injection has started; learning stops at the first such frame once
            ``min_learning_s`` of frames were seen.
        free_running : bool
            No injection start will be signalled: learning stops after ``baseline_s``.
        work : ndarray, optional
            The frame already downsampled to ``work_spacing_mm`` (by area averaging).

        Returns
        -------
        SpreadObservation
            Fluid area and position; ``visible=False`` while learning.
        """
        ws = self.work_spacing_mm
        if work is None:
            work = working_image(frame.pixels, (frame.col_spacing_mm / ws, frame.row_spacing_mm / ws))
        local = np.asarray(cv2.blur(work, self._box), dtype=np.uint8)
        if self._first_time is None:
            self._first_time = frame.time_s
        if not self._frozen:
            learned = self._learn(local)
            self._follow(frame.time_s, shaft_mm)
            self._rest(
                local, tip_mm if shaft_mm is not None else None, injecting, frame.time_s, learned=learned
            )
            if injecting:
                self._remember_source(tip_mm)
            elapsed = frame.time_s - self._first_time
            if (injecting and elapsed >= min(self.min_learning_s, self.baseline_s)) or (
                free_running and elapsed >= self.baseline_s
            ):
                self.freeze()
            return SpreadObservation(False)
        if self._threshold is None or self._edge is None or local.shape != self._threshold.shape:
            return SpreadObservation(False)
        threshold = self._registered(local)
        self._follow(frame.time_s, shaft_mm)
        if injecting:
            self._remember_source(tip_mm)
        core = np.asarray(cv2.compare(local, threshold, cv2.CMP_LT), dtype=np.uint8)
        if shaft_mm is not None:
            self._shaft = shaft_mm
        near = None
        if injecting and tip_mm is not None:
            ahead = self._lost_ahead(frame.time_s, tip_mm) if shaft_mm is None else None
            near = self._near_tip(core, local, tip_mm, ahead)
        tracked_tip = tip_mm if shaft_mm is not None else None
        in_vessels = self._near_vessels(core, local) if injecting and shaft_mm is None else None
        rest = self._fell_at_rest(core, local, tracked_tip) if injecting else None
        self._rest(local, tracked_tip, injecting, frame.time_s)
        fell = None  # the places that fell against their own earlier level in the band
        if shaft_mm is not None and self.under_shaft:
            under = self._fluid_under_shaft(local, work, shaft_mm, threshold)
            if under is not None:
                mask, (z0, x0), found = under
                fall = self.fall_drop > 0 and found
                contrast = self.contrast_drop > 0 and injecting
                band = (
                    self._band_in_learning(core.shape, local, mask.shape, (z0, x0))
                    if fall or contrast
                    else None
                )
                fell = np.zeros_like(core)
                if fall and band is not None:
                    self._fell_in_band(fell, band, mask[..., 4:6])
                if contrast:
                    self._contrast_fell(fell, work, band, mask[..., 3::3], (z0, x0))
                else:
                    self._contrast_count = None
                core |= fell
                if mask[..., :2].any():
                    core[z0 : z0 + mask.shape[0], x0 : x0 + mask.shape[1]] |= mask[..., 0]
                    if self.quiet_frames > 0:
                        self._still_quiet(core, mask[..., 1:4], (z0, x0))
                else:
                    self._quiet = None
            else:
                self._quiet = None  # no band: every count starts again
                self._contrast_count = None
        else:
            self._quiet = None
            self._contrast_count = None
        if not cv2.countNonZero(core):
            return SpreadObservation(False)
        core = np.asarray(cv2.morphologyEx(core, cv2.MORPH_OPEN, self._open), dtype=np.uint8)
        if fell is not None and injecting:  # fluid left behind by a needle that moved on: not opened
            self._left_behind(core, fell, tracked_tip, frame.time_s)
        if not cv2.countNonZero(core):
            return SpreadObservation(False)
        edge = self._edge if self._motion_estimator is None else _moved(self._edge, self._motion, outside=0)
        for finer in (near, in_vessels, rest):  # the finer outlines near the tip and the vessels
            if finer is None:
                continue
            disc, near_edge, (z0, x0) = finer
            window = edge[z0 : z0 + disc.shape[0], x0 : x0 + disc.shape[1]]
            edge = edge.copy()
            edge[z0 : z0 + disc.shape[0], x0 : x0 + disc.shape[1]] = np.where(
                disc, np.maximum(window, near_edge), window
            )
        fluid = self._grow_to_edge(core, local, edge)
        if self._close is not None and fluid.any():  # bridge needle echoes crossing the pool
            fluid = self._bridged(fluid)
        return self._measure(fluid, tip_mm)

    def _learn(self, local: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """Update the per-pixel floor (darkest level) and the running sum for the mean level; returns the
        frame in the learning's coordinates.

        With registration, each frame is first moved back onto the first learning frame (its shift from
        it, by phase correlation), so the floor stays sharp while the probe drifts."""
        if self._floor is None or self._sum is None or self._floor.shape != local.shape:
            self._floor, self._sum, self._count = local.copy(), np.zeros(local.shape, np.float32), 0
            self._motion_estimator = ProbeMotion(self._coarse(local)) if self.register else None
        elif self._motion_estimator is not None:
            self._update_motion(local)
            local = _moved(local, _inverse(self._motion))
        self._floor = np.minimum(self._floor, local)
        self._sum += local
        self._count += 1
        return local

    @property
    def motion(self) -> NDArray[np.float64]:
        """Affine map (2 by 3, working pixels) from the first learning frame to the last frame."""
        return self._motion.copy()

    def _update_motion(self, local: NDArray[np.uint8]) -> None:
        """Match this frame against the reference, after undoing the last motion found (the coarse image
        moved back by it): only the change since then is left to phase correlation, which a turned image
        decorrelates. Matched as it comes, a deep image turned by 2-3° lost the match in whole runs of
        frames, and the last good motion, kept meanwhile, drifted from the true one by millimetres."""
        assert self._motion_estimator is not None
        coarse = self._coarse(local)
        prior = _compose(self._to_coarse, _compose(self._motion, self._from_coarse))
        undone = _moved(coarse, _inverse(prior))
        residual = self._motion_estimator(undone)
        if residual is not None:
            self._motion = _compose(self._from_coarse, _compose(_compose(prior, residual), self._to_coarse))

    def _coarse(self, image: NDArray[np.generic]) -> NDArray[np.float32]:
        """``image`` averaged over blocks of ``f`` by ``f`` working pixels (the last partial row and column
        of blocks left out), so that coarse pixel ``i`` covers working pixels ``f i`` to ``f i + f - 1``."""
        f = self._register_factor
        x = np.asarray(image, dtype=np.float32)
        if f == 1:
            return x
        rows, cols = x.shape[0] // f, x.shape[1] // f
        # whole blocks: OpenCV's area average over an integer factor
        return np.asarray(
            cv2.resize(x[: rows * f, : cols * f], (cols, rows), interpolation=cv2.INTER_AREA),
            dtype=np.float32,
        )

    def _registered(self, local: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The threshold map moved with the probe by this frame's motion from the learned mean (phase
        correlation on a coarse image; the last good motion when matching fails). The outline map is moved
        the same way, but only when there are fluid cores to grow."""
        assert self._threshold is not None
        if self._motion_estimator is None:
            return self._threshold
        self._update_motion(local)
        # tissue that came into view after the learning has no floor: nothing there counts as fluid
        return _moved(self._threshold, self._motion, outside=0)

    def _near_tip(
        self,
        core: NDArray[np.uint8],
        local: NDArray[np.uint8],
        tip_mm: tuple[float, float],
        ahead: tuple[float, float] | None = None,
    ) -> tuple[NDArray[np.bool_], NDArray[np.uint8], tuple[int, int]] | None:
        """Add to ``core`` the places within ``near_tip_mm`` of the tip's path since the injection start
        (from the tip seen at the start, carried with the probe, to the last tip seen, or on to ``ahead``
        (working pixels) along the line of a needle lost while it advanced) whose level fell by
        ``near_drop`` below the floor as learned (moved with the probe), except in the band along and below
        the last shaft seen (from 1 mm above it to ``band_mm`` below it, up to the tip): a shaft that came or
        moved on after the learning changes the level there, which the band comparison handles. Returns the
        area, the outline map over its bounding box and that box's top left corner (row, column), or
        ``None`` when the area is empty."""
        if self._near is None or self.near_tip_mm <= 0 or not math.isfinite(tip_mm[0] + tip_mm[1]):
            return None
        ws = self.work_spacing_mm
        radius = self.near_tip_mm / ws
        cx, cz = tip_mm[0] / ws - 0.5, tip_mm[1] / ws - 0.5
        source = self._source_tip() if self.tip_path else None
        ax, az = source if source is not None and self._on_shaft(*source) else (cx, cz)
        if ahead is not None:  # the path goes on along the line of the lost needle
            cx, cz = ahead
        rows, cols = local.shape
        x0, x1 = max(0, int(min(cx, ax) - radius)), min(cols, int(max(cx, ax) + radius) + 2)
        z0, z1 = max(0, int(min(cz, az) - radius)), min(rows, int(max(cz, az) + radius) + 2)
        if x1 <= x0 or z1 <= z0:
            return None
        move = self._motion.copy()  # the probe's motion, with the box's corner as origin
        move[:, 2] -= (x0, z0)
        maps = cv2.warpAffine(
            self._near_maps(),
            move,
            (x1 - x0, z1 - z0),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
        )
        zz, xx = np.ogrid[z0:z1, x0:x1]
        span = math.hypot(cx - ax, cz - az)
        if span > 0.5:  # the distance to the segment from the start's tip to the last tip
            dx, dz = (cx - ax) / span, (cz - az) / span
            along = np.clip((xx - ax) * dx + (zz - az) * dz, 0.0, span)
            disc = (xx - ax - along * dx) ** 2 + (zz - az - along * dz) ** 2 <= radius * radius
        else:
            disc = (xx - cx) ** 2 + (zz - cz) ** 2 <= radius * radius
        axis = self._shaft_axis()
        if axis is not None:  # not the shaft's band, where the needle passed after the learning
            tx, tz, ux, uz = axis
            nx, nz = (-uz, ux) if ux >= 0 else (uz, -ux)  # unit normal pointing deeper
            along_shaft = (xx - tx) * ux + (zz - tz) * uz
            depth = (xx - tx) * nx + (zz - tz) * nz
            disc &= ~((along_shaft <= 0) & (depth >= -1.0 / ws) & (depth <= self.band_mm / ws))
        core[z0:z1, x0:x1][disc & (local[z0:z1, x0:x1] < maps[..., 0])] = 255
        return disc, np.asarray(maps[..., 1], dtype=np.uint8), (z0, x0)

    def _near_vessels(
        self, core: NDArray[np.uint8], local: NDArray[np.uint8]
    ) -> tuple[NDArray[np.bool_], NDArray[np.uint8], tuple[int, int]] | None:
        """Add to ``core`` the places within ``vessel_mm`` of the dark structures of the learned floor
        (:meth:`_find_lumens`, moved with the probe) whose level fell by ``near_drop`` below the floor as
        learned, as near the tip (:meth:`_near_tip`).

        Fluid that goes into a vein swells it beyond the lumen it had while learning, into tissue whose
        floor holds its own level; where the needle is not tracked, no area near a tip covers it. The lumen
        itself, black in the floor, cannot fall by the margin, nor can a wall that pulsated while learning.
        Returns the area, the outline map over its bounding box and that box's top left corner (row,
        column), or ``None`` when there is no such structure."""
        if self._near is None or self._lumens is None:
            return None
        mask = _moved(self._lumens, self._motion, outside=0)
        x0, z0, w, h = cv2.boundingRect(mask)
        if w == 0 or h == 0:
            return None
        x1, z1 = x0 + w, z0 + h
        inside = mask[z0:z1, x0:x1] > 127
        move = self._motion.copy()  # the probe's motion, with the box's corner as origin
        move[:, 2] -= (x0, z0)
        maps = cv2.warpAffine(
            self._near_maps(), move, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        core[z0:z1, x0:x1][inside & (local[z0:z1, x0:x1] < maps[..., 0])] = 255
        return inside, np.asarray(maps[..., 1], dtype=np.uint8), (z0, x0)

    def _dark_structures(self) -> NDArray[np.uint8] | None:
        """The dark structures of the floor (learning's coordinates, 255 where so): connected places darker
        than one of ``lumen_levels`` of the median tissue level (opened by 1 mm), of ``lumen_mm2`` or more,
        not touching the bottom of the image (shadows reach it); ``None`` when there is none."""
        assert self._floor is not None
        ws = self.work_spacing_mm
        found = np.zeros(self._floor.shape, np.uint8)
        for fraction in self.lumen_levels:
            dark = np.where(self._floor < fraction * self._tissue_level, np.uint8(255), np.uint8(0))
            dark = np.asarray(cv2.morphologyEx(dark, cv2.MORPH_OPEN, self._lumen_open), dtype=np.uint8)
            n, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
            rows = dark.shape[0]
            keep = np.zeros(n, dtype=np.uint8)
            for i in range(1, n):
                bottom = stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT]
                if stats[i, cv2.CC_STAT_AREA] * ws * ws >= self.lumen_mm2 and bottom < rows:
                    keep[i] = 255
            found |= keep[labels]
        return found if found.any() else None

    def _find_lumens(self) -> NDArray[np.uint8] | None:
        """The places (learning's coordinates, 255 where so) within ``vessel_mm`` of the dark structures of
        the floor (:meth:`_dark_structures`); ``None`` when there is none."""
        if self._structures is None:
            return None
        reach = round(self.vessel_mm / self.work_spacing_mm)
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
        return np.asarray(cv2.dilate(self._structures, disc), dtype=np.uint8)

    def lumen_share(
        self,
        spread: SpreadObservation,
        tip_mm: tuple[float, float],
        *,
        tip_reach_mm: float = 2.0,
        margin_mm: float = 1.0,
    ) -> float:
        """The share of the fluid of ``spread`` that lies within ``margin_mm`` of a dark structure of the
        learned floor (moved with the probe) which holds the needle tip (the tip ``tip_reach_mm`` or less
        from it): injectate that goes into the vein the tip lies in first fills and swells that vein.

        A vein squeezed flat, or filled by the needle's own echo, is not found as a vessel by its pulsation
        (:class:`~painguide.sono.vessel.VesselDetector`); its lumen, at its widest while the floor was
        learned, is still a dark structure of the floor. 0 when there is no such structure, no fluid, or
        the tip is not finite.
        """
        if self._structures is None or not spread.visible or not math.isfinite(tip_mm[0] + tip_mm[1]):
            return 0.0
        ws = self.work_spacing_mm
        structures = _moved(self._structures, self._motion, outside=0)
        _, labels = cv2.connectedComponents(structures, connectivity=8)
        rows, cols = structures.shape
        reach = tip_reach_mm / ws
        tx, tz = tip_mm[0] / ws - 0.5, tip_mm[1] / ws - 0.5
        x0, x1 = max(0, math.floor(tx - reach)), min(cols, math.ceil(tx + reach) + 1)
        z0, z1 = max(0, math.floor(tz - reach)), min(rows, math.ceil(tz + reach) + 1)
        if x1 <= x0 or z1 <= z0:
            return 0.0
        zz, xx = np.mgrid[z0:z1, x0:x1]
        near = np.hypot(xx - tx, zz - tz) <= reach
        held = np.unique(labels[z0:z1, x0:x1][near])
        held = held[held > 0]
        if held.size == 0:
            return 0.0
        chosen = np.where(np.isin(labels, held), np.uint8(255), np.uint8(0))
        widen = max(1, round(margin_mm / ws))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * widen + 1, 2 * widen + 1))
        around = np.asarray(cv2.dilate(chosen, disc), dtype=np.uint8) > 0
        fluid = np.zeros(structures.shape, np.uint8)
        outlines = [np.round(c / ws - 0.5).astype(np.int32) for c in spread.contours_mm]
        cv2.fillPoly(fluid, outlines, 255)
        inside = fluid > 0
        area = int(np.count_nonzero(inside))
        return float(np.count_nonzero(inside & around)) / area if area else 0.0

    def _rest(
        self,
        local: NDArray[np.uint8],
        tip_mm: tuple[float, float] | None,
        injecting: bool,
        time_s: float,
        *,
        learned: NDArray[np.uint8] | None = None,
    ) -> None:
        """Follow where the tracked tip came to rest and the darkest level of each place since then (both in
        the learning's coordinates, the probe's motion undone). That level is set once the tip was at rest
        for ``rest_frames`` frames and the injection has started; a tip that moves on by more than
        ``rest_mm`` starts the count again, and a frame without a tracked tip does too until it is set.
        ``learned`` is this frame already moved into the learning's coordinates (while learning)."""
        if self.rest_drop <= 0:
            return
        if tip_mm is None or not math.isfinite(tip_mm[0] + tip_mm[1]):
            if not self._rest_set:
                self._rest_tip = None
            return
        ws = self.work_spacing_mm
        here = self._in_learning(tip_mm)
        rest = self._rest_tip
        still = rest is not None and math.hypot(here[0] - rest[0], here[1] - rest[1]) <= self.rest_mm / ws
        if self._rest_set and still:
            return
        level = learned if learned is not None else _moved(local, _inverse(self._motion))
        if still and self._rest_level is not None:
            np.minimum(self._rest_level, level, out=self._rest_level)
            self._rest_count += 1
        else:  # came to rest here (or moved on from where it was set)
            self._rest_tip, self._rest_level, self._rest_count = here, level.copy(), 1
            self._rest_from = time_s
            self._rest_set = False
        self._rest_set = injecting and self._rest_count >= self.rest_frames

    def _fell_at_rest(
        self, core: NDArray[np.uint8], local: NDArray[np.uint8], tip_mm: tuple[float, float] | None
    ) -> tuple[NDArray[np.bool_], NDArray[np.uint8], tuple[int, int]] | None:
        """Add to ``core`` the places within ``near_tip_mm`` of a tip at rest whose learned floor is black
        (below the ``near_drop`` margin) and whose level fell by ``rest_drop`` of the median tissue level
        below their level at rest (the darkest over the frames the tip was at rest until it was set, see
        :meth:`_rest`).

        A needle that came to rest just before the injection start, over tissue that was black while
        learning (a bone's shadow), raises the level there by its own echo; fluid that then forms under it
        lowers the level again, but never below a black floor. Only a tip tracked in this frame, still at
        rest, counts, and (unless ``rest_in_lumens``) not within ``vessel_mm`` of a dark structure of the
        floor. Returns the tested area, the outline map (half of that margin below the level at
        rest) over its bounding box and that box's top left corner (row, column), or ``None``."""
        if self.rest_still and self._moved_near_lumens():
            return None  # the probe has moved: the lumen that holds the tip moves against its level at rest
        if not self._rest_set or self._rest_tip is None or self._rest_level is None or self._floor is None:
            return None
        if tip_mm is None or not math.isfinite(tip_mm[0] + tip_mm[1]):
            return None
        ws = self.work_spacing_mm
        here = self._in_learning(tip_mm)
        if math.hypot(here[0] - self._rest_tip[0], here[1] - self._rest_tip[1]) > self.rest_mm / ws:
            return None
        cx, cz = _point(self._motion, *self._rest_tip)
        radius = self.near_tip_mm / ws
        rows, cols = local.shape
        x0, x1 = max(0, int(cx - radius)), min(cols, int(cx + radius) + 2)
        z0, z1 = max(0, int(cz - radius)), min(rows, int(cz + radius) + 2)
        if x1 <= x0 or z1 <= z0:
            return None
        black = np.float32(max(4.0, self.near_drop * self._tissue_level))
        margin = np.float32(max(4.0, self.rest_drop * self._tissue_level))
        # the test in the learning's coordinates, where the level at rest and the floor were kept
        lx0, lz0, lx1, lz1 = self._learning_window(core.shape, (z1 - z0, x1 - x0), (z0, x0))
        if lx1 <= lx0 or lz1 <= lz0:
            return None
        back = _inverse(self._motion)
        back[:, 2] -= (lx0, lz0)
        flags = cv2.INTER_LINEAR
        # outside the frame the level is 255: never below
        level = cv2.warpAffine(local, back, (lx1 - lx0, lz1 - lz0), flags=flags, borderValue=255)
        rx, rz = self._rest_tip
        wz, wx = np.ogrid[lz0:lz1, lx0:lx1]
        floor = self._floor[lz0:lz1, lx0:lx1].astype(np.float32)
        below = (floor < black) & ((wx - rx) ** 2 + (wz - rz) ** 2 <= radius * radius)
        if not self.rest_in_lumens and self._lumens is not None:  # not in a lumen: it pulses and flows
            below &= self._lumens[lz0:lz1, lx0:lx1] == 0
        below &= level.astype(np.float32) < self._rest_level[lz0:lz1, lx0:lx1] - margin
        if self._sum is not None and self._count:  # black on the whole while learning, not a moving wall
            mean = self._sum[lz0:lz1, lx0:lx1] / np.float32(self._count)
            below &= mean - floor <= np.float32(self.rest_steady * max(4.0, self.drop * self._tissue_level))
        if not below.any():
            return None
        self._add_from_learning(core, below, (lz0, lx0))
        # the outline of such a pool over the black places near the tip: half of that margin below the level
        # at rest (both carried onto this frame with the probe; tissue that came into view after the
        # learning has no floor, so it is not black)
        move = self._motion.copy()
        move[:, 2] -= (x0, z0)
        size = (x1 - x0, z1 - z0)
        frame_floor = cv2.warpAffine(self._floor, move, size, flags=flags, borderValue=255)
        at_rest = cv2.warpAffine(self._rest_level, move, size, flags=flags, borderValue=0).astype(np.float32)
        zz, xx = np.ogrid[z0:z1, x0:x1]
        area = (frame_floor < black) & ((xx - cx) ** 2 + (zz - cz) ** 2 <= radius * radius)
        outline = np.asarray(np.clip(at_rest - np.float32(0.5) * margin, 0, 255), dtype=np.uint8)
        return area, outline, (z0, x0)

    def _follow(self, time_s: float, shaft_mm: tuple[float, float, float, float] | None) -> None:
        """Keep the shaft seen in this frame (in the learning's coordinates, this frame's probe motion
        undone) with those of the frames before it within ``lost_window_s``."""
        if shaft_mm is None or self.lost_reach_mm <= 0:
            return
        ws = self.work_spacing_mm
        back = _inverse(self._motion)
        start = _point(back, shaft_mm[0] / ws - 0.5, shaft_mm[1] / ws - 0.5)
        tip = _point(back, shaft_mm[2] / ws - 0.5, shaft_mm[3] / ws - 0.5)
        if not math.isfinite(start[0] + start[1] + tip[0] + tip[1]):
            return
        self._seen = [s for s in self._seen if s[0] >= time_s - self.lost_window_s and s[0] < time_s]
        self._seen.append((time_s, *start, *tip))

    def _lost_ahead(self, time_s: float, tip_mm: tuple[float, float]) -> tuple[float, float] | None:
        """Where a needle lost while it advanced has gone on to by ``time_s``, in working pixels of this
        frame: from ``tip_mm`` (the last tip seen) along the line of the last shaft seen, by the speed of
        its tip along that line over the last ``lost_window_s`` it was seen times the time since, at most
        ``lost_reach_mm``. ``None`` when the needle did not advance by ``lost_advance_mm`` over that time.

        A needle that leaves the imaging plane while it advances is lost but goes on along its line: the
        fluid then comes out where it stopped, possibly far beyond the last tip seen."""
        if self.lost_reach_mm <= 0 or len(self._seen) < 2 or not math.isfinite(tip_mm[0] + tip_mm[1]):
            return None
        ws = self.work_spacing_mm
        last, first = self._seen[-1], self._seen[0]
        _, sx, sz, tx, tz = last
        length = math.hypot(tx - sx, tz - sz)
        span = last[0] - first[0]
        if length <= 0 or span <= 0:
            return None
        ux, uz = (tx - sx) / length, (tz - sz) / length
        advance = (tx - first[3]) * ux + (tz - first[4]) * uz
        if advance < self.lost_advance_mm / ws:
            return None
        reach = min(self.lost_reach_mm / ws, advance / span * max(0.0, time_s - last[0]))
        # the direction as seen in this frame (the probe's rotation since the learning)
        dx = self._motion[0, 0] * ux + self._motion[0, 1] * uz
        dz = self._motion[1, 0] * ux + self._motion[1, 1] * uz
        return tip_mm[0] / ws - 0.5 + reach * dx, tip_mm[1] / ws - 0.5 + reach * dz

    def _left_behind(
        self,
        core: NDArray[np.uint8],
        fell: NDArray[np.uint8],
        tip_mm: tuple[float, float] | None,
        time_s: float,
    ) -> None:
        """Add to ``core`` (after its opening) the places of ``fell`` within ``behind_mm`` of where the tip
        was at the injection start, once the tip tracked in this frame lies ``behind_advance_mm`` or more
        from it.

        Fluid that comes out of a needle that still advances stays where it came out, and the shaft then
        lies over it as it forms: its echo and reverberations keep the level up there, so the tests against
        the place's own earlier level in the band (:meth:`_fell_in_band`, :meth:`_contrast_fell`) find it in
        scattered patches of a few pixels, which the 3-pixel opening removes. Near that start, behind the
        tip, they are kept as they are; the closing that bridges needle echoes then joins them into the
        pool. A needle at rest (the tip within ``behind_advance_mm`` of the start), or one that has rested
        for ``behind_rest_s`` where it stopped, leaves the opening as it was."""
        if self.behind_mm <= 0 or tip_mm is None or not math.isfinite(tip_mm[0] + tip_mm[1]):
            return
        if self._rest_set and time_s - self._rest_from >= self.behind_rest_s:
            return
        source = self._source_tip()
        if source is None:
            return
        ws = self.work_spacing_mm
        sx, sz = source
        if math.hypot(tip_mm[0] / ws - 0.5 - sx, tip_mm[1] / ws - 0.5 - sz) < self.behind_advance_mm / ws:
            return
        radius = self.behind_mm / ws
        rows, cols = core.shape
        x0, x1 = max(0, int(sx - radius)), min(cols, int(sx + radius) + 2)
        z0, z1 = max(0, int(sz - radius)), min(rows, int(sz + radius) + 2)
        if x1 <= x0 or z1 <= z0:
            return
        zz, xx = np.ogrid[z0:z1, x0:x1]
        disc = (xx - sx) ** 2 + (zz - sz) ** 2 <= radius * radius
        core[z0:z1, x0:x1][disc & (fell[z0:z1, x0:x1] > 0)] = 255

    def _remember_source(self, tip_mm: tuple[float, float] | None) -> None:
        """Keep the first tip seen since the injection start, in the coordinates of the first learning frame
        (this frame's probe motion undone)."""
        if self._source is not None or tip_mm is None or not math.isfinite(tip_mm[0] + tip_mm[1]):
            return
        self._source = self._in_learning(tip_mm)

    def _in_learning(self, point_mm: tuple[float, float]) -> tuple[float, float]:
        """``point_mm`` (x, z) as working pixels in the learning's coordinates (motion undone)."""
        ws = self.work_spacing_mm
        return _point(_inverse(self._motion), point_mm[0] / ws - 0.5, point_mm[1] / ws - 0.5)

    def _source_tip(self) -> tuple[float, float] | None:
        """Where the tip was at the injection start, in working pixels of this frame (with the probe)."""
        return None if self._source is None else _point(self._motion, *self._source)

    def _shaft_axis(self) -> tuple[float, float, float, float] | None:
        """The last shaft seen as its tip and unit direction towards it ``(tx, tz, ux, uz)``, in working
        pixels; ``None`` without a shaft of some length."""
        if self._shaft is None:
            return None
        sx, sz, tx, tz = (v / self.work_spacing_mm - 0.5 for v in self._shaft)
        length = math.hypot(tx - sx, tz - sz)
        return (tx, tz, (tx - sx) / length, (tz - sz) / length) if length > 0 else None

    def _on_shaft(self, x: float, z: float) -> bool:
        """Whether the point ``(x, z)`` (working pixels) lies on the last shaft seen: within 1 mm of its line
        and not beyond its tip (the needle advanced along its own line from there)."""
        axis = self._shaft_axis()
        if axis is None:
            return False
        tx, tz, ux, uz = axis
        ws = self.work_spacing_mm
        return abs((x - tx) * uz - (z - tz) * ux) <= 1.0 / ws and (x - tx) * ux + (z - tz) * uz <= 0.5 / ws

    def _grow_to_edge(
        self, core: NDArray[np.uint8], local: NDArray[np.uint8], outline: NDArray[np.uint8]
    ) -> NDArray[np.uint8]:
        """Extend the fluid cores to their outline: connected pixels whose level fell by ``edge_fraction``."""
        if not core.any():
            return core
        edge = np.asarray(cv2.bitwise_or(cv2.compare(local, outline, cv2.CMP_LT), core), dtype=np.uint8)
        # the components only matter where there is something to label: within the box around it
        x0, z0, w, h = cv2.boundingRect(edge)
        box = (slice(z0, z0 + h), slice(x0, x0 + w))
        n, labels = cv2.connectedComponents(edge[box], connectivity=4)
        keep = np.zeros(n, dtype=np.uint8)
        keep[labels[core[box] > 0]] = 255
        keep[0] = 0
        grown = np.zeros_like(core)
        grown[box] = keep[labels]
        return grown

    def _bridged(self, fluid: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """``fluid`` closed by the ``bridge_mm`` disc (needle echoes crossing the pool are bridged), computed
        over the box around the fluid widened by the disc's width: the dilation reaches half of it beyond
        the fluid and the erosion there looks half of it farther, so the rest of the image stays 0."""
        assert self._close is not None
        x0, z0, w, h = cv2.boundingRect(fluid)
        reach_z, reach_x = self._close.shape[0] - 1, self._close.shape[1] - 1
        rows, cols = fluid.shape
        box = (
            slice(max(0, z0 - reach_z), min(rows, z0 + h + reach_z)),
            slice(max(0, x0 - reach_x), min(cols, x0 + w + reach_x)),
        )
        closed = np.zeros_like(fluid)
        closed[box] = cv2.morphologyEx(fluid[box], cv2.MORPH_CLOSE, self._close)
        return closed

    def _fluid_under_shaft(
        self,
        local: NDArray[np.uint8],
        work: NDArray[np.uint8],
        shaft_mm: tuple[float, float, float, float],
        threshold: NDArray[np.uint8],
    ) -> tuple[NDArray[np.uint8], tuple[int, int], bool] | None:
        """Fluid in the band along and below the needle shaft, found against the rest of that band.

        The floor under a shaft is the tissue before the needle came; the shaft's echo and its
        reverberations then keep the local mean above it even where fluid spreads under them. But they
        are the same all along a straight shaft, so fluid shows as a stretch of the band that is darker
        than the rest of it. The band (from 1 mm above the shaft to ``band_mm`` below it, over the last
        ``reach_mm`` of the shaft up to 0.5 mm before the tip and from 2 mm after its shallow end) is
        resampled along the shaft. For each depth below the shaft, its usual height above the floor is the
        median along the band. A place holds fluid when it lies below that by more than ``drop`` of the
        median tissue level, or when it lies below it by ``smooth_drop`` of that margin and its speckle
        along the shaft has fallen below ``smooth_ratio`` of the usual (the reverberations over fluid are
        smooth and darker; tissue with little speckle of its own is smooth at its usual level). Not
        tested: the shaft's own echo (the depths brighter than halfway between the band's darkest and
        brightest, and one more on each side), places where the shaft itself is fainter than along the
        rest of the band (it fades out of plane or at its ends), and places whose floor is dark (vessels
        and shadows, and tissue without a floor). With ``quiet_frames``, the places (the shaft's echo
        included) whose speckle along the shaft lies below ``quiet_ratio`` of the usual are marked quiet,
        those at or above ``loud_ratio`` of it loud, for :meth:`_still_quiet`. Returns, over the band's
        bounding box, the masks of fluid, quiet places, loud places, the band, the tested places below the
        band's usual, the settled tested places and the settled band places (at least ``settle_mm`` back
        from the band's end near the tip; the last axis, 255 where so), and that box's top left corner (row,
        column), and whether anything in the band is fluid, quiet or (with ``fall_drop``) below the band's
        usual, for :meth:`_fell_in_band`; ``None`` when nothing is and :meth:`_contrast_fell` is off.
        """
        ws = self.work_spacing_mm
        sx, sz, tx, tz = (v / ws - 0.5 for v in shaft_mm)
        length = math.hypot(tx - sx, tz - sz)
        if not math.isfinite(length) or length < 3.0 / ws:
            return None
        ux, uz = (tx - sx) / length, (tz - sz) / length
        nx, nz = (-uz, ux) if ux >= 0 else (uz, -ux)  # unit normal pointing deeper
        above = 1.0 / ws
        end = length - 0.5 / ws
        begin = max(2.0 / ws, end - self.reach_mm / ws)
        width, height = int(end - begin), int(above + self.band_mm / ws)
        if width < 8 or height < 2:
            return None
        # band pixel (i, j) lies at shaft position begin + i, at j - above pixels below the shaft
        to_image = np.array(
            [[ux, nx, sx + begin * ux - above * nx], [uz, nz, sz + begin * uz - above * nz]], dtype=np.float64
        )
        flags, size = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, (width, height)
        # outside the image, and where tissue came into view after the learning, the threshold is 0
        floor = cv2.warpAffine(threshold, to_image, size, flags=flags, borderValue=0).astype(np.float32)
        tested = floor >= np.float32(0.5 * self._tissue_level)
        usable = tested.all(axis=0)  # the columns that set the band's usual levels
        if int(usable.sum()) < max(8, width // 2):
            return None
        height_above = cv2.warpAffine(local, to_image, size, flags=flags).astype(np.float32) - floor
        raw = cv2.warpAffine(work, to_image, size, flags=flags).astype(np.float32)
        margin = np.float32(max(4.0, self.drop * self._tissue_level))
        if self.smooth_ratio > 0:
            grad = np.zeros_like(raw)
            grad[:, 1:-1] = raw[:, 2:] - raw[:, :-2]
            energy = np.asarray(cv2.blur(grad * grad, (5, 3)), dtype=np.float32)
            usual, usual_energy = _median(np.stack([height_above[:, usable], energy[:, usable]]))
        else:
            usual = _median(height_above[:, usable])
        line = round(above)
        shaft = raw[line - 2 : line + 3].max(axis=0)
        tested &= (shaft >= _median(shaft[usable]) - margin)[None, :]
        base = tested.copy()
        lo, hi = float(usual.min()), float(usual.max())
        if hi - lo > margin:
            echo = usual >= np.float32(lo + 0.5 * (hi - lo))
            echo[1:] |= echo[:-1].copy()
            echo[:-1] |= echo[1:].copy()
            tested[echo] = False
        lower = height_above < usual[:, None]
        fluid = lower & (height_above < (usual - margin)[:, None])
        if self.smooth_ratio > 0:
            smooth = energy < np.float32(self.smooth_ratio) * usual_energy[:, None]
            fluid |= smooth & (height_above < (usual - np.float32(self.smooth_drop) * margin)[:, None])
        fluid &= tested
        quiet = np.zeros_like(fluid)
        loud = np.zeros_like(fluid)
        if self.quiet_frames > 0 and self.smooth_ratio > 0:
            quiet = energy < np.float32(self.quiet_ratio) * usual_energy[:, None]
            loud = (energy >= np.float32(self.loud_ratio) * usual_energy[:, None]) & base
            quiet &= base
        candidate = lower & tested  # below the band's usual, for :meth:`_fell_in_band`
        settled = tested & (np.arange(width) < width - self.settle_mm / ws)[None, :]
        settled_base = base & (np.arange(width) < width - self.settle_mm / ws)[None, :]
        found = bool(fluid.any() or quiet.any() or (self.fall_drop > 0 and candidate.any()))
        if not found and self.contrast_drop <= 0:
            return None
        corners = to_image @ np.array([[0.0, width, 0.0, width], [0.0, 0.0, height, height], [1, 1, 1, 1]])
        rows, cols = local.shape
        x0, z0 = max(0, int(corners[0].min()) - 1), max(0, int(corners[1].min()) - 1)
        x1, z1 = min(cols, int(corners[0].max()) + 2), min(rows, int(corners[1].max()) + 2)
        if x1 <= x0 or z1 <= z0:
            return None
        box = to_image.copy()
        box[:, 2] -= (x0, z0)
        marks = np.stack([fluid, quiet, loud, base, candidate, settled, settled_base], axis=-1)
        mask = np.where(marks, np.uint8(255), np.uint8(0))
        moved = np.asarray(cv2.warpAffine(mask, box, (x1 - x0, z1 - z0), flags=cv2.INTER_NEAREST), np.uint8)
        return moved, (z0, x0), found

    def _learning_window(
        self, shape: tuple[int, ...], size: tuple[int, ...], corner: tuple[int, int]
    ) -> tuple[int, int, int, int]:
        """The window ``(x0, z0, x1, z1)`` of the learning's coordinates (inside an image of ``shape``) that
        covers a box of ``size`` (rows, columns) from ``corner`` (row, column) of this frame."""
        z0, x0 = corner
        h, w = size[:2]
        back = _inverse(self._motion)
        ends = back @ np.array([[x0, x0 + w, x0, x0 + w], [z0, z0, z0 + h, z0 + h], [1.0, 1.0, 1.0, 1.0]])
        lx0, lz0 = max(0, int(ends[0].min()) - 1), max(0, int(ends[1].min()) - 1)
        lx1, lz1 = min(shape[1], int(ends[0].max()) + 2), min(shape[0], int(ends[1].max()) + 2)
        return lx0, lz0, lx1, lz1

    def _band_in_learning(
        self, shape: tuple[int, ...], local: NDArray[np.uint8], box: tuple[int, ...], corner: tuple[int, int]
    ) -> _BandWindow | None:
        """The window of the learning's coordinates (the probe's motion undone, so a place is the same tissue
        from frame to frame) that holds the band's bounding box (``box`` rows and columns from ``corner``,
        row and column, in this frame), with this frame's level there, for :meth:`_fell_in_band` and
        :meth:`_contrast_fell`; ``None`` when the window is empty."""
        z0, x0 = corner
        lx0, lz0, lx1, lz1 = self._learning_window(shape, box[:2], corner)
        if lx1 <= lx0 or lz1 <= lz0:
            return None
        back = _inverse(self._motion)  # this frame to the learning
        to_window = back.copy()  # the band's box to the window of the learning's coordinates
        to_window[:, 2] += back[:, :2] @ np.array([x0, z0], dtype=np.float64) - (lx0, lz0)
        level_map = back.copy()
        level_map[:, 2] -= (lx0, lz0)
        size = (lx1 - lx0, lz1 - lz0)
        level = np.asarray(cv2.warpAffine(local, level_map, size, flags=cv2.INTER_LINEAR), dtype=np.uint8)
        return _BandWindow(level, (lz0, lx0), back, to_window)

    def _fell_in_band(self, core: NDArray[np.uint8], band: _BandWindow, marks: NDArray[np.uint8]) -> None:
        """Add to ``core`` the places under the shaft whose level fell below their own earlier level there.

        ``marks`` holds, over the band's bounding box, the places below the band's usual level in this frame
        and the settled places of the band (tested, at least ``settle_mm`` back from its end near the tip),
        255 where so. Per place, in the coordinates of the learning (``band``, :meth:`_band_in_learning`),
        the highest local level seen while it was settled in the band is kept. A place below the band's
        usual level in this frame counts as fluid where its level lies below that by ``fall_drop`` of the
        drop margin: a pool that forms under a shaft that still advances is too small and too covered by the
        reverberations to lie below the rest of the band by the whole margin, but it darkens the tissue it
        fills. Under a shaft at rest the level of tissue stays; a pulsating vessel wall that moves away leaves
        tissue at its usual level, not below it.
        """
        if self._kept is None or self._kept.shape != core.shape:
            self._kept = np.zeros(core.shape, np.uint8)
        window = band.marks(marks)
        below, settled, level = window[..., 0], window[..., 1], band.level
        lz0, lx0 = band.corner
        lz1, lx1 = lz0 + level.shape[0], lx0 + level.shape[1]
        kept = self._kept[lz0:lz1, lx0:lx1]
        margin = max(4.0, self.drop * self._tissue_level) * self.fall_drop
        fell = below & (kept > 0) & (level.astype(np.float32) < kept.astype(np.float32) - np.float32(margin))
        fell &= self._steady()[lz0:lz1, lx0:lx1]
        np.copyto(kept, np.maximum(kept, level), where=settled)
        if fell.any():
            self._add_from_learning(core, fell, (lz0, lx0))

    def _contrast_fell(
        self,
        core: NDArray[np.uint8],
        work: NDArray[np.uint8],
        band: _BandWindow | None,
        marks: NDArray[np.uint8],
        corner: tuple[int, int],
    ) -> None:
        """Add to ``core`` the places in the shaft's band, its echo rows included, whose level fell and whose
        local contrast rose against their own earlier values there.

        ``marks`` holds, over the band's bounding box from ``corner`` (row, column), the band's places and its
        settled ones (at least ``settle_mm`` back from the band's end near the tip), 255 where so; ``band``
        the window of the learning's coordinates that holds that box (:meth:`_band_in_learning`; ``None``
        when it is empty). Per place, in the coordinates of the learning (the probe's motion
        undone), the highest local level seen while it was settled in the band is kept, with its local
        contrast there (the standard deviation of the working image over 1 mm, a running mean over those
        frames). Under the echo of a shaft and its reverberations, fluid that replaces the tissue lowers the
        level by a few grey levels only, and it darkens the gaps between the reverberation lines, which raises
        the contrast: a place counts as fluid once, for ``contrast_frames`` frames in a row, its level lies
        below its kept level by ``contrast_drop`` of the drop margin and its contrast above ``contrast_rise``
        times its kept contrast. A shaft that fades (out of plane) lowers the level and the contrast
        together; only places that were steady while learning count (``fall_steady``), as for
        :meth:`_fell_in_band`, so a pulsating vessel wall does not.
        """
        z0, x0 = corner
        if self._contrast_level is None or self._contrast_level.shape != core.shape:
            self._contrast_level = np.zeros(core.shape, np.uint8)
            self._contrast_usual = np.zeros(core.shape, np.float32)
        assert self._contrast_usual is not None
        counts = np.zeros(core.shape, np.uint8)  # every place outside the band starts again
        previous = self._contrast_count
        self._contrast_count = counts
        if band is None:
            return
        window = band.marks(marks)
        band_places, settled, level, back = window[..., 0], window[..., 1], band.level, band.back
        lz0, lx0 = band.corner
        lz1, lx1 = lz0 + level.shape[0], lx0 + level.shape[1]
        size = (lx1 - lx0, lz1 - lz0)
        # the local contrast over the band's box (and one box width around it), in this frame's pixels
        rows, cols = work.shape
        h, w = marks.shape[:2]
        pad = self._box[0]
        bz0, bx0 = max(0, z0 - pad), max(0, x0 - pad)
        patch = work[bz0 : min(rows, z0 + h + pad), bx0 : min(cols, x0 + w + pad)].astype(np.float32)
        mean = cv2.blur(patch, self._box)
        spread = np.sqrt(np.maximum(cv2.blur(patch * patch, self._box) - mean * mean, np.float32(0.0)))
        to_patch = back.copy()
        to_patch[:, 2] += back[:, :2] @ np.array([bx0, bz0], dtype=np.float64) - (lx0, lz0)
        contrast = np.asarray(
            cv2.warpAffine(spread, to_patch, size, flags=cv2.INTER_LINEAR), dtype=np.float32
        )
        kept = self._contrast_level[lz0:lz1, lx0:lx1]
        usual = self._contrast_usual[lz0:lz1, lx0:lx1]
        margin = np.float32(max(4.0, self.drop * self._tissue_level) * self.contrast_drop)
        fell = band_places & (kept > 0) & (level.astype(np.float32) < kept.astype(np.float32) - margin)
        fell &= contrast > np.float32(self.contrast_rise) * usual
        fell &= self._steady()[lz0:lz1, lx0:lx1]
        before = (
            previous[lz0:lz1, lx0:lx1]
            if previous is not None and previous.shape == core.shape
            else np.zeros(fell.shape, np.uint8)
        )
        here = np.where(fell, np.minimum(before, 250) + 1, 0).astype(np.uint8)
        counts[lz0:lz1, lx0:lx1] = here
        update = settled & ~fell  # a place that fell keeps the level and contrast from before
        first = update & (kept == 0)
        usual[first] = contrast[first]
        again = update & ~first
        usual[again] = np.float32(0.5) * (usual[again] + contrast[again])
        np.copyto(kept, np.maximum(kept, level), where=update)
        ready = here >= self.contrast_frames
        if ready.any():
            self._add_from_learning(core, ready, (lz0, lx0))

    def _add_from_learning(
        self, core: NDArray[np.uint8], places: NDArray[np.bool_], corner: tuple[int, int]
    ) -> None:
        """Add to ``core`` the ``places`` of a window of the learning's coordinates from ``corner`` (row,
        column), carried onto this frame with the probe's motion."""
        rows, cols = core.shape
        lz0, lx0 = corner
        to_image = self._motion.copy()
        to_image[:, 2] += self._motion[:, :2] @ np.array([lx0, lz0], dtype=np.float64)
        mask = np.where(places, np.uint8(255), np.uint8(0))
        moved = cv2.warpAffine(mask, to_image, (cols, rows), flags=cv2.INTER_LINEAR)
        core |= np.where(moved > 127, np.uint8(255), np.uint8(0))

    def _steady(self) -> NDArray[np.bool_]:
        """Places (in the learning's coordinates) whose mean level while learning lay within
        ``fall_steady`` of the drop margin above their floor: tissue that held its level, not a pulsating
        vessel wall or a place the needle crossed while learning."""
        if self._steady_map is None:
            assert self._floor is not None and self._sum is not None
            mean = self._sum / np.float32(max(1, self._count))
            margin = max(4.0, self.drop * self._tissue_level) * self.fall_steady
            self._steady_map = np.asarray(mean - self._floor.astype(np.float32) <= np.float32(margin))
        return self._steady_map

    def _still_quiet(
        self, core: NDArray[np.uint8], marks: NDArray[np.uint8], corner: tuple[int, int]
    ) -> None:
        """Add to ``core`` the places under the shaft whose texture along it fell and stayed quiet.

        ``marks`` holds, over the band's bounding box from ``corner`` (row, column), the places quiet in
        this frame, the loud ones and the band itself (255 where so). Per place, in the coordinates of the
        learning (the probe's motion undone, so a place is the same tissue from frame to frame), the
        frames in a row it was quiet are counted, and whether it was heard: loud in the band in some
        frame, or first in the band after the band's first frame (uncovered by a needle that advanced
        since; the fluid comes out there). A place counts as fluid once it was quiet for ``quiet_frames``
        frames in a row and was heard: tissue that is smooth under a shaft at rest is quiet from the band's
        first frame on and is never heard, and noise rarely keeps a place quiet frame after frame.
        """
        z0, x0 = corner
        back = _inverse(self._motion)  # this frame to the learning
        lx0, lz0, lx1, lz1 = self._learning_window(core.shape, marks.shape[:2], corner)
        first = self._quiet is None or self._heard is None or self._quiet.shape != core.shape
        if first:  # the band's first frame
            self._quiet, self._heard = np.zeros(core.shape, np.uint8), np.zeros(core.shape, np.uint8)
        assert self._quiet is not None and self._heard is not None
        counts = np.zeros(core.shape, np.uint8)  # every place outside the band is not quiet
        if lx1 <= lx0 or lz1 <= lz0:
            self._quiet = counts
            return
        to_window = back.copy()  # the band's box to the window of the learning's coordinates
        to_window[:, 2] += back[:, :2] @ np.array([x0, z0], dtype=np.float64) - (lx0, lz0)
        window = cv2.warpAffine(marks, to_window, (lx1 - lx0, lz1 - lz0), flags=cv2.INTER_LINEAR) > 127
        quiet, loud, band = window[..., 0], window[..., 1], window[..., 2]
        heard = self._heard[lz0:lz1, lx0:lx1]
        if first:
            heard[:] = np.where(loud, np.uint8(2), np.where(band, np.uint8(1), np.uint8(0)))
        else:
            heard[((heard == 0) & band) | loud] = 2
        previous = self._quiet[lz0:lz1, lx0:lx1]
        counts[lz0:lz1, lx0:lx1] = np.where(quiet, np.minimum(previous, 250) + 1, 0)
        self._quiet = counts
        ready = (counts[lz0:lz1, lx0:lx1] >= self.quiet_frames) & (heard == 2)
        if ready.any():
            self._add_from_learning(core, ready, (lz0, lx0))

    def _measure(self, fresh: NDArray[np.uint8], tip_mm: tuple[float, float] | None) -> SpreadObservation:
        ws = self.work_spacing_mm
        # label within the box around the fluid, its corner on even pixels: the labels come in the same
        # order as over the whole image (the labelling scans blocks of 2 by 2 pixels)
        x0, z0, w, h = cv2.boundingRect(fresh)
        x0, z0 = x0 - x0 % 2, z0 - z0 % 2
        box = fresh[z0 : z0 + h + 2, x0 : x0 + w + 2]
        n, labels, stats, centroids = cv2.connectedComponentsWithStats(box, connectivity=8)
        min_px = self.min_area_mm2 / (ws * ws)
        keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_px]
        if not keep:
            return SpreadObservation(False)
        areas = stats[keep, cv2.CC_STAT_AREA]
        biggest = keep[int(np.argmax(areas))]
        kept = np.zeros(n, dtype=np.uint8)
        kept[keep] = 1
        mask = kept[labels]
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(x0, z0))
        outlines = [(c.reshape(-1, 2).astype(np.float64) + 0.5) * ws for c in contours]
        distance = float("nan")
        if tip_mm is not None and math.isfinite(tip_mm[0]):
            rows, cols = np.nonzero(mask)
            rows, cols = rows + z0, cols + x0
            distance = float(np.min(np.hypot((cols + 0.5) * ws - tip_mm[0], (rows + 0.5) * ws - tip_mm[1])))
        cx, cz = (
            _whole_centroid(centroids[biggest], int(stats[biggest, cv2.CC_STAT_AREA]), (x0, z0)) + 0.5
        ) * ws
        return SpreadObservation(True, float(areas.sum()) * ws * ws, float(cx), float(cz), distance, outlines)


def _whole_centroid(centroid: NDArray[np.float64], area: int, corner: tuple[int, int]) -> NDArray[np.float64]:
    """The centroid that OpenCV's labelling gives over the whole image (the sum of the pixels' column and
    row numbers over the area), from the one it gave within a box whose top left corner is ``corner``
    (column, row): the whole sums are recovered exactly, so the value is the same to the last bit."""
    sums = (
        round(float(centroid[0]) * area) + area * corner[0],
        round(float(centroid[1]) * area) + area * corner[1],
    )
    return np.array([sums[0] / area, sums[1] / area], dtype=np.float64)

"""The one frame type every ultrasound source produces and every guidance step consumes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from painguide.errors import ValidationError
from painguide.i18n.marks import N_

__all__ = ["Frame", "FrameTruth", "check_spacing_mm"]


def check_spacing_mm(spacing_mm: float | None, name: str = "spacing_mm") -> None:
    """Refuse a pixel size given by the user that is not a positive number of millimetres (``None``: none
    given). Checked whether or not the source needs it, so a mistyped value never passes unnoticed.

    Raises
    ------
    ValidationError
        Named ``name`` (the option or form field), with the value and an example.
    """
    if spacing_mm is not None and not (math.isfinite(spacing_mm) and spacing_mm > 0):
        raise ValidationError(
            name,
            N_("expected a positive pixel size in mm such as 0.1, got %(value)s"),
            value=spacing_mm,
        )


@dataclass(frozen=True, slots=True)
class Frame:
    """One B-mode frame of the ultrasound image region, in physical units.

    Attributes
    ----------
    pixels : ndarray of shape (rows, cols), dtype uint8
        Grey levels of the image region only (annotations and borders outside the region are cropped).
    row_spacing_mm : float
        Size of one row step in depth (``z_mm``), in millimetres.
    col_spacing_mm : float
        Size of one column step laterally (``x_mm``), in millimetres.
    time_s : float
        Acquisition time of the frame relative to the first frame of the source, in seconds.
    index : int
        Position of the frame in its source, from 0.
    source_id : str
        Where the frame came from (``dicom:/path``, ``video:0``, ``igtl:host:port``).
    colour : ndarray of shape (rows, cols, 3), dtype uint8, optional
        The RGB image region when the source is in colour (colour Doppler); ``pixels`` is its luminance.
    """

    pixels: NDArray[np.uint8]
    row_spacing_mm: float
    col_spacing_mm: float
    time_s: float
    index: int = 0
    source_id: str = ""
    colour: NDArray[np.uint8] | None = None

    def __post_init__(self) -> None:
        if self.pixels.ndim != 2 or self.pixels.dtype != np.uint8:
            raise ValidationError(
                "pixels",
                f"expected a 2-D uint8 array of shape (rows, cols), got {self.pixels.dtype} "
                f"with shape {self.pixels.shape}; convert colour frames to grey first",
            )
        for name in ("row_spacing_mm", "col_spacing_mm"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValidationError(name, f"must be a positive number of millimetres, got {value!r}")
        if self.colour is not None and self.colour.shape != (*self.pixels.shape, 3):
            raise ValidationError(
                "colour",
                f"expected shape {(*self.pixels.shape, 3)} like the grey pixels, got {self.colour.shape}",
            )

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the image region."""
        rows, cols = self.pixels.shape
        return int(rows), int(cols)

    @property
    def width_mm(self) -> float:
        """Lateral extent of the image region in millimetres."""
        return self.shape[1] * self.col_spacing_mm

    @property
    def depth_mm(self) -> float:
        """Depth extent of the image region in millimetres."""
        return self.shape[0] * self.row_spacing_mm


@dataclass(frozen=True, slots=True)
class FrameTruth:
    """Exact ground truth of one simulated frame.

    Attributes
    ----------
    needle_visible : bool
        Whether an in-plane needle shaft of useful length is inside the image region.
    tip_x_mm, tip_z_mm : float
        Tip position from the top-left corner of the image region (``nan`` without a needle).
    angle_deg : float
        Shaft angle to the horizontal, in degrees, positive when the needle goes deeper to the right.
    visible_length_mm : float
        Length of the shaft inside the image region.
    spread_visible : bool
        Whether injectate is present in the image.
    spread_area_mm2 : float
        Area of the injectate pool.
    spread_x_mm, spread_z_mm : float
        Centre of the injectate pool (``nan`` when absent).
    tip_visible : bool
        Whether the last millimetre of the shaft, with the tip, is in the beam plane and in the image (the
        tip error is measured only then); ``None`` means the same as ``needle_visible``.
    vessels : tuple of tuple of float
        ``(x_mm, z_mm, rx_mm, rz_mm)`` of each vessel lumen (centre and semi-axes).
    fluid_in_vessel : bool
        Whether the injected fluid is inside a vessel.
    """

    needle_visible: bool
    tip_x_mm: float
    tip_z_mm: float
    angle_deg: float
    visible_length_mm: float
    spread_visible: bool
    spread_area_mm2: float
    spread_x_mm: float = field(default=float("nan"))
    spread_z_mm: float = field(default=float("nan"))
    tip_visible: bool | None = None
    vessels: tuple[tuple[float, float, float, float], ...] = ()
    fluid_in_vessel: bool = False

    @property
    def tip_seen(self) -> bool:
        """Whether the tip itself is visible (``tip_visible``, defaulting to ``needle_visible``)."""
        return self.needle_visible if self.tip_visible is None else self.tip_visible

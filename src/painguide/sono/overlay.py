"""Annotated frames and videos: shaft, tip, spread contour, vessels and warnings over the B-mode image."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.errors import ValidationError
from painguide.i18n.text import ENGLISH, Texts, number
from painguide.outputs import check_output_file
from painguide.sono.frames import Frame
from painguide.sono.pipeline import EVENT_LABELS, FrameResult

__all__ = ["VideoWriter", "burnable", "draw_overlay"]

_SHAFT = (0, 220, 255)
_TIP = (0, 0, 255)
_SPREAD = (255, 200, 0)
_WARN = (0, 0, 255)
_VESSEL = (255, 0, 255)


def draw_overlay(
    frame: Frame, result: FrameResult, *, warnings: Iterable[str] = (), tr: Texts = ENGLISH
) -> NDArray[np.uint8]:
    """Draw the guidance result over a frame.

    Parameters
    ----------
    frame : Frame
        The frame that was analysed.
    result : FrameResult
        The pipeline's result for it.
    warnings : iterable of str
        Active warnings to print at the top: event types (``no_visible_spread``), each written as its
        label in ``tr``'s language; any other text is printed as given.
    tr : Texts
        The reader's language for the burned-in words and numbers (English by default).

    Returns
    -------
    ndarray of shape (rows, cols, 3), dtype uint8
        BGR image.
    """
    if frame.colour is not None:
        image = cv2.cvtColor(frame.colour, cv2.COLOR_RGB2BGR)
    else:
        image = cv2.cvtColor(frame.pixels, cv2.COLOR_GRAY2BGR)
    sx, sz = 1.0 / frame.col_spacing_mm, 1.0 / frame.row_spacing_mm
    scale = max(0.35, image.shape[1] / 900.0)
    n = result.needle
    if n.visible:
        start = (round(n.start_x_mm * sx), round(n.start_z_mm * sz))
        tip = (round(n.tip_x_mm * sx), round(n.tip_z_mm * sz))
        cv2.line(image, start, tip, _SHAFT, 1, cv2.LINE_AA)
        cv2.circle(image, tip, max(3, round(4 * scale)), _TIP, 1, cv2.LINE_AA)
        label = tr.gettext(
            "tip x=%(x)s z=%(z)s mm %(angle)s deg conf %(confidence)s",
            x=number(n.tip_x_mm, tr.language, ".1f"),
            z=number(n.tip_z_mm, tr.language, ".1f"),
            angle=number(abs(n.angle_deg), tr.language, ".0f"),
            confidence=number(n.confidence, tr.language, ".2f"),
        )
    else:
        label = tr.gettext("needle not visible")
    for outline in result.spread.contours_mm:
        points = np.rint(outline * [sx, sz]).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(image, [points], True, _SPREAD, 1, cv2.LINE_AA)
    for vessel in result.vessels:
        points = np.rint(vessel.outline_mm * [sx, sz]).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(image, [points], True, _VESSEL, 1, cv2.LINE_AA)
    if result.spread.visible:
        label += " | " + tr.gettext(
            "spread %(area)s mm2", area=number(result.spread.area_mm2, tr.language, ".0f")
        )
    if result.vessels:
        label += " | " + tr.gettext("vessels %(n)s", n=len(result.vessels))
    rows = image.shape[0]
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(image, burnable(label), (4, rows - 6), font, 0.45 * scale, (255, 255, 255), 1)
    for i, text in enumerate(warnings):
        y = round((18 + 18 * i) * scale)
        shown = burnable(tr.gettext(EVENT_LABELS[text]) if text in EVENT_LABELS else text)
        cv2.putText(image, shown, (4, y), font, 0.5 * scale, _WARN, max(1, round(scale)))
    return np.asarray(image, dtype=np.uint8)


_SPELLED = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "ss", "²": "2"}
)


def burnable(text: str) -> str:
    """``text`` in the ASCII letters that OpenCV's built-in (Hershey) fonts can draw: German umlauts and ß
    spelled out, other accents dropped, anything else left out.

    Examples
    --------
    >>> burnable("GEFÄSS NAHE DEM NADELWEG"), burnable("Größe 3 mm²"), burnable("née")
    ('GEFAESS NAHE DEM NADELWEG', 'Groesse 3 mm2', 'nee')
    """
    spelled = unicodedata.normalize("NFKD", text.translate(_SPELLED))
    return spelled.encode("ascii", "ignore").decode("ascii")


def check_video_path(path: str | Path) -> Path:
    """Refuse an annotated video's path that cannot be written, before any work is done for it: a suffix
    other than ``.mp4`` or ``.avi``, or a place no file can be written (:func:`check_output_file`).

    Raises
    ------
    ValidationError
        ``--out``, naming the path and what to change.
    """
    if Path(path).suffix.lower() not in (".mp4", ".avi"):
        raise ValidationError("--out", f"{path}: use an .mp4 or .avi file name")
    return check_output_file(path, "--out", example="overlay.mp4")


class VideoWriter:
    """Write annotated frames to an MP4 (``mp4v``) or AVI (``MJPG``) file.

    Parameters
    ----------
    path : str or Path
        Output file; the suffix selects the container.
    fps : float
        Playback frame rate.
    """

    def __init__(self, path: str | Path, *, fps: float) -> None:
        self.path = check_video_path(path)
        if not math.isfinite(fps) or fps <= 0:
            fps = 20.0
        self.fps = fps
        self._writer: cv2.VideoWriter | None = None

    def write(self, image: NDArray[np.uint8]) -> None:
        """Append one BGR image of shape (rows, cols, 3); all images must have the same size."""
        if self._writer is None:
            fourcc = cv2.VideoWriter.fourcc(*("mp4v" if self.path.suffix.lower() == ".mp4" else "MJPG"))
            self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (image.shape[1], image.shape[0]))
            if not self._writer.isOpened():
                raise ValidationError("--out", f"{self.path}: the video file cannot be written")
        self._writer.write(image)

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

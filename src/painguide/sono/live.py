"""Live guidance: a frame source, the pipeline, OpenIGTLink replies and the latest annotated image."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.sono.frames import Frame
from painguide.sono.pipeline import FrameResult, GuidancePipeline

__all__ = ["LiveSession", "run_live"]


class LiveSession:
    """Process frames as they come and keep the latest overlay and warnings for display.

    Parameters
    ----------
    pipeline : GuidancePipeline, optional
        The pipeline (default settings when omitted).
    publishers : list of callable
        Called with each :class:`FrameResult` (for example :class:`painguide.sono.igtl.IgtlPublisher`).
    realtime : bool
        Pace replayed frames at their recorded frame times.
    """

    def __init__(
        self,
        *,
        pipeline: GuidancePipeline | None = None,
        publishers: Iterable[Callable[[FrameResult], Any]] = (),
        realtime: bool = False,
    ) -> None:
        self.pipeline = pipeline if pipeline is not None else GuidancePipeline(wait_for_injection=True)
        self.publishers = list(publishers)
        self.realtime = realtime
        self.warnings: list[str] = []
        self._lock = threading.Lock()
        self._jpeg: bytes | None = None
        self._last_time = 0.0
        self._stop = threading.Event()
        self.frames = 0

    def stop(self) -> None:
        """Ask :meth:`run` to return before the next frame."""
        self._stop.set()

    def signal_injection(self) -> None:
        """Mark the injection start at the latest frame time (API call or OpenIGTLink STRING)."""
        self.pipeline.start_injection(self._last_time)

    def on_string(self, device_name: str, text: str) -> None:
        """Handle an incoming OpenIGTLink STRING message."""
        from painguide.sono.igtl import is_injection_start

        if is_injection_start(device_name, text):
            self.signal_injection()

    def latest_jpeg(self) -> bytes | None:
        """The latest annotated frame as JPEG (``None`` before the first frame)."""
        with self._lock:
            return self._jpeg

    def step(self, frame: Frame) -> FrameResult:
        """Process one frame, publish it and update the overlay."""
        from painguide.sono.overlay import draw_overlay

        self._last_time = frame.time_s
        result = self.pipeline(frame)
        self.warnings.extend(e.type.replace("_", " ").upper() for e in result.events if e.is_warning)
        for publish in self.publishers:
            publish(result)
        image: NDArray[np.uint8] = draw_overlay(frame, result, warnings=self.warnings)
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        with self._lock:
            self._jpeg = encoded.tobytes() if ok else self._jpeg
        self.frames += 1
        return result

    def run(self, frames: Iterable[Frame], *, max_frames: int | None = None) -> Iterable[FrameResult]:
        """Process frames until the source ends or ``max_frames`` is reached, yielding each result."""
        started, first = time.monotonic(), None
        for frame in frames:
            if self._stop.is_set() or (max_frames is not None and self.frames >= max_frames):
                return
            if self.realtime:
                first = frame.time_s if first is None else first
                delay = (frame.time_s - first) - (time.monotonic() - started)
                if delay > 0 and self._stop.wait(delay):
                    return
            yield self.step(frame)


def run_live(
    spec: str,
    *,
    igtl_out: int | None = None,
    spacing_mm: float | None = None,
    injection_at_s: float | None = None,
    max_frames: int | None = None,
    sink: Callable[[dict[str, Any]], None] | None = None,
) -> LiveSession:
    """Run a live session from a source specification until it ends.

    Parameters
    ----------
    spec : str
        ``dicom:FILE``, ``video:PATH_OR_INDEX`` or ``igtl:HOST:PORT``.
    igtl_out : int, optional
        Serve results over OpenIGTLink on this local port.
    spacing_mm : float, optional
        Pixel size for video sources.
    injection_at_s : float, optional
        Injection start for replayed files.
    max_frames : int, optional
        Stop after this many frames.
    sink : callable, optional
        Receives each frame's JSON line (with its events).

    Returns
    -------
    LiveSession
        The finished session.
    """
    from painguide.sono.igtl import IgtlPublisher
    from painguide.sono.sources import IgtlImageSource, open_source

    pipeline = GuidancePipeline(injection_at_s=injection_at_s, wait_for_injection=injection_at_s is None)
    session = LiveSession(pipeline=pipeline, realtime=spec.startswith("dicom:"))
    closers: list[Callable[[], Any]] = []
    if spec.startswith("igtl:"):
        host, _, port = spec[5:].rpartition(":")
        source: Iterable[Frame] = IgtlImageSource(host, int(port), on_string=session.on_string)
        session.publishers.append(IgtlPublisher(source.client))  # type: ignore[attr-defined]
        closers.append(source.close)  # type: ignore[attr-defined]
    else:
        source = open_source(spec, spacing_mm=spacing_mm)
    if igtl_out is not None:
        import pyigtl

        server = pyigtl.OpenIGTLinkServer(port=igtl_out, local_server=True)
        session.publishers.append(IgtlPublisher(server))
        closers.append(server.stop)
    try:
        for result in session.run(source, max_frames=max_frames):
            if sink is not None:
                line = result.as_dict()
                line["events"] = [e.as_dict() for e in result.events]
                sink(line)
    finally:
        for close in closers:
            close()
    return session

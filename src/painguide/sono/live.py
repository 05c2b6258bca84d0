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

__all__ = ["LiveRunner", "LiveSession", "run_live"]


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

    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

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


def _open(
    spec: str,
    session: LiveSession,
    *,
    spacing_mm: float | None,
    field: str,
    loop: bool = False,
) -> tuple[Iterable[Frame], list[Callable[[], Any]]]:
    """Open a source for a session: OpenIGTLink sources also receive its replies and injection signals."""
    from painguide.sono.igtl import IgtlPublisher
    from painguide.sono.sources import IgtlImageSource, open_source, parse_source, simulated_source

    source = parse_source(spec, field=field)
    if source.kind == "igtl":
        igtl = IgtlImageSource(
            str(source.target), source.port, on_string=session.on_string, should_stop=session.stopped
        )
        session.publishers.append(IgtlPublisher(igtl.client))
        return igtl, [igtl.close]
    if source.kind == "simulated":
        return simulated_source(loop=loop), []
    return open_source(source, spacing_mm=spacing_mm, field=field), []


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
        ``dicom:FILE``, ``video:PATH_OR_INDEX``, ``igtl:HOST:PORT`` or ``simulated``.
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

    pipeline = GuidancePipeline(injection_at_s=injection_at_s, wait_for_injection=injection_at_s is None)
    replay = spec.startswith(("dicom:", "simulated"))
    session = LiveSession(pipeline=pipeline, realtime=replay)
    source, closers = _open(spec, session, spacing_mm=spacing_mm, field="--source")
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


class LiveRunner:
    """A live session running in a background thread on a source chosen at run time (the web page).

    Parameters
    ----------
    spec : str
        ``dicom:FILE``, ``video:PATH_OR_INDEX``, ``igtl:HOST:PORT`` or ``simulated``; the source is opened
        here, so a bad specification raises before any thread starts.
    spacing_mm : float, optional
        Pixel size for video sources.
    field : str
        Name of the form field, for error messages.
    """

    def __init__(self, spec: str, *, spacing_mm: float | None = None, field: str = "source") -> None:
        self.spec = spec
        replay = spec.startswith(("dicom:", "simulated"))
        self.session = LiveSession(pipeline=GuidancePipeline(wait_for_injection=True), realtime=replay)
        self._source, self._closers = _open(spec, self.session, spacing_mm=spacing_mm, field=field, loop=True)
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"sono-live {spec}", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """Whether frames are still being processed."""
        return self._thread.is_alive()

    def _run(self) -> None:
        from painguide.errors import PainguideError

        try:
            for _ in self.session.run(self._source):
                pass
        except (PainguideError, OSError) as exc:  # shown on the page; the thread ends cleanly
            self.error = str(exc)
        finally:
            for close in self._closers:
                close()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop processing and release the source."""
        self.session.stop()
        self._thread.join(timeout=timeout_s)

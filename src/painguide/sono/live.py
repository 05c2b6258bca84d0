"""Live guidance: a frame source, the pipeline, OpenIGTLink replies and the latest annotated image."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.errors import NotFoundError, PainguideError
from painguide.i18n.marks import N_
from painguide.i18n.text import ENGLISH, Texts
from painguide.settings import get_settings
from painguide.sono.analysis import check_injection_at
from painguide.sono.frames import Frame, check_spacing_mm
from painguide.sono.igtl import IgtlPublisher, is_injection_start
from painguide.sono.overlay import draw_overlay
from painguide.sono.pipeline import Event, FrameResult, GuidancePipeline
from painguide.sono.sources import (
    IgtlImageSource,
    check_igtl_host,
    connect_igtl,
    open_source,
    parse_source,
    simulated_source,
)

__all__ = ["Acknowledgement", "LiveEntry", "LiveRegistry", "LiveRunner", "LiveSession", "run_live"]


def _jpeg(image: NDArray[np.uint8]) -> bytes | None:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return encoded.tobytes() if ok else None


def _default_pipeline() -> GuidancePipeline:
    """A live session's pipeline unless it is given one: the injection start is waited for (signalled)."""
    return GuidancePipeline(wait_for_injection=True)


class LiveSession:
    """Process frames as they come and keep the latest overlay and warnings for display.

    Besides the frame-time check of the pipeline, a wall-clock timer runs from the injection start
    (:meth:`tick`), so the "no visible spread" warning also fires when the stream stalls, freezes (repeats
    the same image) or ends.

    Parameters
    ----------
    pipeline : GuidancePipeline, optional
        The pipeline (default settings when omitted).
    publishers : list of callable
        Called with each :class:`FrameResult` (for example :class:`painguide.sono.igtl.IgtlPublisher`).
    realtime : bool
        Pace replayed frames at their recorded frame times.
    stall_after_s : float
        A stream with no new image for this long counts as stalled.
    clock : callable
        Monotonic clock in seconds (tests pass a fake one).
    tr : Texts
        Language of the words burned into the overlay (the owner's); a viewer in another language gets
        its own copy from :meth:`latest_jpeg`.
    """

    def __init__(
        self,
        *,
        pipeline: GuidancePipeline | None = None,
        publishers: Iterable[Callable[[FrameResult], object]] = (),
        realtime: bool = False,
        stall_after_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        tr: Texts = ENGLISH,
    ) -> None:
        self.pipeline = pipeline if pipeline is not None else _default_pipeline()
        self._fresh = pipeline is None  # :meth:`restart` may make a new pipeline of the default settings
        self.publishers = list(publishers)
        self.listeners: list[Callable[[Event], object]] = []
        """Called with each event raised between frames (the wall-clock timer, the end of a cine)."""
        self.realtime = realtime
        self.stall_after_s = stall_after_s
        self.clock = clock
        self.tr = tr
        self.warnings: list[str] = []
        """The event types of the warnings raised so far, oldest first (drawn on the overlay)."""
        self.warning_events: list[Event] = []
        self._lock = threading.Lock()
        self._jpeg: bytes | None = None
        self._drawn = 0
        self._drawn_from: tuple[Frame, FrameResult, tuple[str, ...]] | None = None
        self._other_languages: dict[str, tuple[int, bytes]] = {}
        self._last_time = 0.0
        self._last_frame: Frame | None = None
        self._last_result: FrameResult | None = None
        self._last_new_image: float | None = None
        self._injection_wall: float | None = None
        self._stop = threading.Event()
        self.frames = 0

    def stop(self) -> None:
        """Ask :meth:`run` to return before the next frame."""
        self._stop.set()

    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def restart(self) -> None:
        """Begin a new case on the same source, as the simulated source's next pass does: a new pipeline
        (the default settings) and no injection start yet. Warnings raised so far stay until acknowledged.

        Run on in the pipeline of the pass before, the next pass (the needle back at the skin, no fluid)
        made the page warn "no visible spread ... the fluid seen lies away from the needle or has gone"
        4 s after the first pass's injection start.
        """
        if not self._fresh:
            raise RuntimeError("restart() needs a session with the default pipeline")
        with self._lock:
            self.pipeline = _default_pipeline()
            self._injection_wall = None

    def signal_injection(self) -> None:
        """Mark the injection start at the latest frame time (API call or OpenIGTLink STRING).

        The wall-clock timer starts now, even if no further frame arrives.
        """
        with self._lock:
            self.pipeline.start_injection(self._last_time)
            if self._injection_wall is None:
                self._injection_wall = self.clock()

    @property
    def injection_signalled(self) -> bool:
        """Whether the injection start was signalled or reached."""
        return self._injection_wall is not None or self.pipeline.injection_time_s is not None

    def on_string(self, device_name: str, text: str) -> None:
        """Handle an incoming OpenIGTLink STRING message."""

        if is_injection_start(device_name, text):
            self.signal_injection()

    @property
    def latest_result(self) -> FrameResult | None:
        """The result of the latest frame (``None`` before the first)."""
        with self._lock:
            return self._last_result

    @property
    def last_time_s(self) -> float:
        """Time of the latest frame on the source's time axis."""
        return self._last_time

    def latest_jpeg(self, tr: Texts | None = None) -> bytes | None:
        """The latest annotated frame as JPEG (``None`` before the first frame).

        With ``tr`` in another language than the session's, the same frame is drawn once more with that
        language's words (kept until the next frame, so each viewer's language costs one drawing per frame).
        """
        with self._lock:
            if tr is None or tr.language == self.tr.language or self._drawn_from is None:
                return self._jpeg
            version, drawn_from = self._drawn, self._drawn_from
            kept = self._other_languages.get(tr.language)
        if kept is not None and kept[0] == version:
            return kept[1]
        frame, result, warnings = drawn_from
        jpeg = _jpeg(draw_overlay(frame, result, warnings=warnings, tr=tr))
        if jpeg is None:
            return self.latest_jpeg()
        with self._lock:
            self._other_languages[tr.language] = (version, jpeg)
        return jpeg

    def step(self, frame: Frame) -> FrameResult:
        """Process one frame, publish it and update the overlay."""
        self.tick()  # the wall clock first, so a frozen stream is reported as stalled
        now = self.clock()
        with self._lock:
            previous = self._last_frame
            if previous is None or not np.array_equal(previous.pixels, frame.pixels):
                self._last_new_image = now
            self._last_time = frame.time_s
            result = self.pipeline(frame)
            if self._injection_wall is None and self.pipeline.injection_time_s is not None:
                self._injection_wall = now
            self._last_frame, self._last_result = frame, result
        for event in result.events:
            self._record(event, between_frames=False)
        for publish in self.publishers:
            publish(result)
        self._draw(frame, result)
        self.frames += 1
        return result

    def tick(self) -> Event | None:
        """Check the wall clock: warn "no visible spread" once the timeout has passed since the start.

        Called a few times a second by a timer thread (:meth:`watch`), independent of frames arriving.

        Returns
        -------
        Event or None
            The warning when it fires now; its detail says when the stream stalled, froze or ended.
        """
        now = self.clock()
        with self._lock:
            started = self._injection_wall
            if started is None or now - started < self.pipeline.no_spread_timeout_s:
                return None
            last_image = self._last_new_image if self._last_new_image is not None else started
            gap = now - last_image
            if gap >= self.stall_after_s:
                text = N_(
                    "no visible spread %(seconds)s s after the injection start: the stream stalled (no new "
                    "image for %(gap)s s), so spread cannot be seen; check the scanner and its connection, "
                    "and the needle position"
                )
            else:
                text = N_(
                    "no visible spread %(seconds)s s after the injection start: stop and check the needle "
                    "position (intravascular or out of plane?)"
                )
            last_new = self._last_new_image if self._last_new_image is not None else now
            event = self.pipeline.warn_no_spread(
                self._last_time + max(0.0, now - last_new),
                text,
                seconds=round(now - started, 1),
                gap=round(gap, 1),
            )
            frame, result = self._last_frame, self._last_result
        if event is None:
            return None
        self._record(event)
        for publish in self.publishers:
            send = getattr(publish, "send_event", None)
            if send is not None:
                send(event)
        if frame is not None and result is not None:
            self._draw(frame, result)
        return event

    def watch(self, *, interval_s: float = 0.1) -> threading.Thread:
        """Start the wall-clock timer thread; it ticks until :meth:`stop` is called."""

        def loop() -> None:
            while not self._stop.wait(interval_s):
                self.tick()

        thread = threading.Thread(target=loop, name="sono-live timer", daemon=True)
        thread.start()
        return thread

    def finish(self) -> list[Event]:
        """At the end of a replayed cine: warn when it ended after the injection start without spread."""
        with self._lock:
            events = self.pipeline.finish(self._last_time) if self.frames else []
        for event in events:
            self._record(event)
        return events

    def _record(self, event: Event, *, between_frames: bool = True) -> None:
        if event.is_warning:
            with self._lock:
                self.warning_events.append(event)
                self.warnings.append(event.type)
        if between_frames:
            for listen in self.listeners:
                listen(event)

    def _draw(self, frame: Frame, result: FrameResult) -> None:
        warnings = tuple(self.warnings)
        jpeg = _jpeg(draw_overlay(frame, result, warnings=warnings, tr=self.tr))
        with self._lock:
            self._jpeg = jpeg if jpeg is not None else self._jpeg
            self._drawn += 1
            self._drawn_from = (frame, result, warnings)

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
) -> tuple[Iterable[Frame], list[Callable[[], object]]]:
    """Open a source for a session: OpenIGTLink sources also receive its replies and injection signals, and
    the simulated source signals its own injection start.

    An ``igtl:`` host must be on ``PAINGUIDE_IGTL_ALLOWED_HOSTS`` and accept a connection.
    """

    source = parse_source(spec, field=field)
    check_spacing_mm(spacing_mm, "--spacing-mm" if field == "--source" else "spacing_mm")
    if source.kind == "igtl":
        host = str(source.target)
        check_igtl_host(host, get_settings().igtl_allowed_hosts, field=field)
        client = connect_igtl(host, source.port)
        igtl = IgtlImageSource(
            host, source.port, on_string=session.on_string, should_stop=session.stopped, client=client
        )
        session.publishers.append(IgtlPublisher(igtl.client))
        return igtl, [igtl.close]
    if source.kind == "simulated":  # signals its injection start unless one was given (`--injection-at`)
        waits = session.pipeline.wait_for_injection and session.pipeline.injection_at_s is None
        return (
            simulated_source(
                loop=loop,
                on_injection=session.signal_injection if waits else None,
                on_pass=session.restart if loop else None,
            ),
            [],
        )
    return open_source(source, spacing_mm=spacing_mm, field=field), []


def _event_line(event: Event) -> dict[str, object]:
    """A JSON line for an event raised between frames (by the wall-clock timer or at the end)."""
    return {"time_s": round(event.time_s, 4), "events": [event.as_dict()]}


def run_live(
    spec: str,
    *,
    igtl_out: int | None = None,
    spacing_mm: float | None = None,
    injection_at_s: float | None = None,
    max_frames: int | None = None,
    sink: Callable[[dict[str, object]], None] | None = None,
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
        Receives each frame's JSON line (with its events), and a line ``{"time_s", "events"}`` for a warning
        raised between frames (the wall-clock timer, or a replayed cine that ends without spread).

    Returns
    -------
    LiveSession
        The finished session.
    """

    check_injection_at(None, injection_at_s)
    pipeline = GuidancePipeline(injection_at_s=injection_at_s, wait_for_injection=injection_at_s is None)
    replay = spec.startswith(("dicom:", "simulated"))
    session = LiveSession(pipeline=pipeline, realtime=replay)
    source, closers = _open(spec, session, spacing_mm=spacing_mm, field="--source")
    if injection_at_s is not None and spec.startswith("dicom:"):  # a replayed file: its end is known
        frames = list(source)
        check_injection_at(frames, injection_at_s)
        source = frames
    if igtl_out is not None:
        import pyigtl

        server = pyigtl.OpenIGTLinkServer(port=igtl_out, local_server=True)
        session.publishers.append(IgtlPublisher(server))
        closers.append(server.stop)
    if sink is not None:
        session.listeners.append(lambda event: sink(_event_line(event)))
    session.watch()
    try:
        for result in session.run(source, max_frames=max_frames):
            if sink is not None:
                sink({**result.as_dict(), "events": [e.as_dict() for e in result.events]})
        if not session.stopped():
            session.finish()
    finally:
        session.stop()
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
    tr : Texts
        Language of the overlay's words (the operator's).
    """

    def __init__(
        self, spec: str, *, spacing_mm: float | None = None, field: str = "source", tr: Texts = ENGLISH
    ) -> None:
        self.spec = spec
        replay = spec.startswith(("dicom:", "simulated"))
        self.session = LiveSession(realtime=replay, tr=tr)  # a new case on each pass of a simulated loop
        self._source, self._closers = _open(spec, self.session, spacing_mm=spacing_mm, field=field, loop=True)
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"sono-live {spec}", daemon=True)
        self._thread.start()
        self.session.watch()

    @property
    def running(self) -> bool:
        """Whether frames are still being processed."""
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            for _ in self.session.run(self._source):
                pass
        except (PainguideError, OSError) as exc:  # shown on the page; the thread ends cleanly
            self.error = str(exc)
        finally:
            for close in self._closers:
                close()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop processing, the wall-clock timer and release the source."""
        self.session.stop()
        self._thread.join(timeout=timeout_s)


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """Who acknowledged a warning, and when (UTC)."""

    by: str
    at: datetime


@dataclass(slots=True)
class LiveEntry:
    """One operator's live session as the registry keeps it.

    Attributes
    ----------
    id : str
        Short random id used in URLs.
    owner : str
        User name of the operator who started it.
    label : str
        The source as the operator typed it.
    runner : LiveRunner
        The running session.
    started_at : datetime
        When the current source was started (UTC).
    acknowledged : dict of int to Acknowledgement
        Acknowledged warnings, by their index in ``runner.session.warning_events``.
    """

    id: str
    owner: str
    label: str
    runner: LiveRunner
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    acknowledged: dict[int, Acknowledgement] = field(default_factory=dict)


class LiveRegistry:
    """The live sessions of a server: at most one per operator, each with its own source and warnings."""

    def __init__(self) -> None:
        self._entries: dict[str, LiveEntry] = {}
        self._lock = threading.Lock()

    def entries(self) -> list[LiveEntry]:
        """Every session, oldest first."""
        with self._lock:
            return sorted(self._entries.values(), key=lambda e: e.started_at)

    def get(self, session_id: str) -> LiveEntry:
        """The session with this id; raises :class:`NotFoundError` when there is none."""

        with self._lock:
            entry = self._entries.get(session_id)
        if entry is None:
            raise NotFoundError(
                f"live session {session_id!r} does not exist (it may have been stopped); "
                "choose one from the list on /sono/live"
            )
        return entry

    def owned_by(self, owner: str) -> LiveEntry | None:
        """The session of this operator, if any."""
        with self._lock:
            return next((e for e in self._entries.values() if e.owner == owner), None)

    def start(
        self,
        owner: str,
        spec: str,
        *,
        label: str,
        spacing_mm: float | None = None,
        session_id: str | None = None,
        tr: Texts = ENGLISH,
    ) -> tuple[LiveEntry, LiveRunner | None]:
        """Open ``spec`` and run it in the session ``session_id`` (or the owner's own, created if needed).

        The new source is opened first, so a bad source leaves the current one running. Returns the entry
        and the replaced runner, which the caller stops. ``tr`` is the language of the overlay's words.
        """
        runner = LiveRunner(spec, spacing_mm=spacing_mm, field="source", tr=tr)
        with self._lock:
            entry = self._entries.get(session_id) if session_id else None
            if entry is None:
                entry = next((e for e in self._entries.values() if e.owner == owner), None)
            if entry is None:
                entry = LiveEntry(secrets.token_hex(4), owner, label, runner)
                self._entries[entry.id] = entry
                return entry, None
            old = entry.runner
            entry.runner, entry.label = runner, label
            entry.started_at, entry.acknowledged = datetime.now(UTC), {}
            return entry, old

    def remove(self, session_id: str) -> LiveEntry | None:
        """Take a session out of the registry (the caller stops its runner)."""
        with self._lock:
            return self._entries.pop(session_id, None)

    def stop_all(self) -> None:
        """Stop and forget every session (server shutdown, tests)."""
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
        for entry in entries:
            entry.runner.stop()

"""The wall-clock timer of live sessions and the end-of-cine warning: the warning fires without frames."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.live import LiveSession
from painguide.sono.pipeline import GuidancePipeline


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _frame(i: int, *, seed: int | None = None) -> Frame:
    rng = np.random.default_rng(i if seed is None else seed)
    pixels = rng.integers(40, 90, size=(80, 100), dtype=np.uint8)
    return Frame(pixels, 0.3, 0.3, i / 10.0, i)


def _session(clock: FakeClock) -> LiveSession:
    return LiveSession(pipeline=GuidancePipeline(wait_for_injection=True), clock=clock)


def test_stalled_stream_warns_after_the_timeout_and_says_it_stalled() -> None:
    clock = FakeClock()
    session = _session(clock)
    for i in range(8):
        session.step(_frame(i))
        clock.now += 0.1
    session.signal_injection()  # the stream stops delivering frames from here on
    clock.now += 3.9
    assert session.tick() is None
    clock.now += 0.2
    event = session.tick()
    assert event is not None and event.type == "no_visible_spread"
    assert "stream stalled (no new image for 4.2 s)" in event.detail
    assert session.warning_events == [event]
    assert session.tick() is None  # once only


def test_frozen_stream_repeating_one_image_counts_as_stalled() -> None:
    clock = FakeClock()
    session = _session(clock)
    session.step(_frame(0))
    session.signal_injection()
    for i in range(1, 50):  # the same image keeps coming with advancing times
        clock.now += 0.1
        frozen = _frame(0)
        session.step(Frame(frozen.pixels, 0.3, 0.3, i / 10.0, i))
    warnings = [e for e in session.warning_events if e.type == "no_visible_spread"]
    assert len(warnings) == 1 and "stream stalled" in warnings[0].detail


def test_flowing_stream_warns_on_the_wall_clock_without_a_stall() -> None:
    clock = FakeClock()
    session = _session(clock)
    session.signal_injection()
    for i in range(45):
        session.step(_frame(i))
        clock.now += 0.1
        session.tick()
    assert len(session.warning_events) == 1
    assert "stalled" not in session.warning_events[0].detail
    assert session.warning_events[0].detail.startswith("no visible spread 4.")


def test_no_warning_before_the_injection_is_marked() -> None:
    clock = FakeClock()
    session = _session(clock)
    session.step(_frame(0))
    clock.now += 60
    assert session.tick() is None and session.warning_events == []


def test_source_that_stops_delivering_frames_warns_in_real_time() -> None:
    """A real thread and clock: the source hangs after a few frames; the timer still warns."""
    hang = threading.Event()

    def source() -> Iterator[Frame]:
        for i in range(5):
            yield _frame(i)
        hang.wait(10)  # a stalled scanner: no frame, no end

    pipeline = GuidancePipeline(wait_for_injection=True, no_spread_timeout_s=0.5)
    session = LiveSession(pipeline=pipeline, stall_after_s=0.2)
    fired = threading.Event()
    session.listeners.append(lambda event: fired.set())
    worker = threading.Thread(target=lambda: list(session.run(source())), daemon=True)
    worker.start()
    session.watch(interval_s=0.02)
    while session.frames < 5:
        threading.Event().wait(0.01)
    session.signal_injection()
    try:
        assert fired.wait(5), "the wall-clock timer did not warn on a stalled source"
        assert "stream stalled" in session.warning_events[0].detail
    finally:
        session.stop()
        hang.set()
        worker.join(5)


def test_cine_that_ends_before_the_timeout_reports_it() -> None:
    pipeline = GuidancePipeline(injection_at_s=0.5)
    for i in range(30):  # 3 s of frames; the injection starts at 0.5 s; no fluid ever appears
        pipeline(_frame(i))
    [event] = pipeline.finish(2.9)
    assert event.type == "cine_ended_without_spread" and event.is_warning
    assert event.detail.startswith("cine ended 2.4 s after the injection start with no visible spread")
    assert pipeline.finish(2.9) == []


@pytest.mark.parametrize("injection_at_s", [None, 5.0])
def test_no_end_warning_without_an_injection_in_the_cine(injection_at_s: float | None) -> None:
    pipeline = GuidancePipeline(injection_at_s=injection_at_s)
    for i in range(20):
        pipeline(_frame(i))
    assert pipeline.finish(1.9) == []


def test_each_pass_of_the_looped_simulated_source_is_a_new_case() -> None:
    """The web page's `simulated` source repeats its 6 s cine: each pass shows the needle coming in, the
    injection start signalled at 3.4 s and the spread; the pass after the first is not taken as the first
    case's needle and fluid gone (which warned "no visible spread" 4 s after its injection start)."""
    from painguide.sono.live import _open

    session = LiveSession(clock=FakeClock())  # the wall clock stands still: only the frames decide
    frames, _ = _open("simulated", session, spacing_mm=None, field="source", loop=True)
    events = [e for result in session.run(frames, max_frames=330) for e in result.events]  # 2.75 passes
    kinds = [e.type for e in events]
    assert kinds.count("injection_start") == 3 and kinds.count("spread_onset") == 3
    assert not [e for e in events if e.is_warning] and session.warning_events == []
    starts = [e.time_s for e in events if e.type == "injection_start"]
    assert [round(b - a, 6) for a, b in itertools.pairwise(starts)] == [6.0, 6.0]  # one a pass


def test_a_session_with_its_own_pipeline_cannot_restart_with_other_settings() -> None:
    session = LiveSession(pipeline=GuidancePipeline(injection_at_s=1.0))
    with pytest.raises(RuntimeError, match="default pipeline"):
        session.restart()

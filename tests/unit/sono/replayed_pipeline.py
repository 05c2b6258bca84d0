"""A stand-in for the guidance pipeline in the evaluation's scoring (``familyeval.score_family_cine``): it
returns prepared results frame by frame, so the scoring can be tested on exactly the results it is given."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from painguide.sono import familyeval
from painguide.sono.frames import Frame
from painguide.sono.pipeline import Event, FrameResult


def replay_pipeline(monkeypatch: pytest.MonkeyPatch, result: Callable[[Frame], FrameResult]) -> None:
    """Make the scoring's pipeline answer each frame with ``result(frame)`` and add no end-of-cine event."""

    class Replayed:
        def __init__(self, **_: object) -> None:
            pass

        def finish(self, end_time_s: float) -> list[Event]:
            return []

        def __call__(self, frame: Frame) -> FrameResult:
            return result(frame)

    monkeypatch.setattr(familyeval, "GuidancePipeline", Replayed)

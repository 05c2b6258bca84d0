"""With ``still_ratio`` (on by default) a new short track that does not begin at the image side is not
confirmed on a line that looks as it did before the track was first seen (a still structure: tissue under a
still probe does not change), while a needle that moved there is confirmed as without it; a still shaft that
begins at the side it enters from, or a long one (a needle held in place in the plane), is confirmed as
before (``still_below_mm``)."""

from __future__ import annotations

import pytest
from tests.unit.sono.test_sono_needle_appeared import ANGLE_DEG, ENTRY, _background, _frame

from painguide.sono.needle import NeedleTracker

GUARD = 1.5
INSIDE = (30.0, 0.5)  # under the probe, 15 mm in from the right side: as a bright line at the skin
# (the short still lines held as the needle in development cines began there or deeper inside)


def _shown(lengths: tuple[float, ...], seed: int, *, side: bool = False, **options: float) -> list[bool]:
    base = _background(seed)
    tracker = NeedleTracker(appeared_gain=float("inf"), **options)  # type: ignore[arg-type]
    out = []
    for i, length in enumerate(lengths):
        seen = tracker(_frame(base, i, length, entry=ENTRY if side else INSIDE))
        out.append(seen.visible and abs(seen.angle_deg - ANGLE_DEG) <= 3.0)
    return out


@pytest.mark.parametrize("seed", range(3))
def test_still_short_line_inside_the_image_there_from_the_start_is_not_confirmed(seed: int) -> None:
    still = (8.0,) * 8
    assert not any(_shown(still, seed))  # the default asks it
    assert not any(_shown(still, seed, still_ratio=GUARD))
    assert any(_shown(still, seed, still_ratio=0.0))  # without the guard: confirmed on its second frame


@pytest.mark.parametrize("seed", range(3))
def test_needle_that_moved_along_the_line_is_confirmed_as_without_the_guard(seed: int) -> None:
    moving = (0.0, 0.0, 6.0, 7.0, 8.0, 9.0, 9.5)
    shown = _shown(moving, seed)
    assert shown == _shown(moving, seed, still_ratio=0.0)
    assert shown[4:] == [True] * 3


@pytest.mark.parametrize("seed", range(3))
def test_still_short_shaft_at_the_side_it_enters_from_is_confirmed(seed: int) -> None:
    """A faint needle that came in unseen and stopped: its shaft begins at the image side."""
    still = (8.0,) * 8
    assert any(_shown(still, seed, side=True))


@pytest.mark.parametrize("seed", range(3))
def test_a_long_still_line_is_confirmed_unless_every_track_is_asked(seed: int) -> None:
    still = (14.0,) * 8
    assert any(_shown(still, seed))  # 14 mm is no short line: a needle held in place
    assert not any(_shown(still, seed, still_below_mm=float("inf")))

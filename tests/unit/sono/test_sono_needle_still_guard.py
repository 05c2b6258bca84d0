"""With ``still_ratio`` a new track is not confirmed on a line that looks as it did before the track was
first seen (a still structure: tissue under a still probe does not change), while a needle that entered is
confirmed as without it."""

from __future__ import annotations

import pytest
from tests.unit.sono.test_sono_needle_appeared import ANGLE_DEG, _background, _frame

from painguide.sono.needle import NeedleTracker

GUARD = 1.5


def _shown(lengths: tuple[float, ...], seed: int, **options: float) -> list[bool]:
    base = _background(seed)
    tracker = NeedleTracker(appeared_gain=float("inf"), **options)  # type: ignore[arg-type]
    out = []
    for i, length in enumerate(lengths):
        seen = tracker(_frame(base, i, length))
        out.append(seen.visible and abs(seen.angle_deg - ANGLE_DEG) <= 3.0)
    return out


@pytest.mark.parametrize("seed", range(3))
def test_still_shaft_there_from_the_start_is_not_confirmed(seed: int) -> None:
    still = (8.0,) * 8
    assert not any(_shown(still, seed, still_ratio=GUARD))
    assert any(_shown(still, seed))  # without the guard (the default): confirmed on its second frame


@pytest.mark.parametrize("seed", range(3))
def test_entering_needle_is_confirmed_as_without_the_guard(seed: int) -> None:
    entering = (0.0, 0.0, 6.0, 7.0, 8.0, 9.0, 10.0)
    shown = _shown(entering, seed, still_ratio=GUARD)
    assert shown == _shown(entering, seed)
    assert shown[3:] == [True] * 4

"""The simulator's smooth step is 0 far below its edge and 1 far above it, without an overflow warning
(the warning showed in every evaluation run)."""

from __future__ import annotations

import warnings

import numpy as np

from painguide.sono.phantom import _smooth_step


def test_smooth_step_saturates_quietly() -> None:
    x = np.array([-1000.0, -3.0, 0.0, 3.0, 1000.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step = _smooth_step(x)
    assert step[0] == 0.0 and step[-1] == 1.0
    assert step[2] == np.float32(0.5)
    assert 0.0 < step[1] < 0.01 and 0.99 < step[3] < 1.0

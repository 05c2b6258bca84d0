"""The faster helpers of the needle's tracking path give what the plain versions give."""

from __future__ import annotations

import numpy as np
import pytest

from painguide.sono.needle import _median, _median_u8, _run_ends


def _run_ends_plain(above: np.ndarray, seed: int, max_gap: int) -> tuple[int, int] | None:
    """The run of ``above`` through ``seed`` written with the list of all runs."""
    idx = np.flatnonzero(above)
    if idx.size == 0:
        return None
    split = np.flatnonzero(np.diff(idx) > max_gap + 1)
    starts = np.concatenate([[0], split + 1])
    ends = np.concatenate([split, [idx.size - 1]])
    which = int(np.clip(np.searchsorted(idx[starts], seed, side="right") - 1, 0, starts.size - 1))
    return int(idx[starts[which]]), int(idx[ends[which]])


@pytest.mark.parametrize("seed", range(10))
def test_run_ends_is_the_plain_run(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(200):
        n = int(rng.integers(1, 300))
        above = rng.random(n) < rng.uniform(0.05, 0.95)
        at, gap = int(rng.integers(-5, n + 5)), int(rng.integers(0, 12))
        assert _run_ends(above, at, gap) == _run_ends_plain(above, at, gap)


def test_run_ends_cases() -> None:
    above = np.zeros(40, dtype=bool)
    assert _run_ends(above, 10, 2) is None
    above[[3, 4, 5, 9, 10, 20, 21, 22, 23]] = True
    assert _run_ends(above, 0, 2) == (3, 5)  # before the first run: the first run
    assert _run_ends(above, 10, 2) == (9, 10)
    assert _run_ends(above, 10, 3) == (3, 10)  # the gap of 3 is bridged
    assert _run_ends(above, 15, 2) == (9, 10)  # between runs: the run before
    assert _run_ends(above, 39, 2) == (20, 23)


@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (3, 5), (4, 4), (120, 160), (121, 161)])
def test_median_u8_is_the_float_median(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    for high in (2, 17, 256):
        pixels = rng.integers(0, high, (2 * shape[0], 2 * shape[1]), dtype=np.uint8)
        strided = pixels[::2, ::2]  # a strided view, as the frame's every fourth pixel
        expected = _median(strided.ravel().astype(np.float64))
        assert _median_u8(strided) == expected == float(np.median(strided))

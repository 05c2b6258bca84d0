"""The vessel detector's labelling (BBDT) gives what OpenCV's default labelling gives."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from painguide.sono.vessel import _blobs


def _masks(seed: int, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        rows, cols = int(rng.integers(3, 160)), int(rng.integers(3, 160))
        mask = np.where(rng.random((rows, cols)) < rng.uniform(0.05, 0.7), np.uint8(255), np.uint8(0))
        if k % 2:  # rounder regions, as after the opening
            mask = cv2.morphologyEx(
                mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
            )
        out.append(mask)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_bbdt_labels_as_the_default(seed: int) -> None:
    for mask in _masks(seed, 200):
        n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        m, fast, fast_stats, fast_centroids = cv2.connectedComponentsWithStatsWithAlgorithm(
            mask, 8, cv2.CV_32S, cv2.CCL_BBDT
        )
        assert m == n
        assert np.array_equal(fast, labels)
        assert np.array_equal(fast_stats, stats)
        assert np.array_equal(fast_centroids, centroids)


def _blobs_default(mask: np.ndarray, scale: tuple[float, float], ring: tuple[np.ndarray, float]) -> list:
    """:func:`_blobs` with OpenCV's default labelling, for comparison."""
    real = cv2.connectedComponentsWithStatsWithAlgorithm

    def default(image: np.ndarray, connectivity: int, ltype: int, ccltype: int) -> tuple:
        return cv2.connectedComponentsWithStats(image, connectivity=connectivity, ltype=ltype)

    cv2.connectedComponentsWithStatsWithAlgorithm = default
    try:
        return _blobs(mask, scale, 0.5, 400.0, drop_touching_bottom=True, ring=ring)
    finally:
        cv2.connectedComponentsWithStatsWithAlgorithm = real


@pytest.mark.parametrize("seed", range(4))
def test_blobs_as_with_the_default_labelling(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    for mask in _masks(seed, 40):
        image = rng.integers(0, 256, mask.shape, dtype=np.uint8)
        scale = (float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.2, 0.8)))
        ring = (image, float(rng.uniform(0, 200)))
        fast = _blobs(mask, scale, 0.5, 400.0, drop_touching_bottom=True, ring=ring)
        plain = _blobs_default(mask, scale, ring)
        assert len(fast) == len(plain)
        for a, b in zip(fast, plain, strict=True):
            assert a[:3] == b[:3]
            assert np.array_equal(a[3], b[3])

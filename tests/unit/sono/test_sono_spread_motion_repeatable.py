"""The probe-motion estimate is the same to the last bit for the same image, wherever the image's arrays
happen to lie in memory (OpenCV's ``magnitude`` rounded the last bit differently with their alignment, so
a rerun of the same cine could register it differently)."""

from __future__ import annotations

import cv2
import numpy as np

from painguide.sono.spread import ShiftEstimator


def _at_offset(image: np.ndarray, offset: int) -> np.ndarray:
    """A copy of ``image`` that starts ``offset`` float32 elements into a fresh buffer."""
    buffer = np.empty(image.size + offset, np.float32)
    moved = buffer[offset:].reshape(image.shape)
    moved[:] = image
    return moved


def test_the_same_image_gives_the_same_shift_to_the_last_bit() -> None:
    rng = np.random.default_rng(3)
    reference = cv2.GaussianBlur(rng.random((120, 160)).astype(np.float32), (0, 0), 1.2)
    estimator = ShiftEstimator(reference)
    differing = []
    for k in range(60):
        image = np.roll(reference, (k % 5, k % 7), axis=(0, 1))
        image = image + rng.normal(0.0, 0.01, image.shape).astype(np.float32)
        first = estimator(image)
        assert first is not None
        assert abs(first[0] - k % 7) < 0.5 and abs(first[1] - k % 5) < 0.5
        differing += [(k, offset) for offset in (1, 2, 3) if estimator(_at_offset(image, offset)) != first]
    assert differing == []

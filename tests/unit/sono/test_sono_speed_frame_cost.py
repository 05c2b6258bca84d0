"""The cheaper helpers of the guidance pipeline give what the ones they replaced gave, bit for bit."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from painguide.sono.spread import SpreadDetector, SpreadObservation
from painguide.sono.vessel import Vessel, path_distance


def _blobs(rng: np.random.Generator, shape: tuple[int, int], count: int) -> np.ndarray:
    """Random blobs (some touching the image's edges, some of equal area), 0 or 255."""
    mask = np.zeros(shape, np.uint8)
    rows, cols = shape
    for _ in range(count):
        if rng.random() < 0.3:  # a square: equal areas, so the first label wins the tie
            z, x, side = int(rng.integers(0, rows)), int(rng.integers(0, cols)), int(rng.integers(2, 8))
            mask[z : z + side, x : x + side] = 255
        else:
            centre = (int(rng.integers(-5, cols + 5)), int(rng.integers(-5, rows + 5)))
            axes = (int(rng.integers(1, 15)), int(rng.integers(1, 15)))
            cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    mask[rng.random(shape) < 0.01] = 255  # isolated pixels
    return mask


def _measure_whole(
    fresh: np.ndarray, tip_mm: tuple[float, float] | None, ws: float, min_area_mm2: float
) -> SpreadObservation:
    """The measurement labelling the whole image (as before the box)."""
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(fresh, connectivity=8)
    min_px = min_area_mm2 / (ws * ws)
    keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_px]
    if not keep:
        return SpreadObservation(False)
    areas = stats[keep, cv2.CC_STAT_AREA]
    biggest = keep[int(np.argmax(areas))]
    mask = np.isin(labels, keep).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    outlines = [(c.reshape(-1, 2).astype(np.float64) + 0.5) * ws for c in contours]
    distance = float("nan")
    if tip_mm is not None and math.isfinite(tip_mm[0]):
        rows, cols = np.nonzero(mask)
        distance = float(np.min(np.hypot((cols + 0.5) * ws - tip_mm[0], (rows + 0.5) * ws - tip_mm[1])))
    cx, cz = (centroids[biggest] + 0.5) * ws
    return SpreadObservation(True, float(areas.sum()) * ws * ws, float(cx), float(cz), distance, outlines)


def _grow_whole(core: np.ndarray, local: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """The growth labelling the whole image (as before the box)."""
    if not core.any():
        return core
    edge = np.where(local < outline, np.uint8(255), np.uint8(0)) | core
    n, labels = cv2.connectedComponents(edge, connectivity=4)
    keep = np.zeros(n, dtype=bool)
    keep[np.unique(labels[core > 0])] = True
    keep[0] = False
    return np.where(keep[labels], np.uint8(255), np.uint8(0))


@pytest.mark.parametrize("seed", range(40))
def test_measure_in_box_is_measure_of_whole_image(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(20, 120)), int(rng.integers(20, 120)))
    fresh = _blobs(rng, shape, int(rng.integers(0, 6)))
    detector = SpreadDetector(min_area_mm2=float(rng.choice([0.0, 0.5, 1.0])))
    ws = detector.work_spacing_mm
    tip = None if seed % 4 == 0 else (float(rng.uniform(-5, 35)), float(rng.uniform(-5, 35)))
    got = detector._measure(fresh, tip)
    want = _measure_whole(fresh, tip, ws, detector.min_area_mm2)
    assert got.visible == want.visible
    for a, b in [
        (got.area_mm2, want.area_mm2),
        (got.centre_x_mm, want.centre_x_mm),
        (got.centre_z_mm, want.centre_z_mm),
        (got.distance_to_tip_mm, want.distance_to_tip_mm),
    ]:
        assert (math.isnan(a) and math.isnan(b)) or a == b  # the same to the last bit
    assert len(got.contours_mm) == len(want.contours_mm)
    for a, b in zip(got.contours_mm, want.contours_mm, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("seed", range(40))
def test_grow_in_box_is_growth_over_whole_image(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(20, 120)), int(rng.integers(20, 120)))
    local = rng.integers(0, 256, shape, dtype=np.uint8)
    outline = np.where(_blobs(rng, shape, int(rng.integers(1, 8))) > 0, np.uint8(255), np.uint8(0))
    core = _blobs(rng, shape, int(rng.integers(0, 4)))
    got = SpreadDetector()._grow_to_edge(core, local, outline)
    assert got.dtype == np.uint8
    assert np.array_equal(got, _grow_whole(core, local, outline))


def _path_distance_each_point(
    vessel: Vessel, tip: tuple[float, float], direction: tuple[float, float], ahead_mm: float
) -> float:
    """The distance testing every point of the path against the outline (as before the box)."""
    steps = np.arange(0.0, ahead_mm + 0.25, 0.25)
    path = np.asarray(tip)[None, :] + steps[:, None] * np.asarray(direction)[None, :]
    contour = vessel.outline_mm.astype(np.float32).reshape(-1, 1, 2)
    for point in path:
        if cv2.pointPolygonTest(contour, (float(point[0]), float(point[1])), False) >= 0:
            return 0.0
    diff = path[:, None, :] - vessel.outline_mm[None, :, :]
    return float(np.sqrt(np.min(np.sum(diff * diff, axis=2))))


@pytest.mark.parametrize("seed", range(30))
def test_path_distance_is_the_test_of_every_point(seed: int) -> None:
    rng = np.random.default_rng(seed)
    angles = np.sort(rng.uniform(0.0, 2 * math.pi, int(rng.integers(3, 40))))
    radii = rng.uniform(0.5, 4.0, angles.size)
    centre = rng.uniform(5.0, 30.0, 2)
    outline = centre + np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    vessel = Vessel(float(centre[0]), float(centre[1]), 1.0, outline, "pulsatile")
    for _ in range(20):
        if rng.random() < 0.3:  # a path through a corner of the outline: on its edge
            tip = (float(outline[0, 0]) - 1.0, float(outline[0, 1]))
            direction = (1.0, 0.0)
        else:
            tip = (float(rng.uniform(0.0, 35.0)), float(rng.uniform(0.0, 35.0)))
            a = rng.uniform(0.0, 2 * math.pi)
            direction = (math.cos(a), math.sin(a))
        ahead = float(rng.choice([0.0, 1.0, 5.0, 10.0]))
        assert path_distance(vessel, tip, direction, ahead) == _path_distance_each_point(
            vessel, tip, direction, ahead
        )


@pytest.mark.parametrize("seed", range(40))
def test_bridged_in_box_is_closing_of_whole_image(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(20, 160)), int(rng.integers(20, 160)))
    fluid = _blobs(rng, shape, int(rng.integers(1, 6)))
    z, x = int(rng.integers(0, shape[0])), int(rng.integers(0, shape[1]))
    fluid[z : z + int(rng.integers(1, 4)), x : x + int(rng.integers(10, 60))] = 255  # flat edges
    detector = SpreadDetector(bridge_mm=float(rng.choice([1.0, 3.0, 5.0])))
    assert detector._close is not None
    got = detector._bridged(fluid)
    assert got.dtype == np.uint8
    assert np.array_equal(got, cv2.morphologyEx(fluid, cv2.MORPH_CLOSE, detector._close))

"""A small synthetic stream with a pulsating lumen, shared by the vessel detector's tests."""

from __future__ import annotations

import math

import numpy as np

from painguide.sono.frames import Frame


def pulsing_frames(pulse: float, n: int = 40, colour: bool = False, appears_at: int = 0) -> list[Frame]:
    """Speckled tissue (0.2 mm pixels, 20 frames a second) with a lumen of radius 2.5 mm at (20, 14) mm whose
    radius swings by ``pulse`` at 1.2 Hz, from frame ``appears_at`` on; with ``colour``, the lumen is
    coloured red as Doppler flow during part of each cycle."""
    rng = np.random.default_rng(3)
    z, x = np.mgrid[0:160, 0:200] * 0.2
    frames = []
    for i in range(n):
        t = i / 20
        r = 2.5 * (1 + pulse * math.sin(2 * math.pi * 1.2 * t))
        pixels = np.clip(rng.normal(140, 20, (160, 200)), 0, 255)
        lumen = ((x - 20) ** 2 + (z - 14) ** 2 < r * r) & (i >= appears_at)
        pixels[lumen] = 10
        grey = pixels.astype(np.uint8)
        rgb = None
        if colour and math.sin(2 * math.pi * 1.2 * t) > 0.2:
            rgb = np.repeat(grey[:, :, None], 3, axis=2)
            rgb[lumen] = (220, 20, 20)
        frames.append(Frame(grey, 0.2, 0.2, t, i, "test", rgb))
    return frames

"""OpenIGTLink output for 3D Slicer / SlicerIGT: the tip as TRANSFORM and POINT, warnings as STRING.

``NeedleTipToImage`` is a 4x4 transform in millimetres from the top-left pixel centre of the image region
(x lateral, y depth, z out of plane); its first column is the shaft direction towards the tip, so that a
needle model attached to it in Slicer points along the shaft. The ``NeedleTip`` POINT carries the same
position. Warnings and events go out as STRING messages on device ``PainguideEvent``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from painguide.sono.pipeline import Event, FrameResult

__all__ = ["INJECTION_KEYWORDS", "IgtlPublisher", "is_injection_start", "tip_matrix"]

INJECTION_KEYWORDS = ("INJECTION_START", "INJECT", "START_INJECTION")
"""STRING contents (case-insensitive) that signal the injection start."""


def is_injection_start(device_name: str, text: str) -> bool:
    """Whether a received STRING message signals the injection start.

    >>> is_injection_start("Injection", "start")
    True
    >>> is_injection_start("Status", "idle")
    False
    """
    content = text.strip().upper()
    if device_name.strip().lower() == "injection" and content in ("START", "1", "TRUE"):
        return True
    return content in INJECTION_KEYWORDS


def tip_matrix(tip_x_mm: float, tip_z_mm: float, angle_deg: float) -> NDArray[np.float64]:
    """NeedleTipToImage: rotation about the out-of-plane axis by the shaft angle, translation to the tip.

    Parameters
    ----------
    tip_x_mm, tip_z_mm : float
        Tip position.
    angle_deg : float
        Shaft angle to the horizontal, positive when deeper to the right.

    Returns
    -------
    ndarray of shape (4, 4)
        Homogeneous transform.
    """
    theta = math.radians(angle_deg)
    direction = np.array([math.cos(theta), math.sin(theta)])
    if angle_deg < 0:
        direction = np.array([-math.cos(theta), -math.sin(theta)])  # from the right: tip points left, deeper
    m = np.eye(4)
    m[0, 0], m[1, 0] = direction
    m[0, 1], m[1, 1] = -direction[1], direction[0]
    m[0, 3], m[1, 3] = tip_x_mm, tip_z_mm
    return m


class IgtlPublisher:
    """Send tracking results to an OpenIGTLink peer.

    Parameters
    ----------
    connection : object
        A pyigtl server or client (anything with ``send_message``).
    transform_name, point_name, string_name : str
        Device names.
    """

    def __init__(
        self,
        connection: Any,
        *,
        transform_name: str = "NeedleTipToImage",
        point_name: str = "NeedleTip",
        string_name: str = "PainguideEvent",
    ) -> None:
        self.connection = connection
        self.transform_name = transform_name
        self.point_name = point_name
        self.string_name = string_name

    def __call__(self, result: FrameResult, *, timestamp: float | None = None) -> int:
        """Send the tip (when visible) and every event of one frame; returns the number of messages sent."""
        import pyigtl

        sent = 0
        n = result.needle
        if n.visible:
            matrix = tip_matrix(n.tip_x_mm, n.tip_z_mm, n.angle_deg)
            self.connection.send_message(
                pyigtl.TransformMessage(matrix, timestamp=timestamp, device_name=self.transform_name),
                wait=False,
            )
            self.connection.send_message(
                pyigtl.PointMessage(
                    positions=[[n.tip_x_mm, n.tip_z_mm, 0.0]],
                    names=["NeedleTip"],
                    timestamp=timestamp,
                    device_name=self.point_name,
                ),
                wait=False,
            )
            sent += 2
        for event in result.events:
            sent += self.send_event(event, timestamp=timestamp)
        return sent

    def send_event(self, event: Event, *, timestamp: float | None = None) -> int:
        """Send one event (also those raised between frames) as a STRING; returns 1."""
        import pyigtl

        prefix = "WARNING" if event.is_warning else "EVENT"
        text = f"{prefix} {event.type}: {event.detail}"
        self.connection.send_message(
            pyigtl.StringMessage(text, timestamp=timestamp, device_name=self.string_name), wait=False
        )
        return 1

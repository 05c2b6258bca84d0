"""Frame sources: DICOM files, video files and capture devices (OpenCV), and OpenIGTLink IMAGE streams."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from numpy.typing import NDArray

from painguide.errors import NotFoundError, SourceUnavailableError, ValidationError
from painguide.i18n.marks import N_
from painguide.settings import get_settings
from painguide.sono.dicom import read_dicom_cine
from painguide.sono.frames import Frame, check_spacing_mm
from painguide.sono.simulate import random_params, simulate_cine

if TYPE_CHECKING:
    from pyigtl import OpenIGTLinkClient

__all__ = [
    "SOURCE_FORMS",
    "FrameSource",
    "IgtlImageSource",
    "SourceSpec",
    "VideoSource",
    "check_igtl_host",
    "connect_igtl",
    "dicom_source",
    "image_message_to_frame",
    "open_source",
    "parse_source",
    "simulated_source",
]

SOURCE_FORMS = "dicom:FILE, video:PATH_OR_INDEX, igtl:HOST:PORT or simulated"
"""The source specifications understood by :func:`parse_source`."""

FrameSource = Iterator[Frame]
"""Any iterator of :class:`Frame` in time order."""


def dicom_source(path: str | Path, *, spacing_mm: float | None = None) -> FrameSource:
    """Frames of a DICOM ultrasound image or cine (see :func:`painguide.sono.dicom.read_dicom_cine`)."""

    return iter(read_dicom_cine(path, spacing_mm=spacing_mm).frames)


class VideoSource:
    """Frames from a video file or a capture device (grabber) through OpenCV.

    Parameters
    ----------
    target : str or int
        File path, or the index of a capture device.
    spacing_mm : float
        Pixel size (videos carry no calibration).
    crop : tuple of int, optional
        ``(row0, col0, row1, col1)`` of the image region in the video frame.
    max_frames : int, optional
        Stop after this many frames.
    """

    def __init__(
        self,
        target: str | int,
        *,
        spacing_mm: float,
        crop: tuple[int, int, int, int] | None = None,
        max_frames: int | None = None,
    ) -> None:
        check_spacing_mm(spacing_mm)
        if isinstance(target, str) and not Path(target).is_file():
            raise NotFoundError(
                f"{target}: no such video file; give a file path or a device index such as 0."
            )
        self.target = target
        self.spacing_mm = spacing_mm
        self.crop = crop
        self.max_frames = max_frames

    def __iter__(self) -> Iterator[Frame]:
        """Yield grey frames until the video ends."""
        capture = cv2.VideoCapture(self.target)
        if not capture.isOpened():
            raise NotFoundError(
                f"video source {self.target!r} cannot be opened; check the path or device index."
            )
        fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
        live = isinstance(self.target, int)
        started = time.monotonic()
        index = 0
        try:
            while self.max_frames is None or index < self.max_frames:
                ok, image = capture.read()
                if not ok:
                    return
                grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
                if self.crop is not None:
                    r0, c0, r1, c1 = self.crop
                    grey = grey[r0:r1, c0:c1]
                t = time.monotonic() - started if live or fps <= 0 else index / fps
                yield Frame(
                    np.ascontiguousarray(grey),
                    self.spacing_mm,
                    self.spacing_mm,
                    t,
                    index,
                    f"video:{self.target}",
                )
                index += 1
        finally:
            capture.release()


def check_igtl_host(host: str, allowed: str, *, field: str = "--source") -> None:
    """Refuse an OpenIGTLink host that is not on the allow-list (``PAINGUIDE_IGTL_ALLOWED_HOSTS``).

    Parameters
    ----------
    host : str
        Host name or IP address of the ``igtl:HOST:PORT`` source.
    allowed : str
        Comma-separated host names, IP addresses and networks (``10.1.2.0/24``).
    field : str
        Name of the option or form field, for error messages.

    Raises
    ------
    ValidationError
        The host is not listed (names match exactly, addresses by network).

    Examples
    --------
    >>> check_igtl_host("127.0.0.1", "127.0.0.0/8,::1,localhost")
    >>> check_igtl_host("10.0.0.5", "localhost")
    Traceback (most recent call last):
    ...
    painguide.errors.ValidationError: --source: OpenIGTLink host '10.0.0.5' is not allowed ...
    """
    wanted = host.strip().strip("[]").lower()
    entries = [e.strip().lower() for e in allowed.split(",") if e.strip()]
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(wanted)
    except ValueError:
        address = None
    for entry in entries:
        if entry == wanted:
            return
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return
            except ValueError:
                continue
    raise ValidationError(
        field,
        N_(
            "OpenIGTLink host %(host)s is not allowed (allowed: %(allowed)s); "
            "ask the administrator to add the scanner to PAINGUIDE_IGTL_ALLOWED_HOSTS"
        ),
        host=repr(host),
        allowed=", ".join(entries) or "none",
    )


def connect_igtl(host: str, port: int, *, timeout_s: float = 3.0) -> OpenIGTLinkClient:
    """Connect an OpenIGTLink client to a server such as PLUS and return it once the connection stands.

    The client itself is the check: a separate test connection would take the first image from a server
    that sends to one client at a time (as pyigtl's server does).

    Raises
    ------
    SourceUnavailableError
        The host is unknown, nothing listens there or it does not accept within ``timeout_s``.
    """
    import pyigtl

    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise _unavailable(host, port, _reason(exc, timeout_s)) from exc
    client = pyigtl.OpenIGTLinkClient(host=host, port=port)
    deadline = time.monotonic() + timeout_s
    while not client.is_connected():
        if time.monotonic() > deadline:
            client.stop()
            raise _unavailable(host, port, _refusal(host, port, timeout_s))
        time.sleep(0.005)
    return client


def _refusal(host: str, port: int, timeout_s: float) -> str:
    """Why a connection fails, from one more attempt (the client retries without saying why)."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return f"no connection within {timeout_s:g} s"
    except OSError as exc:
        return _reason(exc, timeout_s)


def _reason(exc: OSError, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {timeout_s:g} s"
    return exc.strerror or str(exc) or type(exc).__name__


def _unavailable(host: str, port: int, reason: str) -> SourceUnavailableError:
    return SourceUnavailableError(
        f"igtl:{host}:{port}: cannot connect ({reason}); check that PLUS or the scanner's "
        "OpenIGTLink server runs and that the host and port are right"
    )


def image_message_to_frame(message: Any, index: int, t0: float, source_id: str) -> Frame:
    """Convert a pyigtl ``ImageMessage`` (as sent by PLUS) to a :class:`Frame`.

    The pixel spacing is the length of the first two columns of the IJK-to-world matrix (mm).
    """
    image: NDArray[np.number] = np.asarray(message.image)
    if image.ndim == 4:
        image = image[0]
    if image.ndim == 3 and image.shape[-1] in (3, 4) and image.shape[0] != 1:
        image = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    elif image.ndim == 3:
        image = image[0]
    if image.dtype != np.uint8:
        top = float(image.max()) or 1.0
        image = (image.astype(np.float32) * (255.0 / top)).astype(np.uint8)
    matrix = np.asarray(message.ijk_to_world_matrix, dtype=np.float64)
    col_mm = float(np.linalg.norm(matrix[:3, 0])) or 1.0
    row_mm = float(np.linalg.norm(matrix[:3, 1])) or 1.0
    stamp = float(getattr(message, "timestamp", 0.0) or 0.0)
    return Frame(np.ascontiguousarray(image), row_mm, col_mm, max(0.0, stamp - t0), index, source_id)


class IgtlImageSource:
    """Frames received as OpenIGTLink IMAGE messages from a server such as PLUS.

    Parameters
    ----------
    host, port : str, int
        OpenIGTLink server.
    device_name : str
        Device name of the image stream (PLUS default ``Image_Reference``).
    timeout_s : float
        Stop when no image arrives for this long.
    on_string : callable, optional
        Called with ``(device_name, text)`` for every STRING message (used for injection-start signals).
    client : object, optional
        An already connected pyigtl client (the output path reuses it to reply to the sender).
    should_stop : callable, optional
        Polled while waiting for images; iteration ends when it returns ``True``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        device_name: str = "Image_Reference",
        timeout_s: float = 5.0,
        on_string: Callable[[str, str], None] | None = None,
        client: Any = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        import pyigtl

        self.client = client if client is not None else pyigtl.OpenIGTLinkClient(host=host, port=port)
        self.device_name = device_name
        self.timeout_s = timeout_s
        self.on_string = on_string
        self.should_stop = should_stop
        self.source_id = f"igtl:{host}:{port}"

    def __iter__(self) -> Iterator[Frame]:
        """Yield frames until the stream stays silent for ``timeout_s``."""
        index, t0, last = 0, None, time.monotonic()
        while time.monotonic() - last < self.timeout_s:
            if self.should_stop is not None and self.should_stop():
                return
            image = None
            for message in self.client.get_latest_messages():
                if message.message_type == "STRING" and self.on_string is not None:
                    self.on_string(message.device_name, str(message.string))
                elif message.message_type == "IMAGE" and message.device_name == self.device_name:
                    image = message
            if image is None:
                time.sleep(0.002)
                continue
            stamp = float(image.timestamp or 0.0)
            t0 = stamp if t0 is None else t0
            yield image_message_to_frame(image, index, t0, self.source_id)
            index += 1
            last = time.monotonic()

    def close(self) -> None:
        """Disconnect."""
        self.client.stop()


def _closing(source: IgtlImageSource) -> Iterator[Frame]:
    """The source's frames; its client disconnects when they end or the iterator is closed."""
    try:
        yield from source
    finally:
        source.close()


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A parsed source specification.

    Attributes
    ----------
    kind : str
        ``dicom``, ``video``, ``igtl`` or ``simulated``.
    target : str or int
        File path (``dicom``, ``video``), device index (``video``) or host (``igtl``); ``""`` for
        ``simulated``.
    port : int
        OpenIGTLink port (0 otherwise).
    """

    kind: str
    target: str | int = ""
    port: int = 0

    @property
    def is_file(self) -> bool:
        """Whether the source reads a file (a DICOM cine or a video file, not a device)."""
        return self.kind == "dicom" or (self.kind == "video" and isinstance(self.target, str))


def parse_source(spec: str, *, field: str = "--source") -> SourceSpec:
    """Parse ``dicom:FILE``, ``video:PATH_OR_INDEX``, ``igtl:HOST:PORT`` or ``simulated``.

    Parameters
    ----------
    spec : str
        Source specification.
    field : str
        Name of the option or form field, for error messages.

    Returns
    -------
    SourceSpec
        The parsed specification (nothing is opened).

    Examples
    --------
    >>> parse_source("igtl:127.0.0.1:18944")
    SourceSpec(kind='igtl', target='127.0.0.1', port=18944)
    >>> parse_source("video:0").target
    0
    """
    kind, _, rest = spec.strip().partition(":")
    rest = rest.strip()
    if kind == "simulated" and not rest:
        return SourceSpec("simulated")
    if kind == "dicom" and rest:
        return SourceSpec("dicom", rest)
    if kind == "video" and rest:
        return SourceSpec("video", int(rest) if rest.isdigit() else rest)
    if kind == "igtl" and rest:
        host, _, port = rest.rpartition(":")
        if not port.isdigit() or not host or not 0 < int(port) < 65536:
            raise ValidationError(
                field,
                N_("expected igtl:HOST:PORT such as igtl:127.0.0.1:18944, got %(value)s"),
                value=repr(spec),
            )
        return SourceSpec("igtl", host, int(port))
    raise ValidationError(
        field, N_("expected %(forms)s, got %(value)s"), forms=SOURCE_FORMS, value=repr(spec)
    )


def simulated_source(
    *,
    seed: int = 42,
    loop: bool = False,
    on_injection: Callable[[], object] | None = None,
    on_pass: Callable[[], object] | None = None,
) -> FrameSource:
    """Frames of a simulated cine (480x360, 120 frames), optionally repeated with continuing times.

    ``on_injection`` is called just before the first frame at or after the simulated injection start, as a
    pump or foot switch would signal it over OpenIGTLink: a live session on this source then shows the
    whole course (needle in, injection, spread) without the operator marking it at the right moment.
    ``on_pass`` is called before the first frame of each later pass of the loop: the pass is a new case
    (the needle back at the skin, no fluid; :meth:`painguide.sono.live.LiveSession.restart`), and
    ``on_injection`` is called again at its injection start. Without ``on_pass`` a later pass does not
    signal again.
    """

    cine = simulate_cine(random_params(seed, rows=360, cols=480, n_frames=120))
    period = len(cine.frames) / cine.params.frame_rate_hz
    injection_at = cine.params.injection_at_s
    repeat = 0
    while True:
        signal = on_injection
        for frame in cine.frames:
            if signal is not None and injection_at is not None and frame.time_s >= injection_at:
                signal()
                signal = None
            yield Frame(
                frame.pixels,
                frame.row_spacing_mm,
                frame.col_spacing_mm,
                frame.time_s + repeat * period,
                frame.index + repeat * len(cine.frames),
                "simulated",
            )
        repeat += 1
        if not loop:
            return
        if on_pass is None:
            on_injection = None
        else:
            on_pass()


def open_source(
    spec: str | SourceSpec, *, spacing_mm: float | None = None, field: str = "--source"
) -> FrameSource:
    """Open ``dicom:FILE``, ``video:PATH_OR_INDEX``, ``igtl:HOST:PORT`` or ``simulated``.

    Parameters
    ----------
    spec : str or SourceSpec
        Source specification.
    spacing_mm : float, optional
        Pixel size for video sources (required there) and uncalibrated DICOM files.
    field : str
        Name of the option or form field, for error messages.

    Returns
    -------
    iterator of Frame
        The frames.
    """
    source = spec if isinstance(spec, SourceSpec) else parse_source(spec, field=field)
    if source.kind == "dicom":
        return dicom_source(str(source.target), spacing_mm=spacing_mm)
    if source.kind == "video":
        if spacing_mm is None:
            raise ValidationError(
                "--spacing-mm" if field == "--source" else "spacing_mm",
                N_("video sources carry no calibration: give the pixel size in mm"),
            )
        return iter(VideoSource(source.target, spacing_mm=spacing_mm))
    if source.kind == "igtl":
        host = str(source.target)
        check_igtl_host(host, get_settings().igtl_allowed_hosts, field=field)
        return _closing(IgtlImageSource(host, source.port, client=connect_igtl(host, source.port)))
    return simulated_source()

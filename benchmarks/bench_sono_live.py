"""Speed of the live path on one core (decode, pipeline, overlay, encode) and the latency to the browser.

Run ``python benchmarks/bench_sono_live.py`` (``--quick`` for fewer frames, ``--no-e2e`` to skip the web
part, ``--browser`` to measure in Chromium too). Threads are pinned before NumPy is imported (OMP,
OpenBLAS, MKL), OpenCV runs one thread and the process is bound to one CPU (``PAINGUIDE_BENCH_CPU``
chooses which). It ends with the Markdown table of docs/performance.md, with the load average beside it.

1. Per frame at 640x480, over two simulated cines of 100 frames, each with a pipeline of its own: JPEG
   decode of the incoming frame, the guidance pipeline, the overlay and the JPEG encode for the stream
   (targets: pipeline <= 5 ms median, whole path <= 20 ms median); the pipeline's time also split into
   frames along a confirmed needle track and frames without one.
2. End to end: a pyigtl server plays the scanner and sends IMAGE messages; painguide serves the web app
   (uvicorn on loopback) with a live session on that source; an HTTP client reads the MJPEG stream. Each
   frame carries its number as a pattern of black and white 8x8 blocks in its top-right corner, so the
   annotated image received is matched to the moment its IMAGE message was sent.
3. With ``--browser``, the same in the live page itself: Chromium (Debian's, headless) shows the page, a
   script there copies the stream's current picture onto a canvas every 2 ms and reads its number, so the
   latency ends when the browser has the annotated frame to show.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402 - the thread limits above must be set before NumPy is imported
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

MARK_BITS = 12
BLOCK = 8
TARGETS = {"pipeline_ms_median": 5.0, "whole_path_ms_median": 20.0}


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median": round(statistics.median(ordered), 2),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
        "max": round(ordered[-1], 2),
    }


def pin() -> int:
    """Bind the process to one CPU and OpenCV to one thread; returns the CPU.

    ``PAINGUIDE_BENCH_CPU`` chooses the CPU (default: the highest one this process may use, which is
    less often busy with interrupts than CPU 0).
    """
    allowed = os.sched_getaffinity(0)
    cpu = int(os.environ.get("PAINGUIDE_BENCH_CPU", max(allowed)))
    os.sched_setaffinity(0, {cpu})
    cv2.setNumThreads(1)
    assert os.sched_getaffinity(0) == {cpu} and cv2.getNumThreads() == 1
    return cpu


def cines(n_frames: int, seeds: tuple[int, ...] = (500, 501)) -> list[list[Any]]:
    """The frames of simulated cines at 640x480, one list per seed, of ``n_frames`` frames each."""
    from painguide.sono.simulate import random_params, simulate_cine

    return [
        list(simulate_cine(random_params(seed, rows=480, cols=640, n_frames=n_frames)).frames)
        for seed in seeds
    ]


def per_frame(recordings: list[list[Any]]) -> dict[str, Any]:
    """Time decode, pipeline, overlay and encode of each frame (the incoming frame is JPEG, as over MJPEG).

    Each cine of ``recordings`` is analysed by a pipeline of its own, as each recording or live session
    is: one pipeline carried from one cine into the next would find the second cine's image of another
    size than the spread baseline it learned on the first, and skip the spread detection there.

    Wall-clock times per stage, and the CPU time of this thread for the pipeline and the whole path: on a
    shared machine the wall clock includes waiting for the CPU, the thread's CPU time does not.
    """
    from painguide.sono.frames import Frame
    from painguide.sono.overlay import draw_overlay
    from painguide.sono.pipeline import GuidancePipeline

    stages: dict[str, list[float]] = {k: [] for k in ("decode", "pipeline", "overlay", "encode", "whole")}
    cpu: dict[str, list[float]] = {"pipeline": [], "whole": []}
    # the pipeline's time split by the kind of frame: along a confirmed track, or without one (searched whole
    # unless a track lost a moment ago is found again along its line)
    kinds: dict[str, list[float]] = {"pipeline_tracked": [], "pipeline_searched": []}
    warnings: list[str] = []
    for recording in recordings:
        pipeline = GuidancePipeline(injection_at_s=1.0)
        incoming = [cv2.imencode(".jpg", f.pixels, [cv2.IMWRITE_JPEG_QUALITY, 90])[1] for f in recording]
        for frame, data in zip(recording, incoming, strict=True):
            tracked = pipeline.tracker.confirmed
            c0, t0 = time.thread_time(), time.perf_counter()
            pixels = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
            decoded = Frame(pixels, frame.row_spacing_mm, frame.col_spacing_mm, frame.time_s, frame.index)
            c1, t1 = time.thread_time(), time.perf_counter()
            result = pipeline(decoded)
            c2, t2 = time.thread_time(), time.perf_counter()
            image = draw_overlay(decoded, result, warnings=warnings)
            t3 = time.perf_counter()
            cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
            c4, t4 = time.thread_time(), time.perf_counter()
            for key, value in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True):
                stages[key].append(value * 1000.0)
            cpu["pipeline"].append((c2 - c1) * 1000.0)
            cpu["whole"].append((c4 - c0) * 1000.0)
            kinds["pipeline_tracked" if tracked else "pipeline_searched"].append((t2 - t1) * 1000.0)
    return {
        **{key: _stats(values) for key, values in stages.items()},
        **{f"{key}_cpu": _stats(values) for key, values in cpu.items()},
        **{key: _stats(values) for key, values in kinds.items() if values},
    }


def mark(pixels: Any, number: int) -> Any:
    """Write ``number`` into the top-right corner as black and white blocks."""
    out = pixels.copy()
    cols = out.shape[1]
    for bit in range(MARK_BITS):
        x = cols - (bit + 1) * BLOCK
        out[:BLOCK, x : x + BLOCK] = 255 if number >> bit & 1 else 0
    return out


def read_mark(image: Any) -> int:
    """The number written by :func:`mark` (read from the centre of each block)."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    cols = grey.shape[1]
    number = 0
    for bit in range(MARK_BITS):
        x = cols - (bit + 1) * BLOCK + BLOCK // 2
        if grey[BLOCK // 2, x] > 127:
            number |= 1 << bit
    return number


def _serve(port: int) -> Any:
    import uvicorn

    from painguide.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _csrf(client: Any, path: str) -> str:
    """The CSRF token a page shows this client (its ``csrf-token`` meta tag), as a browser's form sends it."""
    import re

    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get(path).text)
    if found is None:
        raise SystemExit(f"no csrf-token meta tag on {path}: is the web app's CSRF protection changed?")
    return found.group(1)


BROWSER_READER = """
({ block, bits }) => {
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const half = block / 2;
  window.__seen = {};
  const read = () => {
    // the page draws the stream onto a canvas (sono-live.js); an older browser shows it as an image
    const img = document.getElementById("stream");
    const drawn = img instanceof HTMLCanvasElement;
    if (drawn ? window.sonoStream && window.sonoStream.shown > 0 : img.complete && img.naturalWidth > 0) {
      const w = drawn ? img.width : img.naturalWidth;
      canvas.width = w;
      canvas.height = block;
      context.drawImage(img, 0, 0, w, block, 0, 0, w, block);
      const row = context.getImageData(0, half, w, 1).data;
      let number = 0;
      for (let bit = 0; bit < bits; bit++) {
        if (row[4 * (w - (bit + 1) * block + half)] > 127) number |= 1 << bit;
      }
      if (!(number in window.__seen)) window.__seen[number] = performance.timeOrigin + performance.now();
    }
  };
  setInterval(read, 2);
}
"""
"""Runs in the live page: every 2 ms it copies the stream's current picture (the page's canvas, or the
image of an older browser) onto a canvas of its own and reads the frame number from its corner blocks,
keeping the first wall-clock time (ms since the epoch) each number was seen."""


def _chromium() -> str | None:
    import shutil

    return next((p for n in ("chromium", "chromium-browser") if (p := shutil.which(n))), None)


def end_to_end(frames: list[Any], *, fps: float = 15.0, browser: bool = False) -> dict[str, Any]:
    """Latency from sending an IMAGE message to its annotated frame: in the MJPEG stream read by an HTTP
    client, or (``browser``) shown by the live page in Chromium (the image drawn onto a canvas and its
    frame number read there).

    Both clocks are this machine's wall clock (``time.time``; ``performance.timeOrigin`` in the page).
    """
    import httpx
    import pyigtl

    os.environ.update({"PAINGUIDE_DATA_DIR": tempfile.mkdtemp(), "PAINGUIDE_DEMO": "1"})
    from painguide.demo import DEMO_PASSWORD

    igtl = pyigtl.OpenIGTLinkServer(port=0, local_server=True)
    web = _serve(port := _free_port())
    base = f"http://127.0.0.1:{port}"
    sent: dict[int, float] = {}
    received: dict[int, float] = {}
    stop = threading.Event()
    with contextlib.ExitStack() as stack:
        stack.callback(igtl.stop)
        stack.callback(setattr, web, "should_exit", True)
        client = httpx.Client(base_url=base, timeout=30)
        form = {"username": "physician", "password": DEMO_PASSWORD, "next": "/"}
        client.post("/login", data=form, headers={"X-CSRF-Token": _csrf(client, "/login")})
        page = stack.enter_context(_chromium_page(base, client)) if browser else None
        r = client.post(
            "/sono/live/source",
            data={"source": f"igtl:127.0.0.1:{igtl.server_address[1]}"},
            headers={"X-CSRF-Token": _csrf(client, "/sono/live")},
        )
        session = r.headers["location"].rsplit("=", 1)[1]

        def read_stream() -> None:
            buffer = b""
            reader = httpx.Client(base_url=base, cookies=client.cookies, timeout=httpx.Timeout(30, read=None))
            with reader, reader.stream("GET", f"/sono/live/{session}/stream") as stream:
                for chunk in stream.iter_bytes():
                    buffer += chunk
                    while (end := buffer.find(b"\xff\xd9")) >= 0 and (start := buffer.find(b"\xff\xd8")) >= 0:
                        jpeg, buffer = buffer[start : end + 2], buffer[end + 2 :]
                        now = time.time()
                        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
                        if image is not None:
                            received.setdefault(read_mark(image), now)
                    if stop.is_set():
                        return

        def send_all() -> None:
            for number, frame in enumerate(frames, start=1):
                matrix = np.diag([frame.col_spacing_mm, frame.row_spacing_mm, 1.0, 1.0])
                message = pyigtl.ImageMessage(
                    mark(frame.pixels, number)[None],
                    ijk_to_world_matrix=matrix,
                    device_name="Image_Reference",
                    timestamp=1000.0 + number / fps,
                )
                sent[number] = time.time()
                igtl.send_message(message, wait=True)
                time.sleep(1.0 / fps)
            time.sleep(1.0)

        while not igtl.is_connected():
            time.sleep(0.01)
        since = 0.0
        if page is not None:
            seen, since = _in_browser(page, base, session, send_all)
            received.update(seen)
        else:
            reader = threading.Thread(target=read_stream, daemon=True)
            reader.start()
            send_all()
        stop.set()
        client.post(f"/sono/live/{session}/stop", headers={"X-CSRF-Token": _csrf(client, "/sono/live")})
    watched = [n for n in sent if sent[n] >= since]  # frames sent once the page was looking
    latencies = [(received[n] - sent[n]) * 1000.0 for n in watched if n in received]
    return {"sent": len(watched), "received": len(latencies), "latency_ms": _stats(latencies), "fps": fps}


@contextlib.contextmanager
def _chromium_page(base: str, client: Any) -> Iterator[Any]:
    """A Chromium page signed in with ``client``'s session cookie (launched before the live session starts:
    an OpenIGTLink source ends after 5 s without an image)."""
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    if executable is None:
        raise SystemExit("--browser needs Chromium (apt-get install chromium)")
    pinned = os.sched_getaffinity(0)
    # the browser stands for the operator's own machine: started unpinned, it does not share the server's core
    os.sched_setaffinity(0, range(os.cpu_count() or 1))
    try:
        pw = sync_playwright().start()
        chromium = pw.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
    finally:
        os.sched_setaffinity(0, pinned)
    try:
        context = chromium.new_context()
        context.add_cookies([{"name": k, "value": v, "url": base} for k, v in client.cookies.items()])
        yield context.new_page()
    finally:
        chromium.close()
        pw.stop()


def _in_browser(
    page: Any, base: str, session: str, send_all: Callable[[], None]
) -> tuple[dict[int, float], float]:
    """Send the frames while the live page of ``session`` opens and watches; returns when each frame
    number was first seen there and when the page began to look (both in seconds since the epoch)."""
    sender = threading.Thread(target=send_all)
    sender.start()  # at once: the source ends after 5 s without an image
    # the stream image never ends loading, so the page's "load" event never comes
    page.goto(f"{base}/sono/live?session={session}", wait_until="domcontentloaded")
    page.wait_for_selector("#stream", state="attached")
    page.evaluate(BROWSER_READER, {"block": BLOCK, "bits": MARK_BITS})
    since = time.time()
    while sender.is_alive():
        page.wait_for_timeout(100)  # the page's timer runs while Playwright waits
    seen: dict[str, float] = page.evaluate("window.__seen")
    return {int(number): at / 1000.0 for number, at in seen.items()}, since


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; a misuse ends with a usage message naming the option (exit 2)."""
    parser = argparse.ArgumentParser(
        prog="bench_sono_live.py", description=(__doc__ or "").split("\n\n")[0].replace("\n", " ")
    )
    parser.add_argument("--quick", action="store_true", help="fewer frames")
    parser.add_argument("--no-e2e", action="store_true", help="skip the end-to-end run through the web app")
    parser.add_argument("--browser", action="store_true", help="measure in the live page in Chromium too")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    quick = args.quick
    cpu = pin()
    recordings = cines(30 if quick else 100)

    def stream() -> list[Any]:  # one scene for the live session: a pipeline of its own, as in per_frame
        return cines(60 if quick else 150, seeds=(500,))[0]

    n_frames = sum(len(recording) for recording in recordings)
    stages = per_frame(recordings)
    print(f"one core (cpu {cpu}), 640x480, per frame in ms: {json.dumps(stages)}")
    print(f"load average before the end-to-end run: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    reached = {
        "pipeline_ms_median": stages["pipeline"]["median"],
        "whole_path_ms_median": stages["whole"]["median"],
    }
    for key, target in TARGETS.items():
        print(
            f"{key:24s} {reached[key]:8.2f}  target <= {target}  "
            f"{'met' if reached[key] <= target else 'NOT met'}"
        )
    load_before = os.getloadavg()[0]
    if args.no_e2e:
        latency: dict[str, Any] = {
            "sent": 0,
            "received": 0,
            "latency_ms": {"median": "-", "p90": "-", "max": "-"},
        }
    else:
        latency = end_to_end(stream())
    print(f"pyigtl IMAGE -> annotated frame over MJPEG: {json.dumps(latency)}")
    shown: dict[str, Any] | None = None
    if args.browser:
        shown = end_to_end(stream(), browser=True)
        print(f"pyigtl IMAGE -> annotated frame shown by the live page in Chromium: {json.dumps(shown)}")
    load_after = os.getloadavg()[0]
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    print()
    print(table(stages, latency, load=(load_before, load_after), n_frames=n_frames, browser=shown))


def table(
    stages: dict[str, Any],
    latency: dict[str, Any],
    *,
    load: tuple[float, float],
    n_frames: int,
    browser: dict[str, Any] | None = None,
) -> str:
    """The Markdown table of docs/performance.md ("Ultrasound live path"), with the load beside it."""
    import platform

    def cell(key: str) -> str:
        return f"{stages[key]['median']} / {stages[key]['p90']}"

    lat = latency["latency_ms"]
    lines = [
        f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, Python {platform.python_version()}, "
        f"OpenCV {cv2.__version__}, {n_frames} frames of 640×480, one pinned CPU, `cv2.setNumThreads(1)`, "
        f"OMP/OpenBLAS/MKL 1 thread; load average {load[0]:.1f} before, {load[1]:.1f} after "
        f"on {os.cpu_count()} cores.",
        "",
        "| Measure (ms per frame) | Target | Wall clock median / p90 "
        "| CPU time of the thread, median / p90 |",
        "|---|---|---|---|",
        f"| decode | — | {cell('decode')} | — |",
        f"| pipeline | ≤ 5 | {cell('pipeline')} | {cell('pipeline_cpu')} |",
        *(
            f"| ... {label} ({stages[key]['n']} of {n_frames}) | — | {cell(key)} | — |"
            for key, label in (
                ("pipeline_tracked", "frames along a confirmed needle track"),
                ("pipeline_searched", "frames without one, searched whole"),
            )
            if key in stages
        ),
        f"| overlay | — | {cell('overlay')} | — |",
        f"| encode | — | {cell('encode')} | — |",
        f"| whole path | ≤ 20 | {cell('whole')} | {cell('whole_cpu')} |",
        f"| pyigtl IMAGE → annotated frame at the HTTP client | — | {lat['median']} / {lat['p90']} "
        f"(max {lat['max']}; {latency['received']} of {latency['sent']} frames matched) | — |",
    ]
    if browser is not None:
        shown = browser["latency_ms"]
        lines.append(
            f"| pyigtl IMAGE → annotated frame in the live page (Chromium) | — | {shown['median']} / "
            f"{shown['p90']} (max {shown['max']}; {browser['received']} of {browser['sent']} frames seen) "
            "| — |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

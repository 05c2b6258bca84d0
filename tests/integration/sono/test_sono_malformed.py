"""100 damaged cines through `painguide sono analyze` and the review upload: each refused clearly, no crash.

Upload size limits: a body over the endpoint's limit is answered 413 and nothing is kept.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from fastapi.testclient import TestClient

from painguide.cli import main
from painguide.sono.dicom import write_dicom_cine
from painguide.sono.simulate import SimulationParams, simulate_cine

Mutation = Callable[[pydicom.Dataset], None]
# damaged files make pydicom (and NumPy on NaN values) warn; outside tests those are log lines, not errors
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]


def _set(keyword: str, value: object) -> Mutation:
    def mutate(ds: pydicom.Dataset) -> None:
        setattr(ds, keyword, value)

    mutate.__name__ = f"{keyword}={value!r}"
    return mutate


def _drop(keyword: str) -> Mutation:
    def mutate(ds: pydicom.Dataset) -> None:
        delattr(ds, keyword)

    mutate.__name__ = f"no {keyword}"
    return mutate


def _region(keyword: str, value: object) -> Mutation:
    def mutate(ds: pydicom.Dataset) -> None:
        setattr(ds.SequenceOfUltrasoundRegions[0], keyword, value)

    mutate.__name__ = f"region {keyword}={value!r}"
    return mutate


def _pixels(cut: int) -> Mutation:
    def mutate(ds: pydicom.Dataset) -> None:
        ds.PixelData = ds.PixelData[: len(ds.PixelData) // cut]

    mutate.__name__ = f"pixel data cut to 1/{cut}"
    return mutate


MUTATIONS: list[Mutation] = [
    _set("Rows", 0),
    _set("Rows", 65535),
    _set("Columns", 0),
    _set("Columns", 65535),
    _set("NumberOfFrames", 0),
    _set("NumberOfFrames", 100000),
    _set("NumberOfFrames", 7),
    _set("NumberOfFrames", 10**9),
    _set("BitsAllocated", 12),
    _set("BitsAllocated", 0),
    _set("SamplesPerPixel", 3),
    _set("SamplesPerPixel", 0),
    _set("PhotometricInterpretation", "PALETTE COLOR"),
    _set("PhotometricInterpretation", "XYZ"),
    _set("FrameTime", "0"),
    _set("FrameTime", "-40"),
    _set("FrameTime", "nan"),
    _set("PixelRepresentation", 1),
    _drop("PixelData"),
    _drop("Rows"),
    _drop("FrameTime"),
    _drop("SequenceOfUltrasoundRegions"),
    _region("PhysicalDeltaX", 0.0),
    _region("PhysicalDeltaX", float("nan")),
    _region("RegionLocationMaxX1", 0),
    _region("RegionLocationMinY0", 100000),
    _pixels(2),
    _pixels(1000),
    _set("HighBit", 20),
    _set("BitsStored", 16),
]


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    params = SimulationParams(seed=5, rows=48, cols=64, n_frames=6, injection_at_s=0.1, bone=False)
    path = write_dicom_cine(simulate_cine(params).frames, tmp_path_factory.mktemp("fuzz") / "good.dcm")
    return path.read_bytes()


def _mutated(good: bytes, mutate: Mutation) -> bytes:
    ds = pydicom.dcmread(io.BytesIO(good))
    mutate(ds)
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def malformed_cines(good: bytes) -> list[tuple[str, bytes]]:
    """100 damaged files: header mutations, truncations, byte flips in the header and foreign content."""
    rng = random.Random(20240)
    cases = [(f"mutation {m.__name__}", _mutated(good, m)) for m in MUTATIONS]
    for i in range(30):  # truncated anywhere, including inside the header
        cut = rng.randrange(1, len(good) - 1)
        cases.append((f"truncated at {cut} ({i})", good[:cut]))
    header = good.index(b"\xe0\x7f\x10\x00")  # (7FE0,0010) Pixel Data: flip only before it
    for i in range(30):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(132, header)] ^= 1 << rng.randrange(8)
        cases.append((f"header bytes flipped ({i})", bytes(data)))
    cases += [
        ("empty", b""),
        ("text", b"hello, not a cine\n" * 20),
        ("png", b"\x89PNG\r\n\x1a\n" + bytes(200)),
        ("preamble only", bytes(128) + b"DICM"),
        ("zip", b"PK\x03\x04" + bytes(300)),
        ("random", rng.randbytes(4096)),
        ("truncated meta", good[:140]),
        ("doubled", good + good),
        ("zeroed pixels header", good[:header] + bytes(len(good) - header)),
        ("all ones", b"\xff" * 2048),
    ]
    assert len(cases) == 100
    return cases


def test_sono_analyze_refuses_every_malformed_cine_naming_it(
    good: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through `painguide.cli.main` as a user runs it: one line naming the file and the fix, no traceback."""
    refused = 0
    for index, (what, data) in enumerate(malformed_cines(good)):
        path = tmp_path / f"bad-{index:03d}.dcm"
        path.write_bytes(data)
        with pytest.raises(SystemExit) as exit_:
            main(["sono", "analyze", str(path), "--json"])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err and "internal error" not in err, f"{what}: {err}"
        if exit_.value.code == 0:  # a flip that left a readable file: analysed normally
            assert '"frames"' in out, what
            continue
        refused += 1
        assert exit_.value.code in (2, 3), f"{what}: exit {exit_.value.code}"
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), f"{what}: {err}"
        assert any(fix in err for fix in ("export", "check", "choose", "pass", "convert", "is this")), err
    assert refused >= 80  # most damage is detected; the rest still gives a normal analysis


def test_review_upload_answers_every_malformed_cine_without_a_server_error(
    demo_client: TestClient, sign_in: Callable[[TestClient, str], None], good: bytes
) -> None:
    sign_in(demo_client, "physician")
    statuses = []
    for index, (what, data) in enumerate(malformed_cines(good)):
        name = f"case-{index:03d}.dcm"
        r = demo_client.post(
            "/sono/review", files={"file": (name, data, "application/dicom")}, follow_redirects=False
        )
        statuses.append(r.status_code)
        assert r.status_code < 500, f"{what}: {r.status_code}"
        if r.status_code != 303:
            assert r.status_code in (404, 413, 422), what
            assert 'role="alert"' in r.text and "Traceback" not in r.text
            assert f"{name}:" in r.text, f"{what}: the message does not name the upload"
    assert statuses.count(303) <= 20


def test_upload_over_the_limit_is_refused_with_413_and_not_kept(
    demo_client: TestClient, sign_in: Callable[[TestClient, str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from painguide.settings import get_settings
    from painguide.web.routes import sono

    sign_in(demo_client, "physician")
    monkeypatch.setitem(sono.UPLOAD_LIMITS, "/sono/review", 50_000)
    monkeypatch.setitem(sono.UPLOAD_LIMITS, "/sono/live/source", 50_000)
    big = bytes(80_000)
    r = demo_client.post("/sono/review", files={"file": ("big.dcm", big, "application/dicom")})
    assert r.status_code == 413
    assert "the upload is larger than the 0.0477 MB limit of /sono/review" in r.text
    r = demo_client.post(
        "/sono/live/source", files={"file": ("big.dcm", big)}, headers={"accept": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"] == "UploadTooLargeError"
    assert not list((get_settings().data_dir / "sono-live").rglob("big.dcm"))


def test_chunked_body_over_the_limit_is_cut_off(
    demo_client: TestClient, sign_in: Callable[[TestClient, str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from painguide.web.routes import sono

    sign_in(demo_client, "physician")
    monkeypatch.setitem(sono.UPLOAD_LIMITS, "/sono/review", 50_000)
    boundary = "xyz"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.dcm"\r\n\r\n'
    ).encode()

    def body():  # no Content-Length: sent chunked
        yield head
        for _ in range(20):
            yield bytes(10_000)
        yield f"\r\n--{boundary}--\r\n".encode()

    r = demo_client.post(
        "/sono/review", content=body(), headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert r.status_code == 413 and "limit of /sono/review" in r.text

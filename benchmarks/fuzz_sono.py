"""The 100 damaged cines of tests/integration/sono/test_sono_malformed.py through `painguide sono analyze`
(via `main()`) and through the review upload page (signed in as the demo physician, with the page's CSRF
token), counted by outcome. A traceback, an internal error or a 5xx counts as a failure.

Run: ``python benchmarks/fuzz_sono.py``; the counts go to docs/security.md.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _cases(folder: Path) -> list[tuple[str, bytes]]:
    spec = importlib.util.spec_from_file_location(
        "sono_malformed", ROOT / "tests/integration/sono/test_sono_malformed.py"
    )
    assert spec is not None and spec.loader is not None
    module = sys.modules.setdefault("sono_malformed", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    from painguide.sono.dicom import write_dicom_cine
    from painguide.sono.simulate import SimulationParams, simulate_cine

    params = SimulationParams(seed=5, rows=48, cols=64, n_frames=6, injection_at_s=0.1, bone=False)
    good = write_dicom_cine(simulate_cine(params).frames, folder / "good.dcm").read_bytes()
    cases: list[tuple[str, bytes]] = module.malformed_cines(good)
    return cases


def cli_outcomes(cases: list[tuple[str, bytes]], folder: Path) -> Counter[str]:
    from painguide.cli import main

    found: Counter[str] = Counter()
    for index, (_what, data) in enumerate(cases):
        path = folder / f"bad-{index:03d}.dcm"
        path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                main(["sono", "analyze", str(path), "--json"])
        except SystemExit as exit_:
            text = out.getvalue() + err.getvalue()
            if "Traceback" in text or "internal error" in text:
                found["traceback"] += 1
            elif exit_.code == 0:
                found["analysed"] += 1
            else:
                found[f"refused (exit {exit_.code})"] += 1
        except Exception:
            found["traceback"] += 1
    return found


def page_outcomes(cases: list[tuple[str, bytes]]) -> Counter[str]:
    from fastapi.testclient import TestClient

    from painguide.demo import DEMO_PASSWORD
    from painguide.web.app import create_app

    found: Counter[str] = Counter()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get("/login").text)
        assert token is not None
        form = {"username": "physician", "password": DEMO_PASSWORD, "next": "/", "csrf_token": token.group(1)}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        page = client.get("/sono/review").text
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
        assert token is not None
        headers: dict[str, Any] = {"X-CSRF-Token": token.group(1)}
        for index, (_what, data) in enumerate(cases):
            files = {"file": (f"case-{index:03d}.dcm", data, "application/dicom")}
            r = client.post("/sono/review", files=files, headers=headers, follow_redirects=False)
            if r.status_code >= 500 or "Traceback" in r.text:
                found["server error"] += 1
            else:
                found[{303: "stored (303)"}.get(r.status_code, f"refused ({r.status_code})")] += 1
    return found


def main() -> int:
    warnings.simplefilter("ignore")  # damaged files make pydicom warn; that is expected here
    with tempfile.TemporaryDirectory(prefix="painguide-fuzz-sono-") as tmp:
        os.environ["PAINGUIDE_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ["PAINGUIDE_DEMO"] = "1"
        os.environ.setdefault("PAINGUIDE_PASSWORD_TIME_COST", "1")
        os.environ.setdefault("PAINGUIDE_PASSWORD_MEMORY_KIB", "8192")
        cases = _cases(Path(tmp))
        counts = {"sono analyze": cli_outcomes(cases, Path(tmp)), "upload page": page_outcomes(cases)}
    print(f"{len(cases)} damaged cines")
    for stage, counter in counts.items():
        print(f"{stage:13s} " + " · ".join(f"{key} {value}" for key, value in sorted(counter.items())))
    return 1 if counts["sono analyze"]["traceback"] or counts["upload page"]["server error"] else 0


if __name__ == "__main__":
    sys.exit(main())

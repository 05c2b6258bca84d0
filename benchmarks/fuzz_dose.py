"""Damaged dose reports through `painguide dose inspect` and `dose import` (via `main()`), the importer, and
the "Import reports" page (``POST /dose/import`` of the app, signed in as an RPO, in batches of files).

Variants are made with a seeded generator from generated reports (fluoroscopy, Azurion-like, CT; explicit and
implicit VR, defined and undefined lengths) and, when present, the real sample reports: bit flips, truncation,
zeroed runs, and files with most of their bytes zeroed. Each variant must end as a report (with warnings
where values were lost) or a clear refusal; a traceback, or a refusal through the importer's catch-all
("unexpected error"), or a server error (5xx) of the page, counts as a failure.

Run: ``python benchmarks/fuzz_dose.py [--count 1000] [--seed 8] [--batch 50]``; the counts go to
docs/security.md (with the load average printed at the end).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from painguide.dose.generator import damaged_variants


def base_reports(shared: Path | None = None) -> dict[str, bytes]:
    """The undamaged reports the variants are made from."""
    from painguide.dose.generator import Quirks, ct_report, fluoro_report

    def encoded(dataset: object) -> bytes:
        buffer = io.BytesIO()
        dataset.save_as(buffer, enforce_file_format=True)  # type: ignore[attr-defined]
        return buffer.getvalue()

    bases = {
        "fluoro": encoded(fluoro_report(seed=11, events=12)),
        "azurion-implicit": encoded(
            fluoro_report(seed=12, events=6, detailed=True, quirks=Quirks(implicit_vr=True))
        ),
        "fluoro-undefined": encoded(fluoro_report(seed=13, events=8, quirks=Quirks(undefined_lengths=True))),
        "ct": encoded(ct_report(seed=14, events=3)),
    }
    if shared is not None and shared.is_dir():
        bases |= {path.stem: path.read_bytes() for path in sorted(shared.glob("*.dcm"))}
    return bases


def inspect_outcome(path: Path) -> str:
    """``report``, ``report_with_warnings``, ``refused`` or ``traceback`` for one file through the CLI."""
    import json

    from painguide.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(["dose", "inspect", str(path), "--json", "--no-skin-dose"])
    except SystemExit as exit_:
        if "Traceback" in err.getvalue():
            return "traceback"
        if exit_.code not in (0, 3):
            return f"exit {exit_.code}"
    except Exception:
        return "traceback"
    (result,) = json.loads(out.getvalue())
    if "error" in result:
        return "refused"
    return "report_with_warnings" if result["warnings"] else "report"


def page_import_outcome(files: Path, data_dir: Path, batch: int) -> Counter[str]:
    """Every variant uploaded through ``POST /dose/import`` on a fresh site: row statuses, server errors."""
    import re

    from fastapi.testclient import TestClient

    from painguide.accounts.keys import csrf_token
    from painguide.services import open_uow
    from painguide.settings import get_settings
    from painguide.store.users import create_user
    from painguide.web.app import create_app
    from painguide.web.security import SESSION_COOKIE

    os.environ["PAINGUIDE_DATA_DIR"] = str(data_dir)
    os.environ["PAINGUIDE_DEMO"] = "0"
    os.environ.setdefault("PAINGUIDE_SECRET_KEY", "fuzz-" + "k" * 40)
    get_settings.cache_clear()
    client = TestClient(create_app(), raise_server_exceptions=False)
    with open_uow() as uow:
        create_user(uow.session, "fuzz-rpo", "fuzz-password-123", ["rpo"], actor="fuzz")
        uow.commit()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text)
    form = {"username": "fuzz-rpo", "password": "fuzz-password-123", "next": "/"}
    signed_in = client.post("/login", data=form | {"csrf_token": token.group(1) if token else ""})
    assert client.cookies.get(SESSION_COOKIE), f"sign-in failed: {signed_in.status_code}"
    header = {"X-CSRF-Token": csrf_token(get_settings().secret_key, client.cookies[SESSION_COOKIE])}
    found: Counter[str] = Counter()
    paths = sorted(files.iterdir())
    for start in range(0, len(paths), batch):
        chunk = paths[start : start + batch]
        parts = [("files", (p.name, p.read_bytes(), "application/dicom")) for p in chunk]
        response = client.post("/dose/import", files=parts, headers=header)
        found[f"http {response.status_code}"] += 1
        for status, row in re.findall(r'<tr class="import-(\w+)">(.*?)</tr>', response.text, re.S):
            found[{"quarantined": "refused"}.get(status, status)] += 1
            found["with_warnings"] += 'class="warn"' in row
            found["unexpected_error"] += "unexpected error" in row
    client.close()
    return found


def run(count: int, seed: int, folder: Path, shared: Path | None, batch: int = 50) -> dict[str, Counter[str]]:
    """Write the variants into ``folder``, inspect each and import them all; the counts by outcome."""
    from painguide.dose.service import collect_sources, import_sources
    from painguide.store.db import session_factory, upgrade
    from painguide.store.uow import UnitOfWork

    files = folder / "variants"
    files.mkdir()
    inspected: Counter[str] = Counter()
    for name, data in damaged_variants(count, seed, base_reports(shared)):
        path = files / name
        path.write_bytes(data)
        inspected[inspect_outcome(path)] += 1
    url = f"sqlite:///{folder / 'fuzz.sqlite3'}"
    upgrade(url)
    factory = session_factory(url)
    sources, _ = collect_sources([files])
    summary = import_sources(sources, uow_factory=lambda: UnitOfWork(factory), quarantine_dir=folder / "q")
    imported: Counter[str] = Counter(outcome.status for outcome in summary.outcomes)
    imported["unexpected_error"] = sum(1 for o in summary.outcomes if "unexpected error" in (o.reason or ""))
    return {
        "inspect": inspected,
        "import": imported,
        "cli import": cli_import_outcome(files),
        "page": page_import_outcome(files, folder / "page-site", batch),
    }


def cli_import_outcome(files: Path) -> Counter[str]:
    """The whole folder through ``painguide dose import`` (via ``main()``): its exit code, and a traceback."""
    from painguide.cli import main

    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(["dose", "import", str(files)])
    except SystemExit as exit_:
        code = exit_.code
    except Exception:
        return Counter({"traceback": 1})
    found = Counter({f"exit {code}": 1})
    found["traceback"] = int("Traceback" in out.getvalue() + err.getvalue())
    found["internal error"] = int("internal error" in err.getvalue())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/rdsr"
    )
    parser.add_argument("--batch", type=int, default=50, help="files per upload through the page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PAINGUIDE_DATA_DIR"] = str(Path(tmp) / "data")
        counts = run(args.count, args.seed, Path(tmp), args.shared, args.batch)
    print(f"{args.count} variants (seed {args.seed}; bases: generated + samples from {args.shared})")
    for stage, counter in counts.items():
        print(f"{stage:10s} " + " · ".join(f"{key} {value}" for key, value in sorted(counter.items())))
    print("load average: " + " ".join(f"{value:.2f}" for value in os.getloadavg()))
    broken = counts["inspect"]["traceback"] + counts["import"]["unexpected_error"]
    broken += counts["cli import"]["traceback"] + counts["cli import"]["internal error"]
    broken += counts["page"]["unexpected_error"]
    broken += sum(value for key, value in counts["page"].items() if key.startswith("http 5"))
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()

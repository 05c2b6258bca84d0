"""Damaged dose reports through `painguide dose inspect` and `dose import` (via `main()`) and the importer.

Variants are made with a seeded generator from generated reports (fluoroscopy, Azurion-like, CT; explicit and
implicit VR, defined and undefined lengths) and, when present, the real sample reports: bit flips, truncation,
zeroed runs, and files with most of their bytes zeroed. Each variant must end as a report (with warnings
where values were lost) or a clear refusal; a traceback, or a refusal through the importer's catch-all
("unexpected error"), counts as a failure.

Run: ``python benchmarks/fuzz_dose.py [--count 1000] [--seed 8]``; the counts go to docs/security.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
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


def run(count: int, seed: int, folder: Path, shared: Path | None) -> dict[str, Counter[str]]:
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
    return {"inspect": inspected, "import": imported, "cli import": cli_import_outcome(files)}


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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["PAINGUIDE_DATA_DIR"] = str(Path(tmp) / "data")
        counts = run(args.count, args.seed, Path(tmp), args.shared)
    print(f"{args.count} variants (seed {args.seed}; bases: generated + samples from {args.shared})")
    for stage, counter in counts.items():
        print(f"{stage:8s} " + " · ".join(f"{key} {value}" for key, value in sorted(counter.items())))
    broken = counts["inspect"]["traceback"] + counts["import"]["unexpected_error"]
    broken += counts["cli import"]["traceback"] + counts["cli import"]["internal error"]
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()

"""Dose import speed: RDSR import throughput into SQLite on one core, against a bare pydicom read.

Goals: import throughput ≥ 50 typical (25-event) reports/s on one core and ≥ 1/3 of a bare pydicom read of
the same files (≥ 1,000 generated reports of realistic size); an 89-event fluoroscopy report imports in
< 0.5 s; an Azurion-sized report (89 events, about 830 elements per event, 1.27 MB) parses in < 0.5 s on one
core. The parse alone is timed too, so the store's share (insert, audit entry, batched commits) shows.

Two baselines are printed because pydicom defers decoding the items of defined-length sequences:
``dcmread`` alone does not decode an SR's content tree, ``dcmread`` + visiting every element does.

Run: ``python benchmarks/bench_dose.py [--count N] [--events N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def _visit(items: Any) -> int:
    count = 0
    for item in items:
        for element in item:
            count += 1
            if element.VR == "SQ":
                count += _visit(element.value)
    return count


def bench_bare_read(paths: list[Path], *, full: bool) -> float:
    """Files per second for ``dcmread`` (``full``: plus decoding every element of the content tree)."""
    import pydicom

    start = time.perf_counter()
    for path in paths:
        dataset = pydicom.dcmread(path)
        if full:
            _visit([dataset])
    return len(paths) / (time.perf_counter() - start)


def bench_parse(paths: list[Path]) -> float:
    """Reports per second parsed (no database)."""
    from painguide.dose.rdsr import read_dose_report

    start = time.perf_counter()
    for path in paths:
        read_dose_report(path)
    return len(paths) / (time.perf_counter() - start)


def _uow_factory(folder: Path) -> Any:
    from painguide.store.db import session_factory, upgrade
    from painguide.store.uow import UnitOfWork

    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    upgrade(url)
    factory = session_factory(url)
    return lambda: UnitOfWork(factory)


def bench_import(paths: list[Path], folder: Path) -> tuple[float, int]:
    """Reports per second imported into a fresh SQLite database (parse + store + audit, batched commits)."""
    from painguide.dose.service import collect_sources, import_sources

    uow_factory = _uow_factory(folder)
    sources, _ = collect_sources(paths)
    start = time.perf_counter()
    summary = import_sources(sources, uow_factory=uow_factory, quarantine_dir=folder / "quarantine")
    elapsed = time.perf_counter() - start
    return summary.imported / elapsed, summary.imported


def bench_single(events: int, folder: Path, repeats: int = 5) -> float:
    """Median seconds to import one report with ``events`` irradiation events (fresh database each time)."""
    from painguide.dose.generator import fluoro_report, write_report
    from painguide.dose.service import collect_sources, import_sources

    path = write_report(fluoro_report(seed=89, events=events), folder / "big.dcm")
    times = []
    for run in range(repeats):
        run_dir = folder / f"single{run}"
        run_dir.mkdir()
        uow_factory = _uow_factory(run_dir)
        sources, _ = collect_sources([path])
        start = time.perf_counter()
        summary = import_sources(sources, uow_factory=uow_factory, quarantine_dir=run_dir / "q")
        times.append(time.perf_counter() - start)
        assert summary.imported == 1
    return statistics.median(times)


def bench_parse_azurion(folder: Path, repeats: int = 7) -> tuple[float, float, int, int]:
    """Median seconds to parse an Azurion-sized report and to decode it with pydicom; bytes, elements."""
    import pydicom

    from painguide.dose.generator import fluoro_report, write_report
    from painguide.dose.rdsr import read_dose_report

    path = write_report(fluoro_report(seed=89, events=89, detailed=True), folder / "azurion.dcm")
    data = path.read_bytes()
    parse, decode = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        report = read_dose_report(data)
        parse.append(time.perf_counter() - start)
        start = time.perf_counter()
        elements = _visit([pydicom.dcmread(path)])
        decode.append(time.perf_counter() - start)
    assert len(report.events) == 89
    return statistics.median(parse), statistics.median(decode), len(data), elements


def main() -> None:
    from painguide.dose.generator import write_corpus

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000, help="generated reports (default 1000)")
    parser.add_argument("--events", type=int, default=25, help="events per report (real samples: 21-29)")
    args = parser.parse_args()
    _pin_one_core()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        paths = write_corpus(folder / "corpus", args.count, seed=1, events=args.events, ct_every=10)
        size_kb = statistics.mean(p.stat().st_size for p in paths) / 1024
        print(f"generated {len(paths)} reports ({args.events} events, mean {size_kb:.0f} KB; every 10th CT) "
              f"in {time.perf_counter() - start:.1f} s")  # fmt: skip
        lazy = bench_bare_read(paths, full=False)
        full = bench_bare_read(paths, full=True)
        parse = bench_parse(paths)
        rate, imported = bench_import(paths, folder)
        single = bench_single(89, folder)
        azurion, decode, size, elements = bench_parse_azurion(folder)
    print(f"bare pydicom dcmread (lazy sequences):      {lazy:8.1f} files/s")
    print(f"bare pydicom dcmread + decode every element: {full:8.1f} files/s")
    print(f"parse only:                                   {parse:8.1f} reports/s")
    print(
        f"import into SQLite (parse, store, audit):     {rate:8.1f} reports/s (goal >= 50, {imported} done)"
    )
    print(f"store share of the import time: {100 * (1 - rate / parse):.0f} %")
    print(f"ratio import / full read: {rate / full:.2f}  (goal >= 0.33)")
    print(f"ratio import / lazy read: {rate / lazy:.3f}")
    print(f"89-event fluoroscopy report, one import: {single * 1000:.0f} ms (goal < 500 ms)")
    print(f"Azurion-sized report ({size / 1e6:.2f} MB, {elements} elements): parse {azurion * 1000:.0f} ms "
          f"(goal < 500 ms); pydicom dcmread + decode every element {decode * 1000:.0f} ms")  # fmt: skip
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

"""Dose pages at scale: p50/p95 answer times with 200,000 reports and 5 million events, SQLite and PostgreSQL.

The database is filled by :mod:`benchmarks.dose_loader` (bulk insert of generated rows, no RDSR parsing), then
each page is requested through the real app (FastAPI test client: routing, service, SQL, templates, Plotly
HTML) signed in as a radiation-protection officer. Goal: p95 < 300 ms for every page.

Run: ``python -m benchmarks.bench_dose_scale [--quick] [--reports N] [--events N]
[--db sqlite|postgres|both] [--repeat N] [--sqlite PATH]`` (``--sqlite`` keeps or reuses a filled SQLite file,
migrating it first; ``--quick``: 20,000 reports, 10 repeats). PostgreSQL runs on a throw-away server (Debian
``postgresql`` package), as the tests start it. The last lines printed are the Markdown table of
docs/performance.md with the machine load.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def pages(reports: int, deep_after: int | None) -> dict[str, str]:
    """The pages requested, for a database of ``reports`` reports (deep page: halfway down the list)."""
    deep = max(2, reports // 100)
    found = {
        "dashboard, fluoroscopy by procedure": "/dose/?kind=fluoro&by=procedure",
        "dashboard, fluoroscopy by device": "/dose/?kind=fluoro&by=device",
        "dashboard, fluoroscopy by operator (37 groups)": "/dose/?kind=fluoro&by=operator",
        "dashboard, CT": "/dose/?kind=ct",
        "local DRLs (`dose drl` use case)": "drl",
        "report list, page 1": "/dose/reports",
        f"report list, page {deep:,} by number (OFFSET)": f"/dose/reports?page={deep}",
        "report list, one month": "/dose/reports?since=2023-03-01&until=2023-03-31",
        "report list, one procedure type": "/dose/reports?procedure=caudal-esi",
        "report list, one operator": "/dose/reports?operator=Operator05%5EDr",
        "report list, one device": "/dose/reports?device=CARM03",
        "report list, one patient": f"/dose/reports?patient=PAT{min(1234, reports // 20):07d}",
        "report list, procedure + operator + year": (
            "/dose/reports?procedure=sij-ia&operator=Operator11%5EDr&since=2022-01-01&until=2022-12-31"
        ),
        "report detail (comparisons, patient alerts)": f"/dose/reports/{min(123456, reports // 2)}",
        "alerts, page 1": "/dose/alerts",
    }
    if deep_after is not None:
        found[f"report list, page {deep:,} by its link (keyset)"] = (
            f"/dose/reports?page={deep}&after={deep_after}"
        )
    return found


def _deep_anchor(url: str, reports: int) -> int | None:
    """The id of the last report on the page before the deep page (what the "older" link carries)."""
    from sqlalchemy import select

    from painguide.store.db import session_factory
    from painguide.store.dose_tables import DoseReportRow as R

    deep = max(2, reports // 100)
    with session_factory(url)() as session:
        stmt = select(R.id).order_by(R.study_datetime.desc(), R.id.desc())
        found: int | None = session.scalar(stmt.offset((deep - 1) * 50 - 1).limit(1))
        return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on loopback (as tests/conftest.py starts one); yields its URL."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql)")
    bindir = found[-1].parent
    root = Path(tempfile.mkdtemp(prefix="painguide-bench-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port, data = _free_port(), root / "data"
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -h 127.0.0.1 -F -c shared_buffers=256MB -c work_mem=16MB"
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "log"),
            "-w",
            "-o",
            options,
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [
                *run_as,
                str(bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "bench",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/bench"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


def _client(url: str, data_dir: Path) -> Any:
    from fastapi.testclient import TestClient

    from painguide.auth import User
    from painguide.settings import get_settings
    from painguide.web.app import create_app
    from painguide.web.deps import current_user

    os.environ.update(
        PAINGUIDE_DATABASE_URL=url,
        PAINGUIDE_DATA_DIR=str(data_dir),
        PAINGUIDE_SECRET_KEY="b" * 48,
        PAINGUIDE_DEMO="0",
    )
    get_settings.cache_clear()
    app = create_app()
    app.dependency_overrides[current_user] = lambda: User("bench-rpo", "Bench RPO", frozenset({"rpo"}))
    return TestClient(app)


def _get(client: Any, path: str) -> None:
    if path == "drl":  # the local-DRL use case (`painguide dose drl`), no page of its own
        from painguide.dose.review import drl_table
        from painguide.services import open_uow

        drl_table(open_uow)
        return
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])


def measure(url: str, data_dir: Path, repeat: int, reports: int) -> dict[str, tuple[float, float, float]]:
    """p50 and p95 wall time and median CPU time of this process (app and SQLite, not a PostgreSQL server) in
    ms per page, after one warm-up request each. On a shared machine the CPU time is the steadier figure."""
    client = _client(url, data_dir)
    results = {}
    for name, path in pages(reports, _deep_anchor(url, reports)).items():
        _get(client, path)
        times, cpu = [], []
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            _get(client, path)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        results[name] = (statistics.median(times), p95, statistics.median(cpu))
        print(
            f"  {name:55s} p50 {results[name][0]:7.1f} ms   p95 {p95:7.1f} ms   "
            f"CPU {results[name][2]:7.1f} ms",
            flush=True,
        )
    return results


def _fill(url: str, reports: int, events: int) -> None:
    from benchmarks.dose_loader import load
    from painguide.store.db import upgrade

    upgrade(url)
    seconds = load(url, reports=reports, events=events)
    print(f"  loaded {reports:,} reports / {reports * events:,} events in {seconds:.0f} s", flush=True)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20,000 reports, 10 repeats")
    parser.add_argument("--reports", type=int, default=None, help="default 200,000 (20,000 with --quick)")
    parser.add_argument("--events", type=int, default=25)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=None, help="default 40 (10 with --quick)")
    parser.add_argument("--sqlite", type=Path, help="SQLite file to fill (or reuse when it exists)")
    args = parser.parse_args()
    reports = args.reports or (20_000 if args.quick else 200_000)
    repeat = args.repeat or (10 if args.quick else 40)
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    loads: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.db in ("sqlite", "both"):
            path = args.sqlite or folder / "scale.sqlite3"
            url = f"sqlite:///{path}"
            print(f"SQLite ({path})", flush=True)
            if path.exists():
                from painguide.store.db import upgrade

                upgrade(url)
            else:
                _fill(url, reports, args.events)
            results["SQLite"] = measure(url, folder / "sqlite-data", repeat, reports)
            loads["SQLite"] = _load()
        if args.db in ("postgres", "both"):
            with postgres_server() as url:
                print("PostgreSQL (throw-away server)", flush=True)
                _fill(url, reports, args.events)
                results["PostgreSQL"] = measure(url, folder / "pg-data", repeat, reports)
                loads["PostgreSQL"] = _load()
    columns = list(results)
    print()
    print(
        f"| page ({reports:,} reports, {reports * args.events:,} events) | "
        + " | ".join(f"{c} p50 / p95 ms" for c in columns)
        + " |"
    )
    print("|---|" + "---|" * len(columns))
    for name in next(iter(results.values())):
        cells = [
            f"{results[c][name][0]:,.0f} / {results[c][name][1]:,.0f} ({results[c][name][2]:,.0f})"
            for c in columns
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(
        "| load average after the run (1 / 5 / 15 min, `uptime`) | "
        + " | ".join(loads[c] for c in columns)
        + " |"
    )


if __name__ == "__main__":
    main()

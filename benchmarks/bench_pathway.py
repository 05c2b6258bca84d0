"""Care-pathway pages under load: patient search and the case page with 100,000 patients and 300,000 cases.

The rows are bulk-loaded straight into a migrated database (SQLite file, then a throw-away PostgreSQL cluster
with fsync on when its binaries are installed), `painguide serve` runs on a loopback port, and clients on one
signed-in session request search pages (pseudonym, one and two name-word prefixes) and case pages of random
cases, with one client and with 20 concurrent clients (closed loop). Every request is audited, as in
production. The load generator is ``wrk`` (C, Debian package ``wrk``; a Lua script sends the session cookie
and counts the answers by status) when installed, else asyncio + httpx clients in this process, which take a
large share of the cores themselves; real clients are browsers on other machines, so ``wrk`` measures the
server more fairly. Beside each figure: the server's CPU time per request (its processes, plus the
PostgreSQL backends) and the load average, since the machine may be shared.

Goal: p95 < 100 ms on 2 cores. Usage: ``python -m benchmarks pathway`` or ``python benchmarks/bench_pathway.py
[--quick] [--client wrk|httpx|both] [--patients N] [--seconds S] [--requests N] [--workers N]
[--sqlite-only | --postgresql-only]``. ``--quick`` loads 20,000 patients and measures 5 s each (wrk) or 200
requests (httpx), a few minutes; the figures for docs/performance.md come from the full run. The last lines
are the Markdown table of docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import insert

from painguide.store.db import make_engine, upgrade
from painguide.store.pathway_repository import search_keys
from painguide.store.pathway_tables import CaseRow, EntryRow, PatientKeyRow, PatientRow
from painguide.store.uow import UnitOfWork
from painguide.store.users import create_user
from painguide.web.security import CSRF_FIELD

FIRST = ["Anna", "Lea", "Mia", "Nina", "Laura", "Sofia", "Elias", "Noah", "Luca", "David", "Jonas", "Marco",
         "Zoë", "Jürg", "Ömer", "Chiara", "Fatima", "Milan", "Ida", "Paul"]  # fmt: skip
LAST = ["Müller", "Meier", "Schneider", "Fischer", "Weber", "Keller", "Huber", "Baumann", "Steiner",
        "Brunner", "Gerber", "Frei", "Moser", "Widmer", "Zimmermann", "Graf", "Wyss", "Roth", "Lüthi",
        "Bachmann", "Schmid", "Suter", "Kunz", "Vogel", "Hofmann"]  # fmt: skip
STAGES = ["workup", "planning", "preparation", "ready", "follow_up", "closed"]
COMPLAINTS = [("axial low back pain", "lumbar"), ("neck pain", "cervical"), ("knee pain", "lower-limb"),
              ("sacral pain", "sacral"), ("shoulder pain", "upper-limb")]  # fmt: skip
PASSWORD = "bench-pathway-password"
CHUNK = 10_000


def _patients(n: int, rng: random.Random) -> Iterator[tuple[dict[str, Any], list[str]]]:
    for i in range(1, n + 1):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        pseudonym = f"B-{i:06d}"
        record = {
            "pseudonym": pseudonym, "name": name, "birth_year": rng.randint(1930, 2005),
            "sex": rng.choice(["female", "male"]), "pregnancy": "unknown", "contrast_allergy": False,
            "drugs": [], "fused_levels": [], "high_bleeding_risk": False, "renal_impairment": False,
        }  # fmt: skip
        row = {"id": i, "pseudonym": pseudonym, "name": name, "record": record, "created_by": "bench"}
        yield row, search_keys(pseudonym) + search_keys(name)


def bulk_load(url: str, patients: int, cases_per_patient: int = 3, seed: int = 1) -> float:
    """Migrate ``url`` and insert the patients, their search keys, cases and two timeline entries each.

    On PostgreSQL the tables are then vacuumed and analysed, as autovacuum does within a minute of such a
    load: without statistics and visibility map the key search reads every matching row from the table
    instead of from its (key, patient_id) index alone.
    """
    upgrade(url)
    rng = random.Random(seed)
    engine = make_engine(url)
    start = time.perf_counter()
    opened = datetime(2025, 1, 1, 9, tzinfo=UTC)
    with engine.begin() as conn:
        people, keys, cases, entries = [], [], [], []
        case_id = 0

        def flush() -> None:  # parents before children (foreign keys)
            for table, rows in ((PatientRow, people), (PatientKeyRow, keys), (CaseRow, cases),
                                (EntryRow, entries)):  # fmt: skip
                if rows:
                    conn.execute(insert(table.__table__), rows)  # type: ignore[arg-type]
                    rows.clear()

        for row, words in _patients(patients, rng):
            people.append(row)
            keys.extend({"patient_id": row["id"], "key": w} for w in dict.fromkeys(words))
            for _ in range(cases_per_patient):
                case_id += 1
                complaint, region = rng.choice(COMPLAINTS)
                at = opened + timedelta(days=rng.randint(0, 700))
                info = {
                    "complaint": complaint, "region": region, "side": "right", "pain_duration_weeks": 20,
                    "nrs": rng.randint(3, 9), "disability_scale": "ODI", "disability_score": 40,
                    "opened_on": at.date().isoformat(),
                }  # fmt: skip
                stage = rng.choice(STAGES)
                cases.append({"id": case_id, "patient_id": row["id"], "info": info, "stage": stage,
                              "next_step": None if stage == "closed" else "diagnostics",
                              "opened_at": at, "opened_by": "bench", "updated_at": at})  # fmt: skip
                exam = {"kind": "exam", "on": at.date().isoformat(), "examiner": "bench",
                        "findings": "pain on facet loading"}  # fmt: skip
                entries.append({"case_id": case_id, "kind": "opened", "at": at, "by": "bench", "data": info})
                entries.append(
                    {"case_id": case_id, "kind": "diagnostic", "at": at, "by": "bench", "data": exam}
                )
            if len(people) >= CHUNK // 2:
                flush()
        flush()
    seconds = time.perf_counter() - start
    if engine.dialect.name == "postgresql":  # what autovacuum does within a minute of such a load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    with UnitOfWork(_session(url)) as uow:
        create_user(uow.session, "bench", PASSWORD, ["physician"], actor="bench")
        uow.commit()
    engine.dispose()
    return seconds


def _session(url: str) -> Any:
    from painguide.store.db import session_factory

    return session_factory(url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVER_PIDS: dict[str, int] = {}
"""The process id of each running server, by base URL (its CPU time is read from /proc)."""


@contextmanager
def server(url: str, data_dir: Path, workers: int = 1) -> Iterator[str]:
    """``painguide serve --workers N`` on a free loopback port against ``url``."""
    port = _free_port()
    env = {**os.environ, "PAINGUIDE_DATABASE_URL": url, "PAINGUIDE_DATA_DIR": str(data_dir),
           "PAINGUIDE_DEMO": "0", "PAINGUIDE_SECRET_KEY": "bench-" + "s" * 40}  # fmt: skip
    exe = Path(sys.executable).with_name("painguide")
    log = (data_dir / "server.log").open("w")
    command = [str(exe), "serve", "--port", str(port), "--no-demo", "--workers", str(workers)]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    SERVER_PIDS[base] = proc.pid
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
            if proc.poll() is not None:
                raise RuntimeError((data_dir / "server.log").read_text())
        else:
            raise RuntimeError("server did not start within 120 s")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def _queries(rng: random.Random, patients: int) -> Iterator[str]:
    while True:
        kind = rng.randrange(3)
        if kind == 0:
            yield f"B-{rng.randint(1, patients):06d}"
        elif kind == 1:
            yield rng.choice(LAST)[:3]
        else:
            yield f"{rng.choice(FIRST)[:3]} {rng.choice(LAST)[:4]}"


async def _load(base: str, paths: list[str], clients: int, errors: list[str] | None = None) -> list[float]:
    """Request every path with ``clients`` concurrent workers on one signed-in session; seconds each.

    An answer other than 200 is added to ``errors`` (or raised when no list is given).
    """
    async with httpx.AsyncClient(
        base_url=base, timeout=60, limits=httpx.Limits(max_connections=clients)
    ) as c:
        page = (await c.get("/login")).text  # the sign-in form's CSRF token, as a browser has it
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
        assert token, "no csrf-token on /login"
        form = {"username": "bench", "password": PASSWORD, "next": "/", CSRF_FIELD: token.group(1)}
        r = await c.post("/login", data=form)
        assert r.status_code in (200, 303), r.text
        queue = list(reversed(paths))
        times: list[float] = []

        async def worker() -> None:
            while queue:
                path = queue.pop()
                t0 = time.perf_counter()
                response = await c.get(path, headers={"accept": "text/html"})
                times.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    if errors is None:
                        raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
                    errors.append(f"{path}: {response.status_code}")

        await asyncio.gather(*(worker() for _ in range(clients)))
        return times


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


WRK_SCRIPT = r"""
-- painguide bench_pathway: GET the paths of a file (one a line) with the session cookie, each thread from
-- its own offset; count the answers by status; print the latency percentiles as one parsable line.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("offset", #threads * 7919)
end
function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  cookie = args[2]
  i = offset
  statuses = {}
end
function request()
  i = i + 1
  local headers = {Cookie = cookie, Accept = "text/html"}
  return wrk.format("GET", paths[(i % #paths) + 1], headers)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do counts[status] = (counts[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(counts) do parts[#parts + 1] = status .. ":" .. n end
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d seconds=%.3f p50=%.3f p95=%.3f p99=%.3f max=%.3f socket_errors=%d statuses=%s\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, e.connect + e.read + e.write + e.timeout,
    table.concat(parts, ",")))
end
"""
WRK_LINE = re.compile(r"^WRK (.*)$", re.MULTILINE)


def _sign_in(base: str) -> str:
    """Sign in as the bench user through the login form; returns the ``Cookie`` header value."""
    with httpx.Client(base_url=base, timeout=60) as c:
        page = c.get("/login").text
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
        assert token, "no csrf-token on /login"
        form = {"username": "bench", "password": PASSWORD, "next": "/", CSRF_FIELD: token.group(1)}
        r = c.post("/login", data=form)
        assert r.status_code in (200, 303), r.text
        return "; ".join(f"{name}={value}" for name, value in c.cookies.items())


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` and all its descendants still running."""
    tick, total, pending = os.sysconf("SC_CLK_TCK"), 0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / tick


def _postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL backends serving the database ``bench`` (0 where /proc has none)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "cmdline").read_bytes().startswith(b"postgres: ") and b" bench " in (
                proc / "cmdline"
            ).read_bytes():
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total / tick


def _wrk(base: str, paths: list[str], clients: int, seconds: float, folder: Path) -> dict[str, Any]:
    """``wrk`` with ``clients`` connections for ``seconds`` on the paths; latency percentiles in ms.

    A closed loop like the httpx clients (a connection sends its next request when the last is answered),
    but the client is C and takes a small share of the cores. Answers other than 200 count as errors.
    """
    script, listing = folder / "bench_pathway.lua", folder / f"paths-{clients}.txt"
    script.write_text(WRK_SCRIPT)
    listing.write_text("\n".join(paths) + "\n")
    cookie = _sign_in(base)
    split: list[int] = []
    counter = threading.Timer(min(2.0, seconds / 2), lambda: split.extend(_connections_per_worker(base)))
    counter.start()
    threads = min(clients, 2)
    command = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds:g}s", "--timeout", "30s",
               "-s", str(script), base, "--", str(listing), cookie]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    counter.join()
    found = WRK_LINE.search(done.stdout)
    if done.returncode or found is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    fields = dict(part.split("=", 1) for part in found.group(1).split())
    statuses = dict(s.split(":") for s in fields["statuses"].split(",") if s)
    n = int(fields["requests"])
    errors = [f"status {k}: {v}" for k, v in statuses.items() if k != "200"]
    if int(fields["socket_errors"]):
        errors.append(f"socket errors: {fields['socket_errors']}")
    return {"p50": float(fields["p50"]), "p95": float(fields["p95"]), "rps": n / float(fields["seconds"]),
            "n": n, "errors": errors, "split": sorted(split, reverse=True)}  # fmt: skip


def _split(r: dict[str, Any]) -> str:
    return f"; clients per worker {'/'.join(map(str, r['split']))}" if r.get("split") else ""


def _connections_per_worker(base: str) -> list[int]:
    """Open client connections each server process holds (``ss``): with kept-alive connections a worker
    keeps the clients it accepted, so an uneven split (16 to 4) queues on one core while the other idles."""
    port = base.rsplit(":", 1)[1]
    listed = subprocess.run(["ss", "-tnpH", "state", "established", f"sport = :{port}"],
                            capture_output=True, text=True).stdout  # fmt: skip
    return list(Counter(re.findall(r"pid=(\d+)", listed)).values())


def measure(
    base: str,
    patients: int,
    requests: int,
    clients: int = 20,
    seed: int = 2,
    *,
    seconds: float = 0,
    folder: Path | None = None,
) -> dict[str, Any]:
    """p50, p95 (ms), requests/s and errors per page with one client and with ``clients``.

    With ``seconds`` (and ``folder`` for its files) ``wrk`` sends the requests for that long per measurement;
    without, the asyncio + httpx clients send ``requests`` of each (a fifth with one client).
    """
    rng = random.Random(seed)
    queries = _queries(rng, patients)
    count = max(requests, 2000)
    search = [f"/patients?q={quote(next(queries))}" for _ in range(count)]
    cases = [f"/cases/{rng.randint(1, patients * 3)}" for _ in range(count)]
    asyncio.run(_load(base, search[: clients * 2] + cases[: clients * 2], clients))  # warm-up
    result = {}
    pid = SERVER_PIDS.get(base)
    for name, paths in (("patient search", search), ("case page", cases)):
        for n in (1, clients):  # one client: the time a request takes; 20: with queueing
            key = f"{name}, {n} client{'s' if n > 1 else ''}"
            cpu = _process_cpu(pid) + _postgres_cpu() if pid else 0.0
            if seconds and folder is not None:
                result[key] = _wrk(base, paths, n, seconds, folder)
            else:
                part = paths[:requests] if n == clients else paths[: max(40, requests // 5)]
                t0 = time.perf_counter()
                errors: list[str] = []
                times = asyncio.run(_load(base, part, n, errors))
                wall = time.perf_counter() - t0
                result[key] = {"p50": _p(times, 50), "p95": _p(times, 95), "rps": len(times) / wall,
                               "n": len(times), "errors": errors}  # fmt: skip
            cpu = (_process_cpu(pid) + _postgres_cpu() - cpu) if pid else float("nan")
            result[key]["cpu_ms"] = cpu * 1000 / max(1, result[key]["n"])
            result[key]["load"] = _load_average()
    return result


@contextmanager
def postgres(*, fsync: bool = True) -> Iterator[str | None]:
    """A throw-away PostgreSQL cluster on loopback (``None`` when the binaries are not installed).

    ``fsync`` on (PostgreSQL's default, as SQLite's ``synchronous=FULL``): a commit waits for its WAL flush.
    """
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        yield None
        return
    bindir = found[-1].parent
    root = Path(tempfile.mkdtemp(prefix="painguide-bench-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = root / "data"
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                    "--no-sync"], check=True, capture_output=True)  # fmt: skip
    options = f"-p {port} -k {root} -h 127.0.0.1" + ("" if fsync else " -F")
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o",
                    options, "start"], check=True, capture_output=True)  # fmt: skip
    try:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute('CREATE DATABASE "bench"')
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/bench"
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def run(backend: str, url: str, data_dir: Path, patients: int, args: argparse.Namespace) -> dict[str, Any]:
    """Load, serve and measure one backend with each client asked for; one result row per page and client."""
    loaded = bulk_load(url, patients)
    print(f"{backend}: {patients:,} patients, {patients * 3:,} cases loaded in {loaded:.0f} s", flush=True)
    result: dict[str, Any] = {}
    with server(url, data_dir, args.workers) as base:
        for client in args.clients:
            seconds = args.seconds if client == "wrk" else 0
            for name, r in measure(base, patients, args.requests, seconds=seconds, folder=data_dir).items():
                result[f"{name} ({client})"] = r
                print(f"{backend:10s} {name:26s} {client:5s} p50 {r['p50']:7.1f} ms  p95 {r['p95']:7.1f} ms  "
                      f"{r['rps']:5.1f} req/s  server CPU {r['cpu_ms']:4.1f} ms/req  (n={r['n']}, "
                      f"errors={len(r['errors'])}; load {r['load']}{_split(r)})", flush=True)  # fmt: skip
    if any(r["errors"] for r in result.values()):
        log = (data_dir / "server.log").read_text(errors="replace").splitlines()
        failed = [line for line in log if "error" in line.lower()][-10:]
        print("errors:", *{e for r in result.values() for e in r["errors"]}, sep="\n  ")
        print("server errors:", *failed, sep="\n  ")
    return result


def _load_average() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def table(patients: int, results: dict[str, dict[str, Any]]) -> str:
    """The Markdown table of docs/performance.md: p50 / p95 per page and backend (and req/s under load)."""
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL 15"}
    backends = [b for b in ("sqlite", "postgresql") if b in results]
    head = f"| page ({patients:,} patients, {patients * 3:,} cases) | "
    head += " | ".join(f"{names[b]} p50 / p95 ms" for b in backends) + " |"
    lines = [head, "|---|" + "---|" * len(backends)]
    for row in next(iter(results.values())):
        cells = []
        for b in backends:
            r = results[b][row]
            cell = f"{r['p50']:,.0f} / {r['p95']:,.0f}"
            if " 1 client" not in row:
                cell += f" ({r['rps']:,.0f} req/s, {r['cpu_ms']:.1f} ms CPU/req)"
            cell += f"; load {r['load'].split(',')[0]}{_split(r)}"
            cells.append(cell + (f", {len(r['errors'])} errors of {r['n']}" if r["errors"] else ""))
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 patients, 5 s per wrk measurement")
    parser.add_argument("--patients", type=int, default=None, help="default 100,000 (20,000 with --quick)")
    parser.add_argument(
        "--seconds", type=float, default=None, help="per wrk measurement (default 20; 5 quick)"
    )
    parser.add_argument("--requests", type=int, default=None, help="per httpx measurement (600; 200 quick)")
    parser.add_argument("--client", choices=["wrk", "httpx", "both"], default=None,
                        help="load generator (default wrk when installed, else httpx)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="painguide serve --workers (default 2)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgresql-only", action="store_true")
    parser.add_argument("--pg-fsync-off", action="store_true", help="PostgreSQL without fsync (unsafe)")
    args = parser.parse_args(sys.argv[1:] if sys.argv[0].endswith("bench_pathway.py") else [])
    patients = args.patients or (20_000 if args.quick else 100_000)
    args.requests = args.requests or (200 if args.quick else 600)
    args.seconds = args.seconds or (5 if args.quick else 20)
    wrk = shutil.which("wrk") is not None
    if args.client in ("wrk", "both") and not wrk:
        parser.error("--client wrk: wrk is not installed (Debian: apt-get install wrk)")
    args.clients = {"both": ["wrk", "httpx"], None: ["wrk" if wrk else "httpx"]}.get(
        args.client, [args.client]
    )
    start_load = _load_average()
    print(f"load: {start_load}; cpus: {os.cpu_count()}; workers: {args.workers}; client: "
          f"{' and '.join(args.clients)}; {date.today().isoformat()}", flush=True)  # fmt: skip
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="painguide-bench-") as tmp:
        data = Path(tmp)
        url = f"sqlite:///{data / 'bench.sqlite3'}"
        if not args.postgresql_only:
            results["sqlite"] = run("sqlite", url, data, patients, args)
        if not args.sqlite_only:
            with postgres(fsync=not args.pg_fsync_off) as pg:
                if pg is None:
                    print("postgresql: not installed, skipped")
                else:
                    results["postgresql"] = run("postgresql", pg, data, patients, args)
    fsync = "off" if args.pg_fsync_off else "on"
    print(f"\nload average at the start: {start_load}; at the end: {_load_average()}; "
          f"{args.workers} worker process(es); PostgreSQL fsync {fsync}\n")  # fmt: skip
    print(table(patients, results))


if __name__ == "__main__":
    main()

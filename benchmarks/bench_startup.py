"""Whole-process times of quick commands and when each reaches its work, beside ``import pydicom``.

Goals (quiet machine): a command reaches its work in < 0.4 s; ``painguide dose inspect`` of one small report
< 0.6 s as a whole process. Each command runs ``--repeat`` times in a new process (after one warm-up run);
the medians are printed with the load average, since on a shared machine the wall time follows the load and
the CPU time much less.

Columns (docs/performance.md, "Command start-up"):

- ``wall s``: the whole process, from just before it is started until it has exited;
- ``cpu s``: its CPU time (user + system);
- ``command s``: until the command's own code starts (interpreter, imports, settings, Typer's parse and the
  permission check done): the child's ``command`` mark;
- ``first SQL s`` and ``first SQL cpu s``: until the first SQL statement after the schema check is sent, i.e.
  until a database command reaches its work (also: engine, connection, schema check; for ``dose import``
  also reading and parsing the file); the child's ``first-sql`` mark, wall and CPU.

The marks are written by the child when ``PAINGUIDE_TIMING_FILE`` is set (:mod:`painguide.timing`); both
sides read ``CLOCK_MONOTONIC``, so a mark minus the parent's start time is the time from the start.

Run: ``python benchmarks/bench_startup.py [--repeat N] [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_NS = 1e-9


@dataclass(frozen=True)
class Run:
    """One process: wall and CPU seconds, and the seconds from its start to each mark (wall, CPU)."""

    wall: float
    cpu: float
    marks: dict[str, tuple[float, float]]


def _run(command: list[str], env: dict[str, str], marks: Path) -> Run:
    marks.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    subprocess.run(command, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = (time.clock_gettime_ns(time.CLOCK_MONOTONIC) - start) * _NS
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    found: dict[str, tuple[float, float]] = {}
    if marks.exists():
        for line in marks.read_text(encoding="utf-8").splitlines():
            name, clock, cpu_ns = line.split()
            found.setdefault(name, ((int(clock) - start) * _NS, int(cpu_ns) * _NS))
    return Run(wall, cpu, found)


def measure(command: list[str], env: dict[str, str], marks: Path, repeat: int) -> list[Run]:
    """``command`` run ``repeat`` times in new processes (after one warm-up run)."""
    _run(command, env, marks)
    return [_run(command, env, marks) for _ in range(repeat)]


def _median_mark(runs: list[Run], name: str, index: int) -> str:
    values = [run.marks[name][index] for run in runs if name in run.marks]
    return f"{statistics.median(values):.3f}" if len(values) == len(runs) else "—"


def _compiled() -> str:
    """Whether painguide's own sources have current byte code (``make`` compiles them)."""
    spec = importlib.util.find_spec("painguide.cli")
    if spec is None or spec.origin is None or spec.cached is None:
        return "unknown"
    source, cached = Path(spec.origin), Path(spec.cached)
    return "yes" if cached.exists() and cached.stat().st_mtime >= source.stat().st_mtime else "no"


def main() -> None:
    from painguide.dose.generator import ct_report, fluoro_report, write_report

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 runs per command")
    args = parser.parse_args()
    repeat = 3 if args.quick else args.repeat
    python = sys.executable
    painguide = str(Path(python).with_name("painguide"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        marks = folder / "marks.txt"
        env = dict(os.environ, PAINGUIDE_DATA_DIR=str(folder / "data"), PAINGUIDE_TIMING_FILE=str(marks))
        for name in ("PAINGUIDE_DATABASE_URL", "PAINGUIDE_CLI_USER"):
            env.pop(name, None)
        ct = write_report(ct_report(seed=1, events=2), folder / "ct.dcm")
        fluoro = write_report(fluoro_report(seed=1, events=3), folder / "fluoro.dcm")
        subprocess.run(
            [painguide, "dose", "import", str(ct), "--json"], env=env, check=True, capture_output=True
        )
        commands = {
            '`python -c "pass"`': [python, "-c", "pass"],
            '`python -c "import pydicom"`': [python, "-c", "import pydicom"],
            '`python -c "import pydicom, sqlalchemy.orm"`': [python, "-c", "import pydicom, sqlalchemy.orm"],
            "`painguide --help`": [painguide, "--help"],
            "`painguide dose inspect ct.dcm --json` (small CT report)": [
                painguide, "dose", "inspect", str(ct), "--json",
            ],
            "`painguide dose inspect fluoro.dcm --json` (3-event C-arm report)": [
                painguide, "dose", "inspect", str(fluoro), "--json",
            ],
            "`painguide dose list --json` (schema current)": [painguide, "dose", "list", "--json"],
            "`painguide dose alerts --json` (schema current)": [painguide, "dose", "alerts", "--json"],
            "`painguide dose import ct.dcm --json` (a duplicate)": [
                painguide, "dose", "import", str(ct), "--json",
            ],
        }  # fmt: skip
        results = {name: measure(command, env, marks, repeat) for name, command in commands.items()}
    load = os.getloadavg()
    print(
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (uptime); {os.cpu_count()} cores; "
        f"medians of {repeat} runs; painguide sources byte-compiled: {_compiled()}"
    )
    print()
    print("| command | wall s | CPU s | command s | first SQL s | first SQL CPU s |")
    print("|---|---|---|---|---|---|")
    for name, runs in results.items():
        wall = statistics.median(run.wall for run in runs)
        cpu = statistics.median(run.cpu for run in runs)
        print(
            f"| {name} | {wall:.3f} | {cpu:.3f} | {_median_mark(runs, 'command', 0)} | "
            f"{_median_mark(runs, 'first-sql', 0)} | {_median_mark(runs, 'first-sql', 1)} |"
        )


if __name__ == "__main__":
    main()

"""Whole-process times of quick commands, side by side with ``python -c "import pydicom"``.

Goals (quiet machine): a command reaches its work in < 0.4 s; ``painguide dose inspect`` of one small report
< 0.6 s as a whole process. Each command runs ``--repeat`` times in a new process (after one warm-up run);
the median wall time and the median CPU time (user + system of the child) are printed with the load
average, since on a shared machine the wall time follows the load and the CPU time much less.

Run: ``python benchmarks/bench_startup.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(command: list[str], env: dict[str, str], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``command`` run ``repeat`` times in new processes."""
    _run(command, env)
    runs = [_run(command, env) for _ in range(repeat)]
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def main() -> None:
    from painguide.dose.generator import ct_report, fluoro_report, write_report

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    python = sys.executable
    painguide = str(Path(python).with_name("painguide"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = dict(os.environ, PAINGUIDE_DATA_DIR=str(folder / "data"))
        env.pop("PAINGUIDE_DATABASE_URL", None)
        ct = write_report(ct_report(seed=1, events=2), folder / "ct.dcm")
        fluoro = write_report(fluoro_report(seed=1, events=3), folder / "fluoro.dcm")
        subprocess.run(
            [painguide, "dose", "import", str(ct), "--json"], env=env, check=True, capture_output=True
        )
        commands = {
            'python -c "pass"': [python, "-c", "pass"],
            'python -c "import pydicom"': [python, "-c", "import pydicom"],
            'python -c "import pydicom, sqlalchemy.orm"': [python, "-c", "import pydicom, sqlalchemy.orm"],
            "painguide --help": [painguide, "--help"],
            "painguide dose inspect ct.dcm --json": [painguide, "dose", "inspect", str(ct), "--json"],
            "painguide dose inspect fluoro.dcm --json": [painguide, "dose", "inspect", str(fluoro), "--json"],
            "painguide dose list --json (current schema)": [painguide, "dose", "list", "--json"],
            "painguide dose import ct.dcm --json (duplicate)": [
                painguide,
                "dose",
                "import",
                str(ct),
                "--json",
            ],
        }
        results = {name: measure(command, env, args.repeat) for name, command in commands.items()}
    load = os.getloadavg()
    print(
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores; {args.repeat} runs"
    )
    print(f"{'command':52s} {'wall s':>8s} {'cpu s':>8s}")
    for name, (wall, cpu) in results.items():
        print(f"{name:52s} {wall:8.3f} {cpu:8.3f}")


if __name__ == "__main__":
    main()

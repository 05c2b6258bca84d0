"""Kill -9 import trials: kill `painguide dose import` at random moments, rerun, count lost and duplicates.

Each trial imports the same folder of generated reports into a fresh SQLite database, killing the process
with SIGKILL after a random delay and starting it again until one run finishes. Then every report must be
stored exactly once, with all its events and one ``dose.import`` audit entry. Goal: 0 lost, 0 duplicated.

Run: ``python -m benchmarks.dose_kill_trials [--trials N] [--reports N] [--seed N]``.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text


def _counts(url: str) -> tuple[int, int, int, int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            reports, distinct = connection.execute(
                text("SELECT count(*), count(DISTINCT sop_instance_uid) FROM dose_report")
            ).one()
            events = connection.execute(text("SELECT count(*) FROM dose_event")).scalar_one()
            declared = connection.execute(
                text("SELECT coalesce(sum(event_count), 0) FROM dose_report")
            ).scalar_one()
            audited = connection.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'dose.import'")
            ).scalar_one()
    finally:
        engine.dispose()
    return int(reports), int(distinct), int(events), int(declared), int(audited)


def trial(folder: Path, url: str, data: Path, rng: random.Random, max_delay: float) -> tuple[int, int]:
    """One trial: kill until a run completes; returns (kills, runs)."""
    env = os.environ | {
        "PAINGUIDE_DATA_DIR": str(data),
        "PAINGUIDE_DATABASE_URL": url,
        "PAINGUIDE_DOSE_IMPORT_BATCH_SIZE": str(rng.choice((1, 5, 25, 100))),
    }
    command = [str(Path(sys.executable).with_name("painguide")), "dose", "import", str(folder), "--json"]
    kills = runs = 0
    while True:
        runs += 1
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            process.wait(timeout=rng.uniform(0.2, max_delay * runs))  # later runs get longer: one finishes
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            continue
        if process.returncode != 0:
            raise SystemExit(f"import failed: {process.stderr.read().decode() if process.stderr else ''}")
        return kills, runs


def main() -> None:
    from painguide.dose.generator import write_corpus

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--reports", type=int, default=60)
    parser.add_argument("--events", type=int, default=25)
    parser.add_argument("--max-delay", type=float, default=6.0, help="latest kill after start, seconds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    lost = duplicated = kills = runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "reports"
        write_corpus(folder, args.reports, seed=3, events=args.events, ct_every=10)
        for number in range(args.trials):
            data = root / f"trial{number}"
            url = f"sqlite:///{data / 'painguide.sqlite3'}"
            started = time.perf_counter()
            k, r = trial(folder, url, data, rng, args.max_delay)
            reports, distinct, events, declared, audited = _counts(url)
            lost += args.reports - distinct + max(0, declared - events)
            duplicated += reports - distinct + max(0, audited - distinct)
            kills, runs = kills + k, runs + r
            print(
                f"trial {number + 1:2d}: {k} kills, {r} runs, {reports} reports ({distinct} distinct), "
                f"{events} of {declared} events, {audited} audit entries, "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
    print(
        f"{args.trials} trials, {kills} kills, {runs} runs: {lost} lost, {duplicated} duplicated (goal 0, 0)"
    )


if __name__ == "__main__":
    main()

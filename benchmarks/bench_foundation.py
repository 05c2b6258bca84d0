"""Foundation speed: advisor recommendations per second, catalogue load time, CLI cold start.

Goals: ≥ 20,000 recommendations/s on one core; catalogue load < 200 ms; `painguide --help` < 300 ms.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from painguide.advisor import PatientFactors, recommend
from painguide.catalogue.loader import load_knowledge


def bench_advisor(seconds: float = 2.0) -> float:
    kb = load_knowledge()
    ids = [p.id for p in kb.catalogue.enabled()]
    patients = [
        PatientFactors(),
        PatientFactors(pregnant=True, bmi=34),
        PatientFactors(contrast_allergy=True, egfr=28, drugs=("apixaban",)),
        PatientFactors(drugs=("warfarin", "clopidogrel"), high_bleeding_risk=True, age=81),
    ]
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for pid in ids:
            for f in patients:
                recommend(kb, pid, f)
        n += len(ids) * len(patients)
    return n / (time.perf_counter() - start)


def bench_catalogue_load(repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        load_knowledge.cache_clear()
        t0 = time.perf_counter()
        load_knowledge()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def bench_cold_start(repeats: int = 7) -> float:
    exe = Path(sys.executable).with_name("painguide")
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(
            [str(exe), "--help"], check=True, capture_output=True, env={**os.environ, "COLUMNS": "100"}
        )
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(f"catalogue load (median of 7):      {bench_catalogue_load():8.1f} ms   goal < 200 ms")
    print(f"advisor throughput (one core):     {bench_advisor():8.0f} /s   goal >= 20,000 /s")
    print(f"`painguide --help` cold start:     {bench_cold_start():8.1f} ms   goal < 300 ms")

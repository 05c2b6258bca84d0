"""Opt-in start-up marks for ``benchmarks/bench_startup.py`` (off unless ``PAINGUIDE_TIMING_FILE`` is set).

With ``PAINGUIDE_TIMING_FILE`` naming a file, :func:`mark` appends one line ``NAME MONOTONIC_NS CPU_NS``: the
system-wide ``CLOCK_MONOTONIC`` (the same clock in the parent that started the process, so the two can be
subtracted) and the CPU time this process has used so far (user + system, interpreter start included). The
marks written are ``command`` (the command's own code starts: Typer has parsed the arguments and the
permission check has passed) and ``first-sql`` (the first SQL statement sent after the schema check, i.e. the
first statement of the command's own work). Unset, a mark costs one look-up in the environment.
"""

from __future__ import annotations

import os
import time

__all__ = ["ENV", "enabled", "mark"]

ENV = "PAINGUIDE_TIMING_FILE"


def enabled() -> bool:
    """Whether marks are written (``PAINGUIDE_TIMING_FILE`` is set and not empty)."""
    return bool(os.environ.get(ENV))


def mark(name: str) -> None:
    """Append ``name``, the monotonic clock and this process's CPU time (nanoseconds) to the timing file."""
    path = os.environ.get(ENV)
    if not path:
        return
    line = f"{name} {time.clock_gettime_ns(time.CLOCK_MONOTONIC)} {time.process_time_ns()}\n"
    with open(path, "a", encoding="utf-8") as out:
        out.write(line)

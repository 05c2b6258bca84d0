"""Sign-in timing with production argon2id cost (t=3, 64 MiB): known vs unknown user names, and how many of
50 wrong passwords are answered before throttling. Prints figures for docs/security.md."""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time

os.environ.setdefault("PAINGUIDE_DATA_DIR", tempfile.mkdtemp(prefix="painguide-bench-"))
os.environ["PAINGUIDE_DEMO"] = "1"
for _var in ("PAINGUIDE_PASSWORD_TIME_COST", "PAINGUIDE_PASSWORD_MEMORY_KIB", "PAINGUIDE_DATABASE_URL"):
    os.environ.pop(_var, None)

from fastapi.testclient import TestClient  # noqa: E402 (settings come from the environment set above)

from painguide.web.app import create_app  # noqa: E402


def _token(client: TestClient) -> str:
    found = re.search(r'csrf-token" content="([^"]+)', client.get("/login").text)
    assert found
    return found.group(1)


def _attempt(client: TestClient, name: str) -> tuple[int, float]:
    form = {"username": name, "password": "wrong-password", "csrf_token": _token(client)}
    start = time.perf_counter()
    status = client.post("/login", data=form).status_code
    return status, time.perf_counter() - start


def main() -> None:
    """Measure and print."""
    app = create_app()
    known, unknown = [], []
    for i in range(8):  # alternate; 4 failures per name and fresh addresses keep throttling out of it
        with TestClient(app, client=(f"10.0.0.{i}", 1)) as client:
            known.append(_attempt(client, "physician" if i % 2 else "rpo")[1])
        with TestClient(app, client=(f"10.0.1.{i}", 1)) as client:
            unknown.append(_attempt(client, f"nobody{i}")[1])
    print(f"wrong password, known name:   median {statistics.median(known) * 1000:.0f} ms (n={len(known)})")
    print(
        f"wrong password, unknown name: median {statistics.median(unknown) * 1000:.0f} ms (n={len(unknown)})"
    )
    with TestClient(app, client=("10.0.2.1", 1)) as client:
        statuses = [_attempt(client, "trainee")[0] for _ in range(50)]
    print(f"50 wrong passwords: {statuses.count(401)} answered, {statuses.count(429)} refused with 429")
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()

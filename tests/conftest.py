"""Shared fixtures: an isolated data directory per test, a real PostgreSQL server, the ../shared corpus."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAINGUIDE_SHARED_DIR") or REPO.parent / "shared")  # worktrees point here


SHARED_RDSR = SHARED / "data" / "rdsr"


def shared_rdsr_params() -> list[object]:
    """One pytest param per real sample RDSR in ../shared, or one skipped param when it is absent."""
    files = sorted(SHARED_RDSR.glob("*.dcm")) if SHARED_RDSR.is_dir() else []
    if not files:
        reason = f"sample RDSRs not found at {SHARED_RDSR} (../shared is absent)"
        return [pytest.param(None, id="no-samples", marks=pytest.mark.skip(reason=reason))]
    return [pytest.param(path, id=path.name, marks=pytest.mark.shared) for path in files]


@pytest.fixture
def shared_rdsr_dir() -> Path:
    """The folder of real sample RDSRs (the test is skipped when ../shared is absent)."""
    if not any(SHARED_RDSR.glob("*.dcm")):
        pytest.skip(f"sample RDSRs not found at {SHARED_RDSR} (../shared is absent)")
    return SHARED_RDSR


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every test that asks for ``shared_rdsr`` over every real sample file."""
    if "shared_rdsr" in metafunc.fixturenames:
        metafunc.parametrize("shared_rdsr", shared_rdsr_params())


@pytest.fixture(autouse=True)
def isolated_settings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test gets its own data directory and fresh settings; nothing touches the user's real data."""
    from painguide.settings import get_settings

    data_dir = tmp_path_factory.mktemp("painguide-data")
    monkeypatch.setenv("PAINGUIDE_DATA_DIR", str(data_dir))
    for var in (
        "PAINGUIDE_DATABASE_URL",
        "PAINGUIDE_SITE_POLICY",
        "PAINGUIDE_TRAINING_POLICY",
        "PAINGUIDE_DEMO",
        "PAINGUIDE_SECRET_KEY",
    ):
        monkeypatch.delenv(var, raising=False)
    # argon2id at its lowest allowed cost: the suite signs in hundreds of times (production: t=3, 64 MiB)
    monkeypatch.setenv("PAINGUIDE_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("PAINGUIDE_PASSWORD_MEMORY_KIB", "8192")
    get_settings.cache_clear()
    yield data_dir
    get_settings.cache_clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a throw-away PostgreSQL cluster on loopback and yield its base URL (without database name).

    Uses ``PAINGUIDE_TEST_POSTGRES_URL`` if set. Skips when no server binaries are installed, unless
    ``PAINGUIDE_REQUIRE_POSTGRES=1`` (set by CI), which turns the skip into a failure.
    """
    if url := os.environ.get("PAINGUIDE_TEST_POSTGRES_URL"):
        yield url
        return
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("PAINGUIDE_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL server binaries not found (apt-get install postgresql)")
        pytest.skip("PostgreSQL server binaries not installed")
    root = Path(tempfile.mkdtemp(prefix="painguide-pg-"))  # outside pytest's root-only tmp tree
    data = root / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root: use the postgres system account
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
    )
    log = root / "server.log"
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-o",
            f"-p {port} -k {root} -h 127.0.0.1 -F",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    import psycopg

    name = f"t{time.time_ns()}"
    plain = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{postgres_server}/{name}"
    from painguide.store.db import make_engine

    make_engine(f"{postgres_server}/{name}").dispose()
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, isolated_settings: Path) -> str:
    """The database URL under test: an SQLite file, then a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{isolated_settings / 'test.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))

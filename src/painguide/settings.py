"""Settings from the environment (prefix ``PAINGUIDE_``), read through a cached :func:`get_settings`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from painguide.errors import ConfigurationError

__all__ = ["DEFAULT_SECRET", "MIN_SECRET_BYTES", "Settings", "get_settings"]

DEFAULT_SECRET = "painguide-demo-secret-change-me"
MIN_SECRET_BYTES = 32
_MIB = 1024 * 1024


def _default_data_dir() -> Path:
    return Path(user_data_dir("painguide", appauthor=False))


class Settings(BaseSettings):
    """Runtime configuration.

    Every field can be set as an environment variable with the ``PAINGUIDE_`` prefix, for example
    ``PAINGUIDE_DATABASE_URL=postgresql+psycopg://user@host/painguide``.
    """

    model_config = SettingsConfigDict(env_prefix="PAINGUIDE_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    demo: bool = False
    secret_key: str = DEFAULT_SECRET
    site_policy: Path | None = None
    training_policy: Path | None = None
    dicom_ae_title: str = "PAINGUIDE"
    dicom_port: int = 11112
    dicom_host: str = "127.0.0.1"
    dicom_allowed_callers: str = ""
    strict_dicom: bool = False
    dose_import_batch_size: int = Field(default=100, ge=1, le=10_000)
    """Reports committed together by ``dose import`` (one transaction each)."""
    zip_max_members: int = Field(default=10_000, ge=1)
    """Files a zip archive may hold; a larger archive is refused whole."""
    zip_max_member_mb: float = Field(default=64.0, gt=0)
    """Uncompressed size of one zip member in MB (largest real dose reports: about 1.3 MB)."""
    zip_max_ratio: float = Field(default=100.0, gt=1)
    """Uncompressed ÷ compressed size of one zip member (dose reports compress about 5-20 fold)."""
    igtl_allowed_hosts: str = "127.0.0.0/8,::1,localhost"
    timezone: str = "UTC"
    """The site's IANA time zone: DICOM dates and times are local (worklist, study times of reports)."""
    worklist_port: int = Field(default=11113, ge=1, le=65535)
    worklist_allowed_callers: str = ""
    """Calling AE titles allowed to query the worklist (comma-separated)."""
    worklist_fluoro_modality: str = "RF"
    """DICOM modality announced for fluoroscopy when a query names none (RF or XA)."""
    link_window_hours: float = 12.0
    """Hours either side of a procedure in which a report of the same patient is linked to it."""
    followup_link_hours: int = Field(default=168, ge=1, le=24 * 90)
    """How long a patient's one-time follow-up link works (hours)."""
    template_reload: bool = False
    """Development: look for changed page templates on every request (off: each is read once per process)."""

    # Sessions and sign-in (docs/security.md).
    https: bool = False
    """Served over HTTPS (directly or behind a TLS-terminating proxy): ``Secure`` cookies and HSTS."""
    allowed_origins: list[str] = Field(default_factory=list)
    """Extra origins (``https://host:port``) whose forms may post here, as JSON; the site's own is implied."""
    session_idle_minutes: int = Field(default=60, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=8192)
    """argon2id cost (RFC 9106: t=3, 64 MiB); a sign-in re-hashes passwords made with other values."""
    login_free_failures_account: int = Field(default=5, ge=1)
    login_free_failures_address: int = Field(default=20, ge=1)
    login_max_delay_s: int = Field(default=900, ge=1)
    login_failure_window_minutes: int = Field(default=15, ge=1)

    # Request bodies: refused with 413 before authentication, counted while they arrive.
    body_limit_bytes: int = Field(default=_MIB, ge=1024)
    body_limit_anonymous_bytes: int = Field(default=64 * 1024, ge=1024)
    body_limits: dict[str, int] = Field(
        default_factory=lambda: {
            "/sono/review": 201 * _MIB,
            "/sono/live/source": 201 * _MIB,
            "/dose/import": 201 * _MIB,
        }
    )
    """Per-path caps (exact path, POST) above :attr:`body_limit_bytes`, as JSON in the environment."""

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or an SQLite file in :attr:`data_dir`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'painguide.sqlite3'}"

    @property
    def quarantine_dir(self) -> Path:
        """Where refused import files are kept with their reason."""
        return self.data_dir / "quarantine"

    def site_zone(self) -> ZoneInfo:
        """The site's time zone (``PAINGUIDE_TIMEZONE``, an IANA name such as ``Europe/Zurich``).

        DICOM gives local dates and times without a zone: the worklist sends scheduled times in this zone
        and the local study times of dose reports and cines are read in it.
        """
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(
                f"PAINGUIDE_TIMEZONE: {self.timezone!r} is not a known time zone; "
                "give an IANA name such as Europe/Zurich or UTC"
            ) from None

    def require_safe_secret(self) -> None:
        """Refuse the shipped default secret outside demo mode and any other key under 32 bytes."""
        make_one = (
            'make one with `python3 -c "import secrets; print(secrets.token_urlsafe(48))"` and keep it secret'
        )
        if self.secret_key == DEFAULT_SECRET:
            if self.demo:
                return
            raise ConfigurationError(
                "PAINGUIDE_SECRET_KEY: the default secret is only allowed in demo mode; "
                f"set PAINGUIDE_SECRET_KEY to a random value of at least {MIN_SECRET_BYTES} bytes "
                f"({make_one}), or PAINGUIDE_DEMO=1 for a demo."
            )
        if len(self.secret_key.encode()) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"PAINGUIDE_SECRET_KEY: {len(self.secret_key.encode())} bytes is too short; "
                f"use a random value of at least {MIN_SECRET_BYTES} bytes ({make_one})."
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once, on first use)."""
    return Settings()

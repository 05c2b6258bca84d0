"""Settings from the environment (prefix ``PAINGUIDE_``), read through a cached :func:`get_settings`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from painguide.errors import ConfigurationError

__all__ = ["DEFAULT_SECRET", "Settings", "get_settings"]

DEFAULT_SECRET = "painguide-demo-secret-change-me"


def _default_data_dir() -> Path:
    from platformdirs import user_data_dir

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

    def require_safe_secret(self) -> None:
        """Refuse the shipped default secret outside demo mode."""
        if not self.demo and self.secret_key == DEFAULT_SECRET:
            raise ConfigurationError(
                "PAINGUIDE_SECRET_KEY: the default secret is only allowed in demo mode; "
                "set PAINGUIDE_SECRET_KEY to a long random value (or PAINGUIDE_DEMO=1 for a demo)."
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once, on first use)."""
    return Settings()

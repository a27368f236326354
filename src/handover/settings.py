"""One settings object, read from HANDOVER_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE = Path("var") / "handover.sqlite3"
# Where `handover demo` writes the demo log's signing key; only the demo ever uses a key nobody configured.
DEMO_SIGNING_KEY = Path("var") / "demo-signing.key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HANDOVER_")

    database_url: str = f"sqlite:///{DEFAULT_DATABASE}"
    host: str = "127.0.0.1"
    port: int = 8000
    language: str = "en"
    # The log's Ed25519 signing key, a C2SP signed-note private key file (`handover log keygen` writes one).
    signing_key: Path | None = None
    # How often the server signs a new checkpoint when the log has grown, in seconds (0: never by itself).
    checkpoint_interval: float = 10.0
    # The public report: counts below the threshold are suppressed; figures may be rounded to a base (None: exact);
    # releases are made at a fixed cadence so no change between two releases is a small group.
    report_threshold: int = Field(default=10, ge=2)
    report_rounding: int | None = Field(default=None, ge=2)
    report_cadence_days: int = Field(default=7, ge=1)
    # Mandela rule 68: how many hours after admission a family notification becomes overdue.
    notification_hours: int = Field(default=24, ge=1, le=24 * 365)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

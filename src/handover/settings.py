"""One settings object, read from HANDOVER_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE = Path("var") / "handover.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HANDOVER_")

    database_url: str = f"sqlite:///{DEFAULT_DATABASE}"
    host: str = "127.0.0.1"
    port: int = 8000
    language: str = "en"
    # The bearer token that opens the write routes until accounts exist. No default: without it writes are
    # disabled. Kept out of repr so a logged settings object never shows it.
    operator_token: str | None = Field(default=None, repr=False)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

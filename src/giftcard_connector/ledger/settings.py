"""Ledger configuration, read once from LEDGER_* environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Seven days: long enough for a shop to capture after shipping, short enough that a forgotten hold
# does not freeze a card for ever.
DEFAULT_HOLD_TTL_SECONDS = 7 * 24 * 3600
MIN_SECRET_KEY_LENGTH = 16


class LedgerConfigError(Exception):
    """A setting is missing or unusable; the message names the variable."""


class LedgerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", case_sensitive=False, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=1, le=65535)
    database_url: str = "sqlite:///./ledger.sqlite3"
    # Optional PostgreSQL schema (search_path); lets several ledgers or test runs share one database.
    database_schema: str | None = None
    # Keys the HMACs of card codes and PINs. No default: a guessable key would make the stored hashes
    # reversible for short PINs, and changing it later makes every existing card unfindable.
    secret_key: SecretStr | None = None
    pin_max_attempts: int = Field(default=5, ge=1)
    pin_lock_seconds: int = Field(default=900, ge=1)
    hold_ttl_seconds: int = Field(default=DEFAULT_HOLD_TTL_SECONDS, ge=1)
    migrate_on_start: bool = True
    log_level: str = "INFO"

    def require_secret(self) -> bytes:
        if self.secret_key is None:
            raise LedgerConfigError("LEDGER_SECRET_KEY is not set (use at least 16 random characters)")
        value = self.secret_key.get_secret_value()
        if len(value) < MIN_SECRET_KEY_LENGTH:
            raise LedgerConfigError(f"LEDGER_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters")
        return value.encode()

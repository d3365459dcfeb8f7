"""Ledger configuration, read once from LEDGER_* environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from giftcard_connector.settings import describe_validation_errors, variables_help

# Seven days: long enough for a shop to capture after shipping, short enough that a forgotten hold
# does not freeze a card for ever.
DEFAULT_HOLD_TTL_SECONDS = 7 * 24 * 3600
MIN_SECRET_KEY_LENGTH = 16
ENV_PREFIX = "LEDGER_"


class LedgerConfigError(Exception):
    """Settings are missing or unusable; the message has one line per variable."""


class LedgerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, case_sensitive=False, extra="ignore")

    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=8090, ge=1, le=65535, description="port to listen on")
    database_url: str = Field(
        default="sqlite:///./ledger.sqlite3", description="postgresql://user:pass@host/db or sqlite:///path"
    )
    # Optional PostgreSQL schema (search_path); lets several ledgers or test runs share one database.
    database_schema: str | None = Field(default=None, description="PostgreSQL schema (search_path) to use")
    # Keys the HMACs of card codes and PINs. No default: a guessable key would make the stored hashes
    # reversible for short PINs, and changing it later makes every existing card unfindable.
    secret_key: SecretStr | None = Field(
        default=None, description=f"required: at least {MIN_SECRET_KEY_LENGTH} random characters; never change it"
    )
    pin_max_attempts: int = Field(default=5, ge=1, description="wrong PINs before a card is locked")
    pin_lock_seconds: int = Field(default=900, ge=1, description="the first PIN lock; each further lock doubles")
    pin_max_lock_seconds: int = Field(default=30 * 24 * 3600, ge=1, description="the longest PIN lock")
    hold_ttl_seconds: int = Field(default=DEFAULT_HOLD_TTL_SECONDS, ge=1, description="lifetime of an authorization")
    migrate_on_start: bool = Field(default=True, description="bring the database schema up to date at start")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    # Worker processes of `ledger serve` (uvicorn workers on one port). Row locks in PostgreSQL keep
    # every guarantee across processes; SQLite serializes writers anyway, so use 1 there.
    workers: int = Field(default=1, ge=1, le=64, description="worker processes for `ledger serve`")
    tracing_enabled: bool = Field(
        default=False, description="OpenTelemetry traces over OTLP/HTTP (needs the [otel] extra; OTEL_* configure it)"
    )

    def require_secret(self) -> bytes:
        problem = self.secret_problem()
        if problem:
            raise LedgerConfigError(problem)
        assert self.secret_key is not None
        return self.secret_key.get_secret_value().encode()

    def secret_problem(self) -> str | None:
        if self.secret_key is None:
            return "LEDGER_SECRET_KEY is required but not set (use at least 16 random characters)"
        if len(self.secret_key.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
            return f"LEDGER_SECRET_KEY is invalid: must be at least {MIN_SECRET_KEY_LENGTH} characters"
        return None


def load_ledger_settings(*, need_secret: bool = True) -> LedgerSettings:
    """The settings, or one LedgerConfigError listing every missing or malformed variable at once."""
    try:
        settings = LedgerSettings()
    except ValidationError as error:
        lines = describe_validation_errors(error, prefix=ENV_PREFIX)
        if need_secret:
            # The secret is checked after validation; report it in the same pass.
            secret = LedgerSettings.model_construct(secret_key=_raw_secret())
            problem = secret.secret_problem()
            if problem and not any("LEDGER_SECRET_KEY" in line for line in lines):
                lines.append(f"configuration error: {problem}")
        raise LedgerConfigError("\n".join(lines)) from None
    problem = settings.secret_problem() if need_secret else None
    if problem:
        raise LedgerConfigError(f"configuration error: {problem}")
    return settings


def _raw_secret() -> SecretStr | None:
    import os

    value = next((v for k, v in os.environ.items() if k.upper() == "LEDGER_SECRET_KEY"), None)
    return None if value is None else SecretStr(value)


def ledger_variables_help() -> str:
    return variables_help(LedgerSettings, prefix=ENV_PREFIX)

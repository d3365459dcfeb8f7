"""All Processor configuration, read once from the environment (names as in the official template)."""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from giftcard_connector.money import is_currency_code


class ProviderName(StrEnum):
    MOCK = "mock"
    LEDGER = "ledger"


class CaptureMode(StrEnum):
    DIRECT = "direct"
    AUTHORIZE = "authorize"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    CTP_PROJECT_KEY: str = Field(min_length=1)
    CTP_CLIENT_ID: str = Field(min_length=1)
    CTP_CLIENT_SECRET: str = Field(min_length=1)
    CTP_AUTH_URL: AnyHttpUrl
    CTP_API_URL: AnyHttpUrl
    CTP_SESSION_URL: AnyHttpUrl
    CTP_JWKS_URL: AnyHttpUrl
    CTP_JWT_ISSUER: str = Field(min_length=1)

    HOST: str = "127.0.0.1"
    PORT: int = Field(default=8080, ge=1, le=65535)
    LOG_LEVEL: str = "INFO"
    HEALTH_CHECK_TIMEOUT: int = Field(default=5000, ge=1, description="milliseconds")

    GIFTCARD_PROVIDER: ProviderName = ProviderName.MOCK
    GIFTCARD_CAPTURE_MODE: CaptureMode = CaptureMode.DIRECT
    MOCK_CONNECTOR_CURRENCY: str | None = None
    LEDGER_URL: AnyHttpUrl | None = None
    LEDGER_API_KEY: str | None = None
    # Seconds for one provider call and one commercetools call.
    PROVIDER_TIMEOUT: float = Field(default=10.0, gt=0)
    CTP_TIMEOUT: float = Field(default=10.0, gt=0)
    CORS_ALLOWED_ORIGINS: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])
    # Worker processes for `serve` (1 = a single event loop; scale out with more copies).
    WORKERS: int = Field(default=1, ge=1, le=64)
    # OpenTelemetry traces over OTLP/HTTP (needs the [otel] extra; OTEL_EXPORTER_OTLP_* say where to).
    TRACING_ENABLED: bool = False
    # How long GET /ready reuses its last answer (token obtainable, provider reachable).
    READINESS_CACHE_SECONDS: float = Field(default=5.0, ge=0)
    # Background reconciler in `serve` (contract section 9): seconds between passes, 0 = off. Safe with
    # several copies running it. RECONCILE_GRACE: only transactions older than this are settled, and an
    # unknown key this old is recorded Failure (keep it far above two PROVIDER_TIMEOUTs).
    RECONCILE_INTERVAL: float = Field(default=0.0, ge=0)
    RECONCILE_GRACE: float = Field(default=300.0, ge=0)

    # Guessing protection (contract section 10). Limits in the `limits` notation: "10/minute", "5/hour".
    RATE_LIMIT_ENABLED: bool = True
    RATE_LIMIT_BALANCE_PER_SESSION: str = "10/minute"
    RATE_LIMIT_BALANCE_PER_ADDRESS: str = "30/minute"
    RATE_LIMIT_REDEEM_PER_SESSION: str = "10/minute"
    RATE_LIMIT_REDEEM_PER_ADDRESS: str = "30/minute"
    RATE_LIMIT_WRONG_TRIES_PER_CARD: str = "5/hour"
    # Redis unreachable: true lets requests through (warning log, counter); false answers 503.
    RATE_LIMIT_FAIL_OPEN: bool = True
    RATE_LIMIT_KEY_PREFIX: str = Field(default="giftcard-rl", min_length=1, max_length=64)
    RATE_LIMIT_REDIS_TIMEOUT: float = Field(default=0.25, gt=0, description="seconds per Redis call")
    # Shares the rate limits between copies; unset: in memory, for one process only.
    REDIS_URL: str | None = None
    # Proxies (CIDRs) whose X-Forwarded-For names the client; from anyone else the socket peer counts.
    TRUSTED_PROXIES: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator(
        "RATE_LIMIT_BALANCE_PER_SESSION",
        "RATE_LIMIT_BALANCE_PER_ADDRESS",
        "RATE_LIMIT_REDEEM_PER_SESSION",
        "RATE_LIMIT_REDEEM_PER_ADDRESS",
        "RATE_LIMIT_WRONG_TRIES_PER_CARD",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError('must be a rate such as "10/minute" or "5/hour"') from None
        return value

    @field_validator("REDIS_URL")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://")):
            raise ValueError("must be a redis:// or rediss:// URL")
        return value or None

    @field_validator("TRUSTED_PROXIES", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        from giftcard_connector.ratelimit.addresses import parse_networks

        entries = [item.strip() for item in value.split(",") if item.strip()] if isinstance(value, str) else value
        if isinstance(entries, list):
            parse_networks(entries)  # ValueError names the bad entry
        return entries

    @field_validator("CORS_ALLOWED_ORIGINS", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("CORS_ALLOWED_ORIGINS")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        # A typo (a path, a missing scheme) would otherwise silently match no browser's Origin header.
        bad = next((origin for origin in value if not is_origin(origin)), None)
        if bad is not None:
            raise ValueError(f"{bad!r} is not an origin (scheme://host[:port], or *)")
        return value

    @field_validator("MOCK_CONNECTOR_CURRENCY")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is not None and not is_currency_code(value):
            raise ValueError("must be a 3-letter ISO 4217 code such as EUR")
        return value

    @field_validator("LOG_LEVEL")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    def url(self, name: str) -> str:
        """A configured URL without a trailing slash, so joining never produces `//`."""
        return str(getattr(self, name)).rstrip("/")


def is_origin(value: str) -> bool:
    """`*`, or what a browser sends as Origin: http(s)://host[:port], nothing else."""
    if value == "*":
        return True
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError when not a number in 0..65535
    except ValueError:
        return False
    plain = not (parts.path or parts.query or parts.fragment or parts.username or parts.password)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and plain and port != 0 and " " not in value


class ConfigurationError(Exception):
    """Settings are missing or malformed; the message has one line per variable."""


def describe_validation_errors(error: ValidationError, *, prefix: str = "") -> list[str]:
    """One line per variable, for every problem pydantic found (not only the first): an operator
    fixes them all before the next start."""
    lines: list[str] = []
    seen: set[str] = set()
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "settings"
        name = (prefix + field).upper() if prefix else field
        if name in seen:
            continue
        seen.add(name)
        if problem["type"] == "missing":
            lines.append(f"configuration error: {name} is required but not set")
        else:
            lines.append(f"configuration error: {name} is invalid: {problem['msg']}")
    return lines


def variables_help(model: type[BaseSettings], *, prefix: str = "") -> str:
    """The environment variables a settings class reads, for `--help`: name, required or default, why."""
    rows = []
    for field_name, field in model.model_fields.items():
        name = (prefix + field_name).upper() if prefix else field_name
        if field.is_required():
            default = "required"
        else:
            value = field.get_default(call_default_factory=True)
            if isinstance(value, list):
                value = ",".join(str(item) for item in value)
            default = "unset" if value is None else f"default {value}"
        rows.append((name, default, field.description or ""))
    width = max(len(row[0]) for row in rows)
    return "\n".join(f"  {name:<{width}}  {default}{'; ' + why if why else ''}" for name, default, why in rows)


def load_settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as error:
        lines = describe_validation_errors(error)
        if os.environ.get("GIFTCARD_PROVIDER") == ProviderName.LEDGER:
            lines += [
                f"configuration error: {name} is required when GIFTCARD_PROVIDER=ledger"
                for name in ("LEDGER_URL", "LEDGER_API_KEY")
                if not os.environ.get(name) and not any(name in line for line in lines)
            ]
        raise ConfigurationError("\n".join(lines)) from None
    if settings.GIFTCARD_PROVIDER is ProviderName.LEDGER:
        missing = [name for name in ("LEDGER_URL", "LEDGER_API_KEY") if not getattr(settings, name)]
        if missing:
            raise ConfigurationError(
                "\n".join(f"configuration error: {name} is required when GIFTCARD_PROVIDER=ledger" for name in missing)
            )
    return settings

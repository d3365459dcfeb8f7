"""Rate limits for /balance and /redeem, on the `limits` library's moving window.

Moving window, not fixed window: a fixed window lets a client spend its budget at the end of one window
and again at the start of the next (twice the limit within seconds), which matters for a guessing
budget; the moving window counts exactly the hits of the last N seconds. (`limits` has no GCRA; its
sliding-window counter is an approximation.) The price is one timestamp per hit in the store, which is
small at these limits (tens per key).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.exceptions import RedisError

from giftcard_connector.errors import GiftCardError
from giftcard_connector.providers.base import BalanceState
from giftcard_connector.ratelimit.addresses import Network, address_key, parse_networks
from giftcard_connector.ratelimit.memory import LocalMovingWindow
from giftcard_connector.ratelimit.redis_batch import Check, RedisBatch
from giftcard_connector.settings import Settings

log = structlog.get_logger(__name__)

Route = Literal["balance", "redeem"]

# Session ids that session auth would even look up; anything else is refused there without a call, so
# it needs no counter (and an attacker cannot fill the store with made-up keys).
_SESSION_ID = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
_CODE_NOISE = re.compile(r"[\s\-]")
# How often a failing store is reported in the log while it stays down (every failure is counted).
_WARN_EVERY_SECONDS = 30.0


class GuardError(GiftCardError):
    """A refusal by the rate limits: the gift card error body (GenericError), with headers."""

    def __init__(self, message: str, status_code: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(BalanceState.GENERIC_ERROR, message, status_code=status_code)
        self.headers = headers or {}


class RateLimited(GuardError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many attempts; please try again later", 429, {"Retry-After": str(retry_after)})


class RateLimitUnavailable(GuardError):
    """The shared store cannot be reached and the limits are configured to fail closed."""

    def __init__(self) -> None:
        super().__init__("Gift card checks are unavailable; please try again", 503)


@dataclass(frozen=True, slots=True)
class Limits:
    balance_per_session: RateLimitItem
    balance_per_address: RateLimitItem
    redeem_per_session: RateLimitItem
    redeem_per_address: RateLimitItem
    wrong_tries_per_card: RateLimitItem

    @classmethod
    def parse(
        cls,
        *,
        balance_per_session: str,
        balance_per_address: str,
        redeem_per_session: str,
        redeem_per_address: str,
        wrong_tries_per_card: str,
    ) -> Limits:
        return cls(
            parse(balance_per_session),
            parse(balance_per_address),
            parse(redeem_per_session),
            parse(redeem_per_address),
            parse(wrong_tries_per_card),
        )


@dataclass
class RateLimitCounters:
    """Plain counters a metrics endpoint can expose (this module keeps no metrics library)."""

    rejected: Counter[str] = field(default_factory=Counter)  # by limit: "balance.session", "card", ...
    storage_errors: int = 0
    passed_unchecked: int = 0  # requests let through because the store failed (fail open)


def normalize_code(code: str) -> str:
    """Uppercase, spaces and dashes removed: `abcd-efgh` and `ABCD EFGH` are one card."""
    return _CODE_NOISE.sub("", code).upper()


def card_key(secret: bytes, code: str) -> str:
    """The per-card key: an HMAC of the normalised code, so the store never holds a code (nor a plain hash
    of one, which could be brute-forced offline from a short code space)."""
    return hmac.new(secret, normalize_code(code).encode(), hashlib.sha256).hexdigest()[:32]


def storage_uri(redis_url: str | None) -> str:
    if not redis_url:
        return "async+memory://"
    return redis_url if redis_url.startswith("async+") else f"async+{redis_url}"


def describe_store(redis_url: str | None) -> str:
    """For the start-up log line: where the counters live, without credentials."""
    if not redis_url:
        return "memory"
    parts = urlsplit(redis_url)
    return f"redis://{parts.hostname}:{parts.port or 6379}{parts.path}"


def build_storage(redis_url: str | None, key_prefix: str, timeout: float) -> Storage:
    if not redis_url:
        return LocalMovingWindow()
    # Imported here: only a Redis deployment needs the client.
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    # No retries: a request must not wait seconds for a store that is down (fail open/closed decides).
    options: dict[str, Any] = {"retry": Retry(NoBackoff(), 0)}
    return RedisStorage(
        storage_uri(redis_url),
        implementation="redispy",  # measured ~40 % less client CPU per hit than coredis here
        key_prefix=key_prefix,
        wrap_exceptions=True,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        **options,
    )


class RateLimiter:
    def __init__(
        self,
        storage: Storage,
        limits: Limits,
        card_secret: bytes,
        *,
        trusted_proxies: Sequence[Network] = (),
        fail_open: bool = True,
        counters: RateLimitCounters | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.limits = limits
        self.card_secret = card_secret
        self.trusted_proxies = tuple(trusted_proxies)
        self.fail_open = fail_open
        self.counters = counters or RateLimitCounters()
        self.clock = clock
        self._strategy = MovingWindowRateLimiter(storage)
        # With Redis, all of a request's checks go in one pipelined round trip.
        self._batch = RedisBatch(storage) if isinstance(storage, RedisStorage) else None
        self._last_warning = -math.inf

    def card(self, code: str) -> str:
        return card_key(self.card_secret, code)

    async def check(self, route: Route, address: str, session_id: str | None, card: str | None) -> None:
        """Count this request against its address and session, and refuse a card with too many wrong
        tries. Raises RateLimited (429) or, failing closed, RateLimitUnavailable (503)."""
        per_address, per_session = (
            (self.limits.balance_per_address, self.limits.balance_per_session)
            if route == "balance"
            else (self.limits.redeem_per_address, self.limits.redeem_per_session)
        )
        checks = [Check(per_address, (route, "address", address_key(address)), counts=True)]
        names = [f"{route}.address"]
        if session_id and _SESSION_ID.match(session_id):
            checks.append(Check(per_session, (route, "session", session_id), counts=True))
            names.append(f"{route}.session")
        if card is not None:
            checks.append(Check(self.limits.wrong_tries_per_card, ("card", card), counts=False))
            names.append("card")
        try:
            passed = await self._batch.run(checks) if self._batch is not None else None
            if passed is None:
                passed = await self._one_by_one(checks)
            for check, name, ok in zip(checks, names, passed, strict=False):
                if not ok:
                    await self._refuse(check.item, name, *check.identifiers)
        except (StorageError, RedisError, OSError, TimeoutError) as error:
            self._store_failed(error)

    async def _one_by_one(self, checks: list[Check]) -> list[bool]:
        """In order, stopping at the first refusal (a refused request does not count further)."""
        passed: list[bool] = []
        for check in checks:
            strategy = self._strategy.hit if check.counts else self._strategy.test
            passed.append(await strategy(check.item, *check.identifiers))
            if not passed[-1]:
                break
        return passed

    async def record_wrong_try(self, card: str) -> None:
        """A NotFound answer for this card: one of its wrong tries."""
        try:
            await self._strategy.hit(self.limits.wrong_tries_per_card, "card", card)
        except (StorageError, RedisError, OSError, TimeoutError) as error:
            self._store_failed(error, checking=False)

    async def _refuse(self, item: RateLimitItem, name: str, *identifiers: str) -> None:
        self.counters.rejected[name] += 1
        stats = await self._strategy.get_window_stats(item, *identifiers)
        retry_after = max(1, math.ceil(stats.reset_time - self.clock()))
        raise RateLimited(retry_after)

    def _store_failed(self, error: BaseException, *, checking: bool = True) -> None:
        self.counters.storage_errors += 1
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY_SECONDS:
            self._last_warning = now
            log.warning(
                "rate_limit_store_failed",
                error=type(error).__name__,
                fail_open=self.fail_open,
                storage_errors=self.counters.storage_errors,
            )
        if not checking:
            return
        if not self.fail_open:
            raise RateLimitUnavailable() from None
        self.counters.passed_unchecked += 1


def build_rate_limiter(settings: Settings) -> RateLimiter | None:
    """The limiter a Processor runs with (None when RATE_LIMIT_ENABLED is off); logs where it counts."""
    if not settings.RATE_LIMIT_ENABLED:
        log.warning("rate_limits_disabled", detail="RATE_LIMIT_ENABLED=false: /balance and /redeem are not limited")
        return None
    limits = Limits.parse(
        balance_per_session=settings.RATE_LIMIT_BALANCE_PER_SESSION,
        balance_per_address=settings.RATE_LIMIT_BALANCE_PER_ADDRESS,
        redeem_per_session=settings.RATE_LIMIT_REDEEM_PER_SESSION,
        redeem_per_address=settings.RATE_LIMIT_REDEEM_PER_ADDRESS,
        wrong_tries_per_card=settings.RATE_LIMIT_WRONG_TRIES_PER_CARD,
    )
    storage = build_storage(settings.REDIS_URL, settings.RATE_LIMIT_KEY_PREFIX, settings.RATE_LIMIT_REDIS_TIMEOUT)
    if settings.REDIS_URL:
        log.info(
            "rate_limits_shared", store=describe_store(settings.REDIS_URL), fail_open=settings.RATE_LIMIT_FAIL_OPEN
        )
    else:
        log.warning(
            "rate_limits_in_memory",
            detail="REDIS_URL is not set: rate limits are kept in this process only, not shared between copies",
        )
    return RateLimiter(
        storage,
        limits,
        _card_secret(settings.CTP_CLIENT_SECRET),
        trusted_proxies=parse_networks(settings.TRUSTED_PROXIES),
        fail_open=settings.RATE_LIMIT_FAIL_OPEN,
    )


def _card_secret(client_secret: str) -> bytes:
    # Every copy of one deployment has the same commercetools client secret, so they derive the same
    # card keys (and share counters) without one more secret to configure.
    return hmac.new(b"giftcard-connector rate limit card key", client_secret.encode(), hashlib.sha256).digest()

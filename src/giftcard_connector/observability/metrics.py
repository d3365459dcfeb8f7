"""Prometheus metrics of the Processor and the ledger (prometheus-client, its default registry).

Every function here is cheap (a dict lookup and an add under a lock, about a microsecond), so the hot
paths call them directly. Label values are bounded sets (route templates, targets, outcomes,
currencies): never an id, a code or anything a caller chooses freely.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from giftcard_connector.money import Money

if TYPE_CHECKING:
    from giftcard_connector.ratelimit.limiter import RateLimitCounters

# Seconds; the Processor's routes answer in 1-50 ms on loopback, upstream calls in 1-500 ms.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "giftcard_http_requests",
    "HTTP requests answered, by service, method, route template and status",
    ["service", "method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "giftcard_http_request_duration_seconds",
    "Time from the request's arrival to the end of the answer",
    ["service", "method", "route"],
    buckets=_LATENCY_BUCKETS,
)
UPSTREAM_CALLS = Counter(
    "giftcard_upstream_calls",
    "HTTP calls to commercetools and to the gift card provider, by target and outcome "
    "(2xx, 3xx, 4xx, 5xx, timeout, error)",
    ["target", "outcome"],
)
UPSTREAM_SECONDS = Histogram(
    "giftcard_upstream_call_duration_seconds",
    "Duration of one upstream HTTP call (connect + answer), by target",
    ["target"],
    buckets=_LATENCY_BUCKETS,
)
PROVIDER_OUTCOMES = Counter(
    "giftcard_provider_outcomes",
    "Provider outcomes recorded on commercetools transactions, by transaction type (Charge, Authorization, "
    "Refund, CancelAuthorization) and outcome (Success, Failure, Pending)",
    ["operation", "outcome"],
)
MONEY_MOVED = Counter(
    "giftcard_money_moved_minor_units",
    "Money the provider confirmed as moved (a transaction newly recorded Success), in the currency's minor "
    "units, by transaction type and currency",
    ["operation", "currency"],
)
RECONCILER_SETTLED = Counter(
    "giftcard_reconciler_transactions",
    "Transactions the reconciler looked at, by what became of them",
    ["outcome"],
)


def observe_request(service: str, method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(service, method, route, str(status)).inc()
    HTTP_REQUEST_SECONDS.labels(service, method, route).observe(seconds)


def observe_upstream(target: str, outcome: str, seconds: float) -> None:
    UPSTREAM_CALLS.labels(target, outcome).inc()
    UPSTREAM_SECONDS.labels(target).observe(seconds)


def provider_outcome(operation: str, outcome: str) -> None:
    """`operation`: the commercetools transaction type; `outcome`: an OperationStatus value."""
    PROVIDER_OUTCOMES.labels(operation, outcome).inc()


def money_moved(operation: str, amount: Money) -> None:
    """Call once per movement the provider confirmed (status Success), never for Pending or Failure."""
    MONEY_MOVED.labels(operation, amount.currency_code).inc(amount.cent_amount)


def reconciled(outcome: str) -> None:
    RECONCILER_SETTLED.labels(outcome).inc()


class _RateLimitCollector(Collector):
    """The rate limiter's own counters (ratelimit/limiter.py), read at scrape time: nothing per request."""

    def __init__(self) -> None:
        # Weak references: a limiter (one per app) is not kept alive by /metrics.
        self.sources: list[weakref.ref[RateLimitCounters]] = []

    def collect(self) -> Iterator[Metric]:
        rejected = CounterMetricFamily(
            "giftcard_rate_limited_requests",
            "Requests refused with 429 by the guessing protection, by the limit that tripped",
            labels=["limit"],
        )
        by_limit: dict[str, int] = {}
        errors = unchecked = 0
        self.sources = [source for source in self.sources if source() is not None]
        for source in self.sources:
            counters = source()
            if counters is None:
                continue
            for name, value in counters.rejected.items():
                by_limit[name] = by_limit.get(name, 0) + value
            errors += counters.storage_errors
            unchecked += counters.passed_unchecked
        for name, value in sorted(by_limit.items()):
            rejected.add_metric([name], value)
        yield rejected
        yield CounterMetricFamily(
            "giftcard_rate_limit_store_errors", "Rate-limit store (Redis) calls that failed", value=errors
        )
        yield CounterMetricFamily(
            "giftcard_rate_limit_unchecked_requests",
            "Requests let through unchecked because the rate-limit store failed (RATE_LIMIT_FAIL_OPEN)",
            value=unchecked,
        )


_RATE_LIMITS = _RateLimitCollector()
REGISTRY.register(_RATE_LIMITS)


def watch_rate_limits(counters: RateLimitCounters) -> None:
    """Expose a rate limiter's counters on /metrics (for as long as the limiter lives)."""
    _RATE_LIMITS.sources.append(weakref.ref(counters))


def exposition() -> tuple[bytes, str]:
    """The text exposition of every metric in this process, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

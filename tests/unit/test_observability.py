"""The request log line, /metrics, upstream call accounting and the readiness cache."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx
import orjson
import pytest
import structlog
from fastapi import FastAPI
from prometheus_client import REGISTRY

from giftcard_connector.log import configure_logging
from giftcard_connector.money import Money
from giftcard_connector.observability import middleware as observer_module
from giftcard_connector.observability.metrics import money_moved
from giftcard_connector.observability.middleware import install_observability
from giftcard_connector.observability.readiness import Check, ReadinessCache, readiness_body
from giftcard_connector.observability.upstream import upstream_call

CODE = "6006491234567890"
PIN = "4321"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """JSON logging for one test; configured inside the test body, where capsys owns sys.stderr."""
    # Loggers are cached on first use (as in production, configured once); an app run earlier in the
    # session at another level would otherwise keep this module's request logger at that level.
    monkeypatch.setattr(observer_module, "log", structlog.get_logger("giftcard_connector.request"))
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def lines(text: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]


def small_app(service: str) -> FastAPI:
    app = FastAPI()

    @app.post("/cards/{card_id}/check")
    async def check(card_id: str, body: dict[str, str]) -> dict[str, str]:
        return {"card": card_id[-2:]}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"failed for {CODE}")

    install_observability(app, service=service, read_correlation_id=True)
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t")


async def test_one_json_line_per_request_with_route_template_and_never_the_code(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO")
    async with client(small_app("log-test")) as http:
        answer = await http.post(
            "/cards/card-7/check",
            json={"code": CODE, "pin": PIN},
            headers={"X-Correlation-ID": "corr-123"},
        )
        await http.get("/health")
    assert answer.status_code == 200
    logged = capsys.readouterr().err
    requests = [line for line in lines(logged) if line["event"] == "request"]
    assert len(requests) == 1, "one line for the request, none for the probe"
    line = requests[0]
    assert line["method"] == "POST"
    assert line["route"] == "/cards/{card_id}/check"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["correlation_id"] == "corr-123"
    assert line["level"] == "info"
    assert CODE not in logged
    assert PIN not in logged


async def test_request_metrics_count_by_route_template_and_status() -> None:
    labels = {"service": "metrics-test", "method": "POST", "route": "/cards/{card_id}/check"}
    before = sample("giftcard_http_requests_total", **labels, status="200")
    before_422 = sample("giftcard_http_requests_total", **labels, status="422")
    async with client(small_app("metrics-test")) as http:
        for index in range(3):
            await http.post(f"/cards/card-{index}/check", json={"code": "x"})
        await http.post("/cards/a/check", content=b"[1]", headers={"Content-Type": "application/json"})
        await http.get("/no/such/path")
        await http.get("/boom")
        exposition = await http.get("/metrics")
    assert sample("giftcard_http_requests_total", **labels, status="200") == before + 3
    assert sample("giftcard_http_requests_total", **labels, status="422") == before_422 + 1
    assert sample("giftcard_http_request_duration_seconds_count", **labels) >= 4
    assert (
        sample("giftcard_http_requests_total", service="metrics-test", method="GET", route="unmatched", status="404")
        == 1
    )
    assert (
        sample("giftcard_http_requests_total", service="metrics-test", method="GET", route="/boom", status="500") == 1
    )
    assert exposition.status_code == 200
    assert exposition.headers["content-type"].startswith("text/plain")
    text = exposition.text
    assert 'giftcard_http_requests_total{method="POST",route="/cards/{card_id}/check",service="metrics-test"' in text
    assert "card-0" not in text, "raw paths never become labels"


async def test_upstream_calls_are_counted_by_outcome() -> None:
    def count(outcome: str) -> float:
        return sample("giftcard_upstream_calls_total", target="unit-target", outcome=outcome)

    before = {outcome: count(outcome) for outcome in ("2xx", "5xx", "timeout", "error")}
    headers: dict[str, str] = {}
    with upstream_call("unit-target", headers) as call:
        call.status = 204
    with upstream_call("unit-target") as call:
        call.status = 503
    with pytest.raises(TimeoutError), upstream_call("unit-target"):
        raise TimeoutError
    with pytest.raises(ConnectionError), upstream_call("unit-target"):
        raise ConnectionError
    assert {outcome: count(outcome) - before[outcome] for outcome in before} == {
        "2xx": 1,
        "5xx": 1,
        "timeout": 1,
        "error": 1,
    }
    assert sample("giftcard_upstream_call_duration_seconds_count", target="unit-target") >= 4
    assert "traceparent" not in headers, "no trace header while tracing is off"


def test_money_moved_counts_minor_units_by_operation_and_currency() -> None:
    before = sample("giftcard_money_moved_minor_units_total", operation="unit-redeem", currency="JPY")
    money_moved("unit-redeem", Money(1500, "JPY"))
    money_moved("unit-redeem", Money(25, "JPY"))
    assert sample("giftcard_money_moved_minor_units_total", operation="unit-redeem", currency="JPY") == before + 1525


async def test_readiness_is_cached_and_shared_by_concurrent_probes() -> None:
    now = [100.0]
    cache = ReadinessCache(5.0, clock=lambda: now[0])
    calls = 0

    async def probe() -> list[Check]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return [Check("commercetools token", True), Check("provider mock", calls > 1, "down" if calls == 1 else None)]

    first = await asyncio.gather(*(cache.checks(probe) for _ in range(5)))
    assert calls == 1 and all(result == first[0] for result in first)
    status, body = readiness_body(first[0])
    assert status == 503
    assert body == {
        "status": "not ready",
        "checks": [
            {"name": "commercetools token", "status": "UP"},
            {"name": "provider mock", "status": "DOWN", "message": "down"},
        ],
    }
    now[0] += 4.9
    await cache.checks(probe)
    assert calls == 1, "still inside the cache time"
    now[0] += 0.2
    status, body = readiness_body(await cache.checks(probe))
    assert calls == 2 and status == 200 and body["status"] == "ready"


async def test_a_path_answered_before_routing_is_named_only_when_declared() -> None:
    """The ledger's debit fast lane answers before the router: its fixed path is the label, nothing else is."""

    class FastLane:
        def __init__(self, app: object) -> None:
            self.app = app

        async def __call__(self, scope: dict[str, object], receive: object, send: object) -> None:
            await send({"type": "http.response.start", "status": 201, "headers": []})  # type: ignore[operator]
            await send({"type": "http.response.body", "body": b"{}"})  # type: ignore[operator]

    app = FastAPI()
    app.add_middleware(FastLane)  # type: ignore[arg-type]
    install_observability(app, service="lane-test", fixed_paths=["/v1/redemptions"])
    async with client(app) as http:
        await http.post("/v1/redemptions", json={})
        await http.post("/v1/redemptions/abc", json={})
    labels = {"service": "lane-test", "method": "POST", "status": "201"}
    assert sample("giftcard_http_requests_total", **labels, route="/v1/redemptions") == 1
    assert sample("giftcard_http_requests_total", **labels, route="unmatched") == 1


def test_rate_limiter_counters_are_read_at_scrape_time() -> None:
    from giftcard_connector.observability.metrics import watch_rate_limits
    from giftcard_connector.ratelimit.limiter import RateLimitCounters

    before = sample("giftcard_rate_limited_requests_total", limit="balance.session")
    counters = RateLimitCounters()
    watch_rate_limits(counters)
    counters.rejected["balance.session"] += 3
    counters.storage_errors += 2
    assert sample("giftcard_rate_limited_requests_total", limit="balance.session") == before + 3
    assert sample("giftcard_rate_limit_store_errors_total") >= 2

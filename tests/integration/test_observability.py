"""What an operator sees from a real Processor (`giftcard-connector serve` against the emulator):
one JSON log stream, a request line per request, /metrics and /ready."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from giftcard_devkit.emulator import Emulator
from giftcard_devkit.processes import ServiceProcess, processor
from tests.support.flows import balance, new_session, redeem

CODE = "Valid-5000-EUR"


@pytest.fixture(scope="module")
def logged_processor(emulator: Emulator) -> Iterator[ServiceProcess]:
    env = {**emulator.processor_env(), "GIFTCARD_PROVIDER": "mock", "LOG_LEVEL": "INFO", "RATE_LIMIT_ENABLED": "false"}
    with processor(env) as server:
        yield server


def json_lines(output: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in output.splitlines() if line.strip()]


def test_one_json_stream_with_a_request_line_and_no_card_code(logged_processor: ServiceProcess, emulator: Emulator):
    session_id = new_session(emulator, 10000, "EUR")[1]
    with httpx.Client(base_url=logged_processor.base_url, timeout=15) as api:
        api.headers["X-Correlation-ID"] = "obs-test-1"
        assert balance(api, session_id, CODE, pin="9876").status_code == 200
        assert api.get("/health").status_code == 200

    output = logged_processor.output()
    lines = json_lines(output)  # every line of stdout+stderr is JSON: uvicorn's too
    events = [line["event"] for line in lines]
    assert any("Uvicorn running on" in str(event) for event in events), events
    requests = [line for line in lines if line["event"] == "request" and line.get("correlation_id") == "obs-test-1"]
    assert len(requests) == 1, "one line for /balance, none for the /health probe"
    assert {key: requests[0][key] for key in ("method", "route", "status", "logger")} == {
        "method": "POST",
        "route": "/balance",
        "status": 200,
        "logger": "giftcard_connector.request",
    }
    assert CODE not in output and "9876" not in output


def test_metrics_count_requests_and_upstream_calls(logged_processor: ServiceProcess, emulator: Emulator):
    session_id = new_session(emulator, 10000, "EUR")[1]
    with httpx.Client(base_url=logged_processor.base_url, timeout=15) as api:
        assert balance(api, session_id, CODE).status_code == 200
        assert balance(api, "no-such-session", CODE).status_code == 401
        metrics = api.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    for line in (
        'giftcard_http_requests_total{method="POST",route="/balance",service="processor",status="200"}',
        'giftcard_http_requests_total{method="POST",route="/balance",service="processor",status="401"}',
        'giftcard_http_request_duration_seconds_bucket{le="0.25",method="POST",route="/balance",service="processor"}',
        'giftcard_upstream_calls_total{outcome="2xx",target="commercetools_session"}',
        'giftcard_upstream_calls_total{outcome="4xx",target="commercetools_session"}',
        'giftcard_upstream_calls_total{outcome="2xx",target="commercetools_api"}',
        'giftcard_upstream_calls_total{outcome="2xx",target="commercetools_auth"}',
        'giftcard_upstream_call_duration_seconds_count{target="commercetools_api"}',
    ):
        assert line in text, line
    assert session_id not in text and CODE not in text


def test_ready_checks_token_and_provider(logged_processor: ServiceProcess):
    answer = httpx.get(logged_processor.base_url + "/ready", timeout=15)
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ready",
        "checks": [{"name": "commercetools token", "status": "UP"}, {"name": "provider", "status": "UP"}],
    }


def test_not_ready_while_no_token_is_obtainable_but_still_alive(emulator: Emulator):
    env = {**emulator.processor_env(), "CTP_AUTH_URL": "http://127.0.0.1:9", "GIFTCARD_PROVIDER": "mock"}
    with processor(env) as server:
        ready = httpx.get(server.base_url + "/ready", timeout=15)
        assert httpx.get(server.base_url + "/health", timeout=5).status_code == 200
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not ready"
    token, provider = body["checks"]
    assert token["name"] == "commercetools token" and token["status"] == "DOWN"
    assert "unreachable" in token["message"]
    assert provider == {"name": "provider", "status": "UP"}


def _value(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(key) == value for key, value in labels.items()):
                return float(sample.value)
    return 0.0


def test_money_moved_and_provider_outcomes_follow_recorded_transactions(
    logged_processor: ServiceProcess, emulator: Emulator
):
    with httpx.Client(base_url=logged_processor.base_url, timeout=15) as api:
        before = api.get("/metrics").text
        assert redeem(api, new_session(emulator, 10000, "EUR")[1], "Valid-5000-EUR", 1234).status_code == 200
        assert redeem(api, new_session(emulator, 10000, "EUR")[1], "Valid-005000-EUR", 1000).status_code == 400
        after = api.get("/metrics").text
    moved = "giftcard_money_moved_minor_units_total"
    outcomes = "giftcard_provider_outcomes_total"
    assert (
        _value(after, moved, operation="Charge", currency="EUR")
        - _value(before, moved, operation="Charge", currency="EUR")
        == 1234
    ), "only the successful charge moved money"
    assert (
        _value(after, outcomes, operation="Charge", outcome="Success")
        - _value(before, outcomes, operation="Charge", outcome="Success")
        == 1
    )
    assert (
        _value(after, outcomes, operation="Charge", outcome="Failure")
        - _value(before, outcomes, operation="Charge", outcome="Failure")
        == 1
    )

"""What an operator sees from `giftcard-connector ledger serve`: its log lines and uvicorn's in one JSON
stream (before, the ledger's own lines never printed), a request line per request, and /metrics."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from giftcard_devkit.processes import ServiceProcess, free_port
from tests.support.ledger_fixture import LedgerRun


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerRun]:
    database = Path(tmp_path_factory.mktemp("ledger-obs")) / "ledger.sqlite3"
    run = LedgerRun({"LEDGER_DATABASE_URL": f"sqlite:///{database}", "LEDGER_SECRET_KEY": secrets.token_hex(16)})
    run.cli("migrate")
    run.processor_key = run.cli("keys", "create", "--role", "processor")["key"]
    port = free_port()
    env = {**run.env, "LEDGER_PORT": str(port), "LEDGER_HOST": "127.0.0.1", "LEDGER_LOG_LEVEL": "info"}
    run.service = ServiceProcess(["ledger", "serve"], env, port, health_path="/v1/health", name="ledger")
    run.service.start()
    yield run
    run.service.stop()


def test_ledger_logs_one_json_stream_and_counts_requests(ledger: LedgerRun) -> None:
    code = ledger.issue(2500, pin="2468")
    headers = {"Authorization": f"Bearer {ledger.processor_key}", "X-Correlation-ID": "ledger-obs-1"}
    with httpx.Client(base_url=ledger.url, timeout=15) as api:
        answer = api.post("/v1/cards/balance", json={"code": code, "pin": "2468"}, headers=headers)
        assert answer.status_code == 200, answer.text
        metrics = api.get("/metrics")

    assert ledger.service is not None
    output = ledger.service.output()
    lines = [orjson.loads(line) for line in output.splitlines() if line.strip()]  # every line is JSON
    events = [str(line["event"]) for line in lines]
    assert any(event.startswith("ledger listening on") for event in events), events
    assert any("Uvicorn running on" in event for event in events), events
    request = [line for line in lines if line["event"] == "request" and line.get("correlation_id") == "ledger-obs-1"]
    assert len(request) == 1
    assert (request[0]["route"], request[0]["status"], request[0]["method"]) == ("/v1/cards/balance", 200, "POST")
    assert code not in output and "2468" not in output

    assert metrics.status_code == 200
    assert (
        'giftcard_http_requests_total{method="POST",route="/v1/cards/balance",service="ledger",status="200"}'
        in metrics.text
    )

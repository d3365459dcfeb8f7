"""OpenTelemetry tracing (the [otel] extra): spans per request and upstream call, codes and PINs never in them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from giftcard_connector.observability import tracing
from giftcard_connector.observability.middleware import install_observability
from giftcard_connector.observability.upstream import upstream_call

in_memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")

CODE = "6006491234567890"
PIN = "4321"
PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def exporter() -> Iterator[object]:
    spans = in_memory.InMemorySpanExporter()
    tracing.configure_tracing("test-service", spans, batch=False)
    yield spans
    tracing.disable_tracing()


def traced_app() -> tuple[FastAPI, list[dict[str, str]]]:
    app = FastAPI()
    sent: list[dict[str, str]] = []

    @app.post("/balance")
    async def balance(body: dict[str, str]) -> dict[str, str]:
        headers = {"X-Correlation-ID": "c"}
        with upstream_call("provider_test", headers) as call:
            call.status = 200
        sent.append(headers)
        return {"state": "Valid"}

    @app.post("/fails")
    async def fails(body: dict[str, str]) -> None:
        raise RuntimeError(f"provider refused card {body['code']} with pin {body['pin']}")

    install_observability(app, service="trace-test")
    return app, sent


async def test_request_and_upstream_spans_continue_the_callers_trace_without_codes_or_pins(exporter: object) -> None:
    app, sent = traced_app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        ok = await http.post(
            "/balance",
            json={"code": CODE, "pin": PIN},
            headers={"traceparent": f"00-{PARENT_TRACE}-00f067aa0ba902b7-01"},
        )
        failed = await http.post("/fails", json={"code": CODE, "pin": PIN})
    assert ok.status_code == 200 and failed.status_code == 500

    spans = exporter.get_finished_spans()  # type: ignore[attr-defined]
    by_name = {span.name: span for span in spans}
    assert set(by_name) == {"upstream provider_test", "POST /balance", "POST /fails"}
    server, client = by_name["POST /balance"], by_name["upstream provider_test"]
    assert format(server.context.trace_id, "032x") == PARENT_TRACE, "continues the caller's trace"
    assert client.parent.span_id == server.context.span_id
    assert dict(server.attributes) == {
        "http.request.method": "POST",
        "http.route": "/balance",
        "http.response.status_code": 200,
    }
    assert dict(client.attributes) == {
        "upstream.target": "provider_test",
        "upstream.outcome": "2xx",
        "http.response.status_code": 200,
    }
    # The upstream call carried the client span's context to the next service.
    assert sent[0]["traceparent"].split("-")[1:3] == [PARENT_TRACE, format(client.context.span_id, "016x")]
    failed_span = by_name["POST /fails"]
    assert failed_span.status.description == "RuntimeError"
    everything = "".join(span.to_json() for span in spans)
    assert CODE not in everything and PIN not in everything


def test_tracing_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_sdk(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("opentelemetry.sdk"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_sdk)
    with pytest.raises(tracing.TracingUnavailable, match=r"\[otel\] extra"):
        tracing.configure_tracing("x")
    assert not tracing.enabled()

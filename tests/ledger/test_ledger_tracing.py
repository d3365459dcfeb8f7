"""The ledger's traces continue the Processor's (the [otel] extra, LEDGER_TRACING_ENABLED)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from giftcard_connector.ledger import server
from giftcard_connector.ledger.settings import LedgerSettings
from giftcard_connector.observability import tracing

in_memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
PARENT_TRACE = "0af7651916cd43dd8448eb211c80319c"


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    exporter = in_memory.InMemorySpanExporter()
    names: list[str] = []

    def configure(service_name: str) -> None:
        names.append(service_name)
        tracing.configure_tracing(service_name, exporter, batch=False)

    monkeypatch.setattr(server, "configure_tracing", configure)
    yield exporter
    assert names == [server.SERVICE_NAME]
    tracing.disable_tracing()


async def test_ledger_spans_continue_the_callers_trace(spans: object, tmp_path: object) -> None:
    settings = LedgerSettings(
        database_url=f"sqlite:///{tmp_path}/ledger.sqlite3",  # type: ignore[str-bytes-safe]
        secret_key="0123456789abcdef-tracing",  # type: ignore[arg-type]
        tracing_enabled=True,
        log_level="WARNING",
    )
    server.configure_process(settings)
    app = server.build_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ledger") as http:
        answer = await http.get("/metrics", headers={"traceparent": f"00-{PARENT_TRACE}-b7ad6b7169203331-01"})
    assert answer.status_code == 200
    (span,) = spans.get_finished_spans()  # type: ignore[attr-defined]
    assert span.name == "GET /metrics"
    assert format(span.context.trace_id, "032x") == PARENT_TRACE
    assert span.resource.attributes["service.name"] == server.SERVICE_NAME

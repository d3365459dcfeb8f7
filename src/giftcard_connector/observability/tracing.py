"""Optional OpenTelemetry tracing (the `[otel]` extra), switched on by TRACING_ENABLED=true.

Spans are made in two places only: one server span per request (observability.middleware) and one
client span per upstream HTTP call (observability.upstream). Their attributes are a fixed list (method,
route template, status, target, outcome): request bodies, headers, paths with ids, query strings and
exception messages are never recorded, so a card code or PIN cannot reach a span (redacted by
construction; tests/unit/test_tracing.py sends codes and PINs and searches every exported span).
The exporter is OTLP over HTTP, configured by the standard OTEL_EXPORTER_OTLP_* variables.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

EXTRA_HINT = "tracing needs the [otel] extra: pip install 'giftcard-connector[otel]'"


class TracingUnavailable(Exception):
    """TRACING_ENABLED is set but the [otel] extra is not installed."""


_tracer: Tracer | None = None


def enabled() -> bool:
    return _tracer is not None


def configure_tracing(service_name: str, exporter: SpanExporter | None = None, *, batch: bool = True) -> None:
    """Start exporting spans of this process (`exporter` defaults to OTLP over HTTP)."""
    global _tracer
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as error:
        raise TracingUnavailable(EXTRA_HINT) from error
    if exporter is None:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as error:
            raise TracingUnavailable(EXTRA_HINT) from error
        exporter = OTLPSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
    # A provider of our own rather than the global one: tests can switch tracing on and off, and a
    # library in the same process cannot add spans with attributes we did not choose.
    _tracer = provider.get_tracer("giftcard_connector")


def disable_tracing() -> None:
    global _tracer
    _tracer = None


def start_server_span(method: str, headers: Iterable[tuple[bytes, bytes]]) -> tuple[Span, object, str] | None:
    """A server span continuing the caller's `traceparent`, made current; None when tracing is off."""
    tracer = _tracer
    if tracer is None:
        return None
    from opentelemetry import context, propagate, trace

    carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in headers if name == b"traceparent"}
    parent = propagate.extract(carrier) if carrier else None
    span = tracer.start_span(method, context=parent, kind=trace.SpanKind.SERVER, attributes=_method(method))
    token = context.attach(trace.set_span_in_context(span))
    return span, token, method


def end_server_span(started: tuple[Span, object, str], route: str, status: int, error: BaseException | None) -> None:
    from opentelemetry import context, trace

    span, token, method = started
    span.update_name(f"{method} {route}")
    span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500 or error is not None:
        # The exception's type only: its message may quote a request body.
        description = type(error).__name__ if error is not None else f"HTTP {status}"
        span.set_status(trace.Status(trace.StatusCode.ERROR, description))
    span.end()
    context.detach(token)  # type: ignore[arg-type]


def start_client_span(target: str, headers: MutableMapping[str, str] | None) -> Span | None:
    """A client span for one upstream call; its `traceparent` goes into `headers` (never a body)."""
    tracer = _tracer
    if tracer is None:
        return None
    from opentelemetry import propagate, trace

    span = tracer.start_span(f"upstream {target}", kind=trace.SpanKind.CLIENT, attributes={"upstream.target": target})
    if headers is not None:
        propagate.inject(headers, context=trace.set_span_in_context(span))
    return span


def end_client_span(span: Span, outcome: str, status: int | None) -> None:
    from opentelemetry import trace

    span.set_attribute("upstream.outcome", outcome)
    if status is not None:
        span.set_attribute("http.response.status_code", status)
    if outcome in ("timeout", "error", "5xx"):
        span.set_status(trace.Status(trace.StatusCode.ERROR, outcome))
    span.end()


def _method(method: str) -> dict[str, Any]:
    return {"http.request.method": method}

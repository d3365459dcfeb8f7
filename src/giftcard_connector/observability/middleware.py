"""One request log line, the request metrics and (when tracing is on) a server span per HTTP request.

Pure ASGI rather than Starlette's BaseHTTPMiddleware: no extra task or body streaming per request, a
few microseconds in all. The route label is the matched route's template (`/operations/payment-intents/
{payment_id}`), never the raw path, so ids stay out of labels and a scan of random paths cannot grow the
metrics. Nothing from the body or the query string is read: a card code or PIN cannot reach the line.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import structlog
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from giftcard_connector.context import correlation_id
from giftcard_connector.observability import tracing
from giftcard_connector.observability.metrics import exposition, observe_request

log = structlog.get_logger("giftcard_connector.request")

# Probes and scrapes are counted but not logged: a load balancer asking every second would drown the log.
QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics", "/v1/health"})
UNMATCHED = "unmatched"


def route_template(scope: Scope, fixed_paths: frozenset[str] = frozenset()) -> str:
    route = scope.get("route")
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    # Answered by a middleware before routing (the ledger's debit fast lane): a route without
    # parameters is still named by its path.
    return scope["path"] if scope["path"] in fixed_paths else UNMATCHED


class RequestObserver:
    def __init__(
        self,
        app: ASGIApp,
        service: str,
        *,
        read_correlation_id: bool = False,
        fixed_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.service = service
        self.fixed_paths = fixed_paths
        # For a service without CorrelationIdMiddleware (the ledger): the caller's id names the log line.
        self.read_correlation_id = read_correlation_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method: str = scope["method"]
        if self.read_correlation_id:
            for name, value in scope["headers"]:
                if name == b"x-correlation-id":
                    correlation_id.set(value.decode("latin-1")[:128])
                    break
        span = tracing.start_server_span(method, scope["headers"]) if tracing.enabled() else None
        status = 500  # what the server answers when the app raises before starting a response

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_observed)
        except BaseException as raised:
            error = raised
            raise
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope, self.fixed_paths)
            observe_request(self.service, method, route, status, seconds)
            if span is not None:
                tracing.end_server_span(span, route, status, error)
            if route not in QUIET_ROUTES:
                log.info(
                    "request",
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round(seconds * 1000, 2),
                )


async def metrics_endpoint(_: Request) -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)


def install_observability(
    app: FastAPI, service: str, *, read_correlation_id: bool = False, fixed_paths: Iterable[str] = ()
) -> None:
    """`GET /metrics` (not in the OpenAPI document) and the request observer.

    Call it after the app's other middlewares and before the correlation-id one, so the observer sees
    every answer (the edge's 413 and 500 too) and the correlation id is already set for its log line.
    """
    # An API route (not app.add_route), so the router names it in the scope like every other route.
    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False, response_class=Response)
    app.add_middleware(
        RequestObserver,
        service=service,
        read_correlation_id=read_correlation_id,
        fixed_paths=frozenset(fixed_paths),
    )

"""Builds the Processor's ASGI app: clients, provider, routes, error bodies."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiohttp
import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from giftcard_connector import __version__
from giftcard_connector.auth.jwt import JwksCache, JwtVerifier
from giftcard_connector.auth.oauth2 import Introspector
from giftcard_connector.commercetools.client import CommercetoolsClient, CommercetoolsConfig
from giftcard_connector.context import caller_sent_correlation_id, correlation_id
from giftcard_connector.dependencies import Commercetools, Provider
from giftcard_connector.edge import TOO_LARGE_MESSAGE, install_edge
from giftcard_connector.enabler_files import EnablerFiles
from giftcard_connector.errors import ApiError, GiftCardError
from giftcard_connector.giftcards.routes import router as giftcards_router
from giftcard_connector.giftcards.service import GiftCardService
from giftcard_connector.http import MAX_BODY_BYTES, FastJSONResponse
from giftcard_connector.observability import metrics
from giftcard_connector.observability.middleware import install_observability
from giftcard_connector.observability.readiness import ReadinessCache, processor_checks, readiness_body
from giftcard_connector.openapi import contract_openapi
from giftcard_connector.operations.payment_intents import PaymentIntentService
from giftcard_connector.operations.routes import router as operations_router
from giftcard_connector.operations.schemas import ACTION_NAMES
from giftcard_connector.operations.status import StatusService
from giftcard_connector.providers.base import GiftCardProvider
from giftcard_connector.providers.factory import build_provider
from giftcard_connector.ratelimit.limiter import GuardError, RateLimiter, build_rate_limiter
from giftcard_connector.reconcile import Reconciler
from giftcard_connector.responses import HealthResponse, ReadinessResponse
from giftcard_connector.settings import Settings
from giftcard_connector.validation import contract_error

log = structlog.get_logger(__name__)

CORS_HEADERS = [
    "Content-Type",
    "Authorization",
    "X-Correlation-ID",
    "X-Request-ID",
    "X-Session-Id",
    "Idempotency-Key",  # names a redemption (contract section 9)
]


@dataclass
class Services:
    settings: Settings
    http: aiohttp.ClientSession
    commercetools: CommercetoolsClient
    provider: GiftCardProvider
    jwt_verifier: JwtVerifier
    introspector: Introspector
    giftcards: GiftCardService
    payment_intents: PaymentIntentService
    status: StatusService
    rate_limiter: RateLimiter | None = None

    async def aclose(self) -> None:
        await self.provider.aclose()
        await self.http.close()


def build_services(settings: Settings, provider: GiftCardProvider | None = None) -> Services:
    # One pooled session for every commercetools call (aiohttp: measured 4-6x less CPU per call than
    # httpx here, see docs/benchmark.md). Created inside the running loop (lifespan).
    http = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=settings.CTP_TIMEOUT, connect=min(settings.CTP_TIMEOUT, 5.0)),
        connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=30, ttl_dns_cache=300),
        raise_for_status=False,
    )
    commercetools = CommercetoolsClient(
        CommercetoolsConfig(
            project_key=settings.CTP_PROJECT_KEY,
            client_id=settings.CTP_CLIENT_ID,
            client_secret=settings.CTP_CLIENT_SECRET,
            auth_url=settings.url("CTP_AUTH_URL"),
            api_url=settings.url("CTP_API_URL"),
            session_url=settings.url("CTP_SESSION_URL"),
        ),
        http,
    )
    provider = provider or build_provider(settings)
    return Services(
        settings=settings,
        http=http,
        commercetools=commercetools,
        provider=provider,
        jwt_verifier=JwtVerifier(
            JwksCache(settings.url("CTP_JWKS_URL"), http), settings.CTP_JWT_ISSUER, settings.CTP_PROJECT_KEY
        ),
        introspector=Introspector(
            http,
            settings.url("CTP_AUTH_URL"),
            settings.CTP_CLIENT_ID,
            settings.CTP_CLIENT_SECRET,
            settings.CTP_PROJECT_KEY,
        ),
        giftcards=GiftCardService(commercetools, provider, settings.GIFTCARD_CAPTURE_MODE, settings.RECONCILE_GRACE),
        payment_intents=PaymentIntentService(commercetools, provider, settings.RECONCILE_GRACE),
        status=StatusService(commercetools, provider, settings.HEALTH_CHECK_TIMEOUT),
        rate_limiter=build_rate_limiter(settings),
    )


_CORRELATION_ID = re.compile(rb"[\x21-\x7e]+")  # visible ASCII


class CorrelationIdMiddleware:
    """Takes the caller's X-Correlation-ID (or X-Request-ID), else makes one; echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        sent = headers.get(b"x-correlation-id") or headers.get(b"x-request-id")
        if sent is not None and not _CORRELATION_ID.fullmatch(sent[:128]):
            sent = None  # it travels on to commercetools and the provider: no control characters
        value = sent[:128].decode("ascii") if sent else str(uuid.uuid4())
        correlation_id.set(value)
        caller_sent_correlation_id.set(sent is not None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                current = correlation_id.get() or value
                message["headers"] = [*message.get("headers", []), (b"x-correlation-id", current.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


ERROR_CODES = {400: "InvalidInput", 404: "ResourceNotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge"}


def render_error(status: int, message: str) -> bytes:
    """The contract's general error body, for the answers EdgeGuard makes itself."""
    return orjson.dumps(ApiError(status, ERROR_CODES.get(status, "General"), message).body())


def log_unhandled(error: Exception) -> None:
    log.error("unhandled_error", error=type(error).__name__, exc_info=error)


def enabler_dir() -> Path:
    return Path(str(resources.files("giftcard_connector") / "static" / "enabler"))


def start_reconcile_sweep(services: Services) -> asyncio.Task[None] | None:
    """The optional background reconciler (RECONCILE_INTERVAL seconds apart; off by default)."""
    interval = services.settings.RECONCILE_INTERVAL
    if interval <= 0:
        return None
    reconciler = Reconciler(services.commercetools, services.provider)
    return asyncio.create_task(reconciler.watch(interval, services.settings.RECONCILE_GRACE), name="reconcile")


def create_app(settings: Settings, provider: GiftCardProvider | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings, provider)
        app.state.services = services
        if services.rate_limiter is not None:
            metrics.watch_rate_limits(services.rate_limiter.counters)
        sweep = start_reconcile_sweep(services)
        try:
            yield
        finally:
            if sweep is not None:
                sweep.cancel()
                await asyncio.gather(sweep, return_exceptions=True)
            await services.aclose()

    app = FastAPI(
        title="giftcard-connector Processor",
        version=__version__,
        lifespan=lifespan,
        default_response_class=FastJSONResponse,
        # A body without a Content-Type is read as JSON too (the template's clients send one; curl may not).
        strict_content_type=False,
    )
    app.openapi = lambda: contract_openapi(app)  # type: ignore[method-assign]  # no 422s it never sends

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> FastJSONResponse:
        return FastJSONResponse(error.body(), status_code=error.status_code)

    @app.exception_handler(GiftCardError)
    async def giftcard_error(_: Request, error: GiftCardError) -> FastJSONResponse:
        return FastJSONResponse(error.body(), status_code=error.status_code)

    @app.exception_handler(GuardError)
    async def guard_error(_: Request, error: GuardError) -> FastJSONResponse:
        return FastJSONResponse(error.body(), status_code=error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> FastJSONResponse:
        # Every typed parameter (bodies, paths, headers) answers the contract's 400 bodies from here.
        problem = contract_error(error.errors(), union_tags=ACTION_NAMES)
        return FastJSONResponse(problem.body(), status_code=problem.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> FastJSONResponse:
        # 413: EdgeGuard (edge.py) raises it from `receive` when a streamed body passes the cap.
        code = ERROR_CODES.get(error.status_code, "General")
        message = {404: "No such route", 405: "Method not allowed", 413: TOO_LARGE_MESSAGE}.get(
            error.status_code, str(error.detail)
        )
        body = ApiError(error.status_code, code, message).body()
        return FastJSONResponse(body, status_code=error.status_code, headers=error.headers)

    # No handler for Exception here: Starlette would run it outside every middleware. The catch-all
    # 500 is EdgeGuard's (edge.py), inside CORS and X-Correlation-ID.

    @app.get("/health", response_model=HealthResponse, tags=["Probes"], summary="Liveness: no upstream calls")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    readiness = ReadinessCache(settings.READINESS_CACHE_SECONDS)

    @app.get(
        "/ready",
        response_model=ReadinessResponse,
        responses={503: {"model": ReadinessResponse, "description": "Not ready: a check is DOWN"}},
        tags=["Probes"],
        summary="Readiness: a commercetools token is obtainable and the provider answers (cached a few seconds)",
    )
    async def ready(commercetools: Commercetools, provider: Provider) -> FastJSONResponse:
        timeout = settings.HEALTH_CHECK_TIMEOUT / 1000
        checks = await readiness.checks(lambda: processor_checks(commercetools, provider, timeout))
        status, body = readiness_body(checks)
        return FastJSONResponse(body, status_code=status)

    app.include_router(giftcards_router)
    app.include_router(operations_router)
    app.mount("/enabler", EnablerFiles(enabler_dir()), name="enabler")

    install_edge(app, max_body_bytes=MAX_BODY_BYTES, render=render_error, log_error=log_unhandled)
    origins = settings.CORS_ALLOWED_ORIGINS
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=CORS_HEADERS,
        expose_headers=["X-Correlation-ID"],
        max_age=600,
    )
    install_observability(app, service="processor")
    app.add_middleware(CorrelationIdMiddleware)
    return app

"""`giftcard-connector serve`: settings from the environment, then uvicorn (uvloop + httptools)."""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

from giftcard_connector.log import configure_logging
from giftcard_connector.observability.tracing import TracingUnavailable, configure_tracing
from giftcard_connector.settings import ConfigurationError, Settings, load_settings

SERVICE_NAME = "giftcard-connector-processor"


def configure_process(settings: Settings) -> None:
    """Logging, and tracing when enabled, for this process (each worker calls it for itself)."""
    configure_logging(settings.LOG_LEVEL)
    if settings.TRACING_ENABLED:
        configure_tracing(SERVICE_NAME)


def app_from_environment() -> FastAPI:
    """The app factory each worker process calls (settings were checked before forking)."""
    from giftcard_connector.app import create_app

    settings = load_settings()
    configure_process(settings)
    return create_app(settings)


def serve() -> int:
    try:
        settings = load_settings()
    except ConfigurationError as error:
        print(str(error), file=sys.stderr)
        return 2
    try:
        configure_process(settings)
    except TracingUnavailable as error:
        print(str(error), file=sys.stderr)
        return 2
    if settings.WORKERS > 1:
        # Several processes on one port: uvicorn needs an import string to start them.
        app: str | FastAPI = "giftcard_connector.server:app_from_environment"
    else:
        from giftcard_connector.app import create_app

        app = create_app(settings)
    uvicorn.run(
        app,
        factory=isinstance(app, str),
        workers=settings.WORKERS if isinstance(app, str) else None,
        host=settings.HOST,
        port=settings.PORT,
        loop="uvloop",
        http="httptools",
        log_level=settings.LOG_LEVEL.lower(),
        access_log=False,  # observability.middleware writes one JSON line per request instead
        log_config=None,  # uvicorn's records go to the root handler: the same JSON stream (log.py)
        server_header=False,
        # The app decides whose X-Forwarded-For to believe (TRUSTED_PROXIES); uvicorn's own default would
        # rewrite the client address from any request sent via 127.0.0.1.
        proxy_headers=False,
    )
    return 0

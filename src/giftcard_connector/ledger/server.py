"""The ledger's ASGI app and `ledger serve`."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from giftcard_connector.ledger import debit_lane
from giftcard_connector.ledger.api import create_app
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.settings import LedgerSettings, load_ledger_settings
from giftcard_connector.ledger.wiring import build_service, open_database
from giftcard_connector.log import configure_logging
from giftcard_connector.observability.middleware import install_observability
from giftcard_connector.observability.tracing import TracingUnavailable, configure_tracing

log = logging.getLogger("giftcard_connector.ledger")


def build_app(settings: LedgerSettings) -> FastAPI:
    """The ledger app for `settings`; migrates (if enabled) and closes the pools with the app."""
    database = open_database(settings)
    service = build_service(settings, database)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await migrate(database)
        yield
        await database.dispose()

    app = create_app(service, lifespan=lifespan)
    # /metrics and one log line per request; debits the fast lane answers are named by their path.
    install_observability(app, service="ledger", read_correlation_id=True, fixed_paths=[debit_lane.PATH])
    return app


SERVICE_NAME = "giftcard-connector-ledger"


def configure_process(settings: LedgerSettings) -> None:
    """Logging (the ledger's records and uvicorn's: one JSON stream), and tracing when enabled."""
    configure_logging(settings.log_level)
    if settings.tracing_enabled:
        configure_tracing(SERVICE_NAME)


def app_from_environment() -> FastAPI:
    """The app factory each worker process calls (`serve` checked the settings before starting them)."""
    settings = load_ledger_settings()
    configure_process(settings)
    return build_app(settings)


async def _migrate_once(settings: LedgerSettings) -> None:
    database = open_database(settings)
    try:
        await migrate(database)
    finally:
        await database.dispose()


def serve(settings: LedgerSettings) -> int:
    import uvicorn

    try:
        configure_process(settings)
    except TracingUnavailable as error:
        print(str(error), file=sys.stderr)
        return 2
    if settings.workers > 1:
        # Several processes on one port need an import string. Migrate once here, not in every worker
        # at the same moment.
        if settings.migrate_on_start:
            asyncio.run(_migrate_once(settings))
        os.environ["LEDGER_MIGRATE_ON_START"] = "false"
        app: str | FastAPI = "giftcard_connector.ledger.server:app_from_environment"
    else:
        app = build_app(settings)
    log.info("ledger listening on %s:%s with %d worker(s)", settings.host, settings.port, settings.workers)
    # uvloop and httptools named explicitly (both are dependencies). No access log line per request:
    # it cost measurable CPU on the debit path; errors are still logged.
    uvicorn.run(
        app,
        factory=isinstance(app, str),
        workers=settings.workers if isinstance(app, str) else None,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,  # uvicorn's records go through log.py's JSON handler
        server_header=False,
    )
    return 0

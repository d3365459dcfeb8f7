"""The ledger's ASGI app and `ledger serve`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from giftcard_connector.ledger.api import create_app
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.settings import LedgerSettings
from giftcard_connector.ledger.wiring import build_service, open_database

log = logging.getLogger("giftcard_connector.ledger")


def build_app(settings: LedgerSettings) -> FastAPI:
    """The ledger app for `settings`; migrates (if enabled) and closes the pool with the app."""
    database = open_database(settings)
    service = build_service(settings, database)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await migrate(database)
        yield
        await database.dispose()

    return create_app(service, lifespan=lifespan)


def serve(settings: LedgerSettings) -> int:
    import uvicorn

    app = build_app(settings)  # fails fast on a missing secret, before binding the port
    log.info("ledger listening on %s:%s", settings.host, settings.port)
    # uvicorn's "auto" loop and http already pick uvloop and httptools (both installed). No access log
    # line per request: it cost measurable CPU on the debit path; errors are still logged.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
    return 0

"""Wiring: settings -> database -> service -> ASGI app, and `ledger serve`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from giftcard_connector.ledger.api import create_app
from giftcard_connector.ledger.cardaccess import PinPolicy
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.service import Clock, LedgerService, utcnow
from giftcard_connector.ledger.settings import LedgerSettings

log = logging.getLogger("giftcard_connector.ledger")


def open_database(settings: LedgerSettings) -> Database:
    return Database(settings.database_url, schema=settings.database_schema)


def build_service(settings: LedgerSettings, database: Database, *, clock: Clock = utcnow) -> LedgerService:
    return LedgerService(
        database,
        settings.require_secret(),
        pin_policy=PinPolicy(settings.pin_max_attempts, settings.pin_lock_seconds),
        hold_ttl=dt.timedelta(seconds=settings.hold_ttl_seconds),
        clock=clock,
    )


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
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower())
    return 0

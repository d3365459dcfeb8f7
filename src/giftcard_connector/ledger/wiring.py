"""Wiring without the web stack: settings -> database -> service (shared by the CLI and the server)."""

from __future__ import annotations

import datetime as dt

from giftcard_connector.ledger.cardaccess import PinPolicy
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.service import Clock, LedgerService, utcnow
from giftcard_connector.ledger.settings import LedgerSettings


def open_database(settings: LedgerSettings) -> Database:
    return Database(settings.database_url, schema=settings.database_schema)


def build_service(settings: LedgerSettings, database: Database, *, clock: Clock = utcnow) -> LedgerService:
    return LedgerService(
        database,
        settings.require_secret(),
        pin_policy=PinPolicy(settings.pin_max_attempts, settings.pin_lock_seconds, settings.pin_max_lock_seconds),
        hold_ttl=dt.timedelta(seconds=settings.hold_ttl_seconds),
        clock=clock,
    )

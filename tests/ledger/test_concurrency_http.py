"""Concurrent debits through real HTTP (uvicorn on loopback) against PostgreSQL row locks."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from giftcard_connector.ledger.api import create_app
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.service import LedgerService
from giftcard_devkit.loopback import serve_on_loopback
from tests.ledger.conftest import DatabaseTarget, make_keys
from tests.ledger.support import SECRET, FakeClock, LedgerClient, eur

pytestmark = pytest.mark.postgres


async def test_fifty_parallel_debits_over_http_never_overdraw(postgres_target: DatabaseTarget) -> None:
    database = Database(postgres_target.url, schema=postgres_target.schema, pool_size=25)
    await migrate(database)
    clock = FakeClock()
    service = LedgerService(database, SECRET, clock=clock)
    admin, processor = await make_keys(database, clock)
    try:
        async with serve_on_loopback(create_app(service)) as base_url, httpx.AsyncClient(base_url=base_url) as http:
            ledger = LedgerClient(http, admin, processor, clock)
            code = await ledger.issue(10_000)
            answers = await asyncio.gather(
                *(ledger.post("/v1/redemptions", {"code": code, "amount": eur(300)}) for _ in range(50))
            )
            statuses = [answer.status_code for answer in answers]
            assert statuses.count(201) == 33
            assert statuses.count(422) == 17
            await ledger.assert_consistent(code, 100)
    finally:
        await database.dispose()

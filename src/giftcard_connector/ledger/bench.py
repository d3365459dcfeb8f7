"""Debit throughput of the ledger over real HTTP on loopback (wired into `make bench` elsewhere)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy import func, select

from giftcard_connector.ledger.api import create_app
from giftcard_connector.ledger.apikeys import Role, create_key
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.loopback import serve_on_loopback
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.models import Card, Entry
from giftcard_connector.ledger.service import LedgerService, utcnow
from giftcard_connector.money import Money

DEBIT = 100  # minor units per debit
CURRENCY = "EUR"


async def ledger_debit_benchmark(
    database_url: str, *, cards: int, debits: int, concurrency: int, schema: str | None = None
) -> dict[str, Any]:
    """Issue `cards` cards, fire `debits` redemptions spread over them with `concurrency` requests in
    flight, and check afterwards that every touched card's balance equals the sum of its entries.

    On PostgreSQL without `schema`, the run uses a throwaway schema that is dropped afterwards, so a
    benchmark never leaves tables behind in a shared database."""
    if cards < 1 or debits < 1 or concurrency < 1:
        raise ValueError("cards, debits and concurrency must be positive")
    if schema is None and not Database(database_url).is_sqlite:
        async with _throwaway_schema(database_url) as temporary:
            return await ledger_debit_benchmark(
                database_url, cards=cards, debits=debits, concurrency=concurrency, schema=temporary
            )
    database = Database(database_url, schema=schema, pool_size=max(5, min(concurrency, 50)))
    try:
        await migrate(database)
        service = LedgerService(database, secrets.token_bytes(32))
        async with database.transaction() as session:
            key, _ = await create_key(session, Role.PROCESSOR, "benchmark", utcnow())
        per_card = -(-debits // cards) * DEBIT  # enough for every debit to succeed
        issued = await service.issue(Money(per_card, CURRENCY), count=cards)
        codes = [card["code"] for card in issued.body["cards"]]
        card_ids = [card["id"] for card in issued.body["cards"]]
        async with serve_on_loopback(create_app(service)) as base_url:
            statuses, seconds, latencies = await _fire(base_url, key, codes, debits, concurrency)
        verified = await _verify(database, card_ids)
    finally:
        await database.dispose()
    latencies.sort()
    return {
        "database": database.engine.dialect.name,
        "cards": cards,
        "debits": debits,
        "concurrency": concurrency,
        "succeeded": statuses.get(201, 0),
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "seconds": round(seconds, 3),
        "debits_per_second": round(debits / seconds, 1) if seconds else None,
        "latency_ms": {
            "p50": round(latencies[len(latencies) // 2] * 1000, 2),
            "p99": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        },
        "verified": verified,
    }


def _schema_name() -> str:
    return f"ledger_bench_{secrets.token_hex(6)}"


@contextlib.asynccontextmanager
async def _throwaway_schema(database_url: str) -> AsyncIterator[str]:
    name = _schema_name()
    admin = Database(database_url)
    try:
        async with admin.engine.begin() as connection:
            await connection.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        yield name
    finally:
        async with admin.engine.begin() as connection:
            await connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await admin.dispose()


async def _fire(
    base_url: str, key: str, codes: list[str], debits: int, concurrency: int
) -> tuple[dict[int, int], float, list[float]]:
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for number in range(debits):
            queue.put_nowait(number)
        run = secrets.token_hex(4)

        async def worker() -> None:
            while not queue.empty():
                number = queue.get_nowait()
                body = {"code": codes[number % len(codes)], "amount": {"centAmount": DEBIT, "currencyCode": CURRENCY}}
                headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"bench-{run}-{number}"}
                started = time.perf_counter()
                response = await client.post("/v1/redemptions", json=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return statuses, time.perf_counter() - started, latencies


async def _verify(database: Database, card_ids: list[str]) -> bool:
    async with database.transaction() as session:
        sums = dict(
            (
                await session.execute(
                    select(Entry.card_id, func.sum(Entry.amount))
                    .where(Entry.card_id.in_(card_ids))
                    .group_by(Entry.card_id)
                )
            ).all()
        )
        balances = dict((await session.execute(select(Card.id, Card.balance).where(Card.id.in_(card_ids)))).all())
    return all(int(sums.get(card_id, 0)) == balances.get(card_id) for card_id in card_ids)

"""Debit throughput of the ledger over real HTTP on loopback (wired into `make bench` elsewhere).

The ledger runs as its own process (`giftcard-connector ledger serve`), exactly as in production, and
the benchmark drives it with aiohttp from this process. Serving the app inside the benchmark's own event
loop (as earlier versions did) made the load client and the server share one core and one loop, so the
client's CPU was counted as the ledger's latency. The result also reports the server's own CPU time per
debit (from /proc/<pid>/stat), which does not depend on how fast the client is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
from sqlalchemy import func, select

from giftcard_connector.ledger.apikeys import Role, create_key
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.models import Card, Entry
from giftcard_connector.ledger.service import LedgerService, utcnow
from giftcard_connector.money import Money
from giftcard_devkit.processes import ServiceProcess, free_port

DEBIT = 100  # minor units per debit
CURRENCY = "EUR"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


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
    database = Database(database_url, schema=schema, pool_size=5)
    secret = secrets.token_urlsafe(32)
    try:
        await migrate(database)
        service = LedgerService(database, secret.encode())
        async with database.transaction() as session:
            key, _ = await create_key(session, Role.PROCESSOR, "benchmark", utcnow())
        per_card = -(-debits // cards) * DEBIT  # enough for every debit to succeed
        issued = await service.issue(Money(per_card, CURRENCY), count=cards)
        codes = [card["code"] for card in issued.body["cards"]]
        card_ids = [card["id"] for card in issued.body["cards"]]
        env = {
            "LEDGER_DATABASE_URL": database_url,
            "LEDGER_SECRET_KEY": secret,
            "LEDGER_MIGRATE_ON_START": "false",
            "LEDGER_LOG_LEVEL": "WARNING",
            "LEDGER_HOST": "127.0.0.1",
        }
        if schema:
            env["LEDGER_DATABASE_SCHEMA"] = schema
        port = free_port()
        env["LEDGER_PORT"] = str(port)
        server = ServiceProcess(["ledger", "serve"], env, port, health_path="/v1/health", name="ledger")
        await asyncio.to_thread(server.start)
        try:
            fired = await _fire(server.base_url, server.pid, key, codes, debits, concurrency)
        finally:
            await asyncio.to_thread(server.stop)
        verified = await _verify(database, card_ids)
    finally:
        await database.dispose()
    latencies = sorted(fired.latencies)
    seconds = fired.seconds
    return {
        "database": database.engine.dialect.name,
        "cards": cards,
        "debits": debits,
        "concurrency": concurrency,
        "succeeded": fired.statuses.get(201, 0),
        "statuses": {str(status): count for status, count in sorted(fired.statuses.items())},
        "seconds": round(seconds, 3),
        "debits_per_second": round(debits / seconds, 1) if seconds else None,
        "latency_ms": {
            "p50": round(latencies[len(latencies) // 2] * 1000, 2),
            "p99": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        },
        # CPU the ledger process spent per debit (user + system); independent of the client's speed.
        "server_cpu_ms_per_debit": round(fired.server_cpu / debits * 1000, 3) if fired.server_cpu is not None else None,
        # CPU this process (the load client) spent per debit, to show it was not the bottleneck.
        "client_cpu_ms_per_debit": round(fired.client_cpu / debits * 1000, 3),
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


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process `pid` (Linux /proc), None where that is not available."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    # After the ")" that ends the command name: field 3 (state) is index 0, utime (14) and stime (15).
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


class _Fired:
    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}
        self.latencies: list[float] = []
        self.seconds = 0.0
        self.server_cpu: float | None = None
        self.client_cpu = 0.0


async def _fire(base_url: str, pid: int, key: str, codes: list[str], debits: int, concurrency: int) -> _Fired:
    fired = _Fired()
    run = secrets.token_hex(4)
    auth = f"Bearer {key}"
    bodies = [orjson.dumps({"code": code, "amount": {"centAmount": DEBIT, "currencyCode": CURRENCY}}) for code in codes]
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as client:
        # Warm up every connection (and the server's key cache and pool) with reads, not debits.
        async def warm() -> None:
            async with client.post(
                "/v1/cards/balance", data=bodies[0], headers={"Authorization": auth, "Content-Type": "application/json"}
            ) as response:
                await response.read()

        await asyncio.gather(*(warm() for _ in range(concurrency * 2)))
        next_number = 0

        async def worker() -> None:
            nonlocal next_number
            while next_number < debits:
                number = next_number
                next_number += 1
                headers = {
                    "Authorization": auth,
                    "Idempotency-Key": f"bench-{run}-{number}",
                    "Content-Type": "application/json",
                }
                started = time.perf_counter()
                async with client.post(
                    "/v1/redemptions", data=bodies[number % len(bodies)], headers=headers
                ) as response:
                    await response.read()
                    status = response.status
                fired.latencies.append(time.perf_counter() - started)
                fired.statuses[status] = fired.statuses.get(status, 0) + 1

        server_cpu0 = process_cpu_seconds(pid)
        client_cpu0 = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        fired.seconds = time.perf_counter() - started
        fired.client_cpu = time.process_time() - client_cpu0
        server_cpu1 = process_cpu_seconds(pid)
        if server_cpu0 is not None and server_cpu1 is not None:
            fired.server_cpu = server_cpu1 - server_cpu0
    return fired


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

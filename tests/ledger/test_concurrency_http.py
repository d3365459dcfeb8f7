"""Concurrent debits through real HTTP (uvicorn on loopback) against PostgreSQL row locks."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest

from giftcard_connector.ledger.api import create_app
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.service import LedgerService
from giftcard_devkit.ledger_bench import ledger_debit_benchmark
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


async def test_benchmark_reports_throughput_and_verifies_balances(postgres_target: DatabaseTarget) -> None:
    result = await ledger_debit_benchmark(
        postgres_target.url, cards=3, debits=60, concurrency=10, schema=postgres_target.schema
    )
    assert result["succeeded"] == 60
    assert result["verified"] is True
    assert result["debits_per_second"] > 0
    # The ledger ran as its own process: its CPU is measured apart from the load client's.
    assert result["server_cpu_ms_per_debit"] is None or result["server_cpu_ms_per_debit"] > 0
    assert result["client_cpu_ms_per_debit"] >= 0


def test_process_cpu_seconds_reads_this_process() -> None:
    import os
    import time

    from giftcard_devkit.ledger_bench import process_cpu_seconds

    before = process_cpu_seconds(os.getpid())
    if before is None:
        pytest.skip("no /proc")
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    after = process_cpu_seconds(os.getpid())
    assert after is not None and after >= before
    assert process_cpu_seconds(2**22 + 12345) is None  # no such process


async def test_benchmark_without_schema_leaves_no_tables_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    from giftcard_connector.ledger import bench
    from tests.ledger.conftest import POSTGRES_URL, _postgres_unavailable

    reason = await _postgres_unavailable()
    if reason:
        pytest.skip(reason)
    # A known name for the throwaway schema: other benchmark runs may share this database.
    name = f"ledger_bench_test_{secrets.token_hex(6)}"
    monkeypatch.setattr(bench, "_schema_name", lambda: name)
    result = await ledger_debit_benchmark(POSTGRES_URL, cards=2, debits=20, concurrency=4)
    assert result["verified"] and result["succeeded"] == 20
    database = Database(POSTGRES_URL)
    try:
        async with database.engine.connect() as connection:
            leftovers = await connection.exec_driver_sql(
                "SELECT count(*) FROM pg_namespace WHERE nspname = $1", (name,)
            )
            assert leftovers.scalar() == 0
    finally:
        await database.dispose()

"""Ledger fixtures: every test gets a fresh database, on SQLite and on PostgreSQL.

PostgreSQL comes from LEDGER_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test);
each test gets its own schema, dropped afterwards, so runs never collide.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from giftcard_connector.ledger.api import create_app
from giftcard_connector.ledger.apikeys import Role, create_key
from giftcard_connector.ledger.cardaccess import PinPolicy
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.service import LedgerService
from tests.ledger.support import SECRET, FakeClock, LedgerClient

POSTGRES_URL = os.environ.get("LEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
_postgres_error: str | None = None
_postgres_checked = False


async def _postgres_unavailable() -> str | None:
    global _postgres_checked, _postgres_error
    if not _postgres_checked:
        _postgres_checked = True
        try:
            connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
            await connection.close()
        except Exception as error:
            _postgres_error = f"PostgreSQL at {POSTGRES_URL} unreachable ({type(error).__name__}: {error})"
    return _postgres_error


@dataclass
class DatabaseTarget:
    url: str
    schema: str | None = None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DatabaseTarget]:
    if request.param == "sqlite":
        yield DatabaseTarget(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
        return
    async for target in _postgres_schema():
        yield target


async def _postgres_schema() -> AsyncIterator[DatabaseTarget]:
    reason = await _postgres_unavailable()
    if reason:
        pytest.skip(reason)
    schema = f"ledger_test_{secrets.token_hex(6)}"
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
        yield DatabaseTarget(POSTGRES_URL, schema)
    finally:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


@pytest.fixture
async def postgres_target() -> AsyncIterator[DatabaseTarget]:
    async for target in _postgres_schema():
        yield target


@pytest.fixture
async def database(database_target: DatabaseTarget) -> AsyncIterator[Database]:
    db = Database(database_target.url, schema=database_target.schema)
    await migrate(db)
    yield db
    await db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(database: Database, clock: FakeClock) -> LedgerService:
    return LedgerService(database, SECRET, pin_policy=PinPolicy(max_attempts=5, lock_seconds=900), clock=clock)


async def make_keys(database: Database, clock: FakeClock) -> tuple[str, str]:
    async with database.transaction() as session:
        admin, _ = await create_key(session, Role.ADMIN, "test admin", clock())
        processor, _ = await create_key(session, Role.PROCESSOR, "test processor", clock())
    return admin, processor


@pytest.fixture
async def ledger(service: LedgerService, database: Database, clock: FakeClock) -> AsyncIterator[LedgerClient]:
    admin, processor = await make_keys(database, clock)
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
        yield LedgerClient(http, admin, processor, clock)

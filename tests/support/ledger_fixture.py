"""A real ledger service (`giftcard-connector ledger serve`) on SQLite or PostgreSQL, plus its CLI."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from giftcard_devkit.processes import ServiceProcess, free_port

POSTGRES_URL = os.environ.get("LEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres(statement: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


class LedgerRun:
    """One ledger database and service for a test module; the CLI runs on the same database."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.service: ServiceProcess | None = None
        self.processor_key = ""

    def cli(self, *args: str) -> Any:
        result = subprocess.run(
            [sys.executable, "-m", "giftcard_connector.cli", "ledger", *args, "--json"],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)

    def issue(self, cent_amount: int, currency: str = "EUR", pin: str | None = None) -> str:
        args = ["issue", "--minor", "--amount", str(cent_amount), "--currency", currency]
        if pin:
            args += ["--pin", pin]
        return str(self.cli(*args)["code"])

    def show(self, code: str) -> dict[str, Any]:
        return dict(self.cli("show", code))

    def history(self, code: str) -> list[dict[str, Any]]:
        return list(self.cli("history", code)["entries"])

    @property
    def url(self) -> str:
        assert self.service is not None
        return self.service.base_url

    def start(self) -> None:
        self.cli("migrate")
        self.processor_key = self.cli("keys", "create", "--role", "processor")["key"]
        port = free_port()
        env = {**self.env, "LEDGER_PORT": str(port), "LEDGER_HOST": "127.0.0.1", "LEDGER_LOG_LEVEL": "warning"}
        self.service = ServiceProcess(["ledger", "serve"], env, port, health_path="/v1/health", name="ledger")
        self.service.start()

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()


DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextlib.contextmanager
def running_ledger(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerRun]:
    """A started ledger on a fresh SQLite file or a fresh PostgreSQL schema, removed afterwards."""
    env = {"LEDGER_SECRET_KEY": secrets.token_hex(16)}
    schema = None
    if database == "sqlite":
        path: Path = tmp_path_factory.mktemp("ledger") / "ledger.sqlite3"
        env["LEDGER_DATABASE_URL"] = f"sqlite:///{path}"
    else:
        schema = f"ledger_e2e_{secrets.token_hex(5)}"
        try:
            _postgres(f'CREATE SCHEMA "{schema}"')
        except (TimeoutError, OSError) as error:
            reason = f"PostgreSQL at {POSTGRES_URL} is unreachable: {error}"
            if os.environ.get("CI") == "true":  # CI must run the PostgreSQL half, never skip it silently
                pytest.fail(reason, pytrace=False)
            pytest.skip(reason)
        env["LEDGER_DATABASE_URL"] = POSTGRES_URL
        env["LEDGER_DATABASE_SCHEMA"] = schema
    run = LedgerRun(env)
    try:
        run.start()
        yield run
    finally:
        run.stop()
        if schema is not None:
            _postgres(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module", params=DATABASES)
def ledger_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerRun]:
    with running_ledger(request.param, tmp_path_factory) as run:
        yield run

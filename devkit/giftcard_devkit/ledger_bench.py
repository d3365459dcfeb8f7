"""Ledger debits per second next to PostgreSQL's own pgbench (TPC-B-like), measured in one run.

    PYTHONPATH=devkit python -m giftcard_devkit.ledger_bench [--clients 8] [--seconds 10] [--repeat 3]
        [--workers 2] [--load wrk|python] [--fast] [--out FILE]

The ledger runs as its own process(es) (`giftcard-connector ledger serve`, LEDGER_WORKERS workers), as
in production. Two cases, each against its pgbench counterpart with the same number of clients:

- spread: debits spread over many cards  <->  pgbench at scale 10 (8 clients rarely meet on a branch row)
- hot:    every debit on one card        <->  pgbench at scale 1 (every transaction updates the one branch row)

Each repetition runs the ledger load and then pgbench for the same number of seconds, back to back, so
both see the same machine (this one is shared: absolute numbers move, the ratio much less); the report
gives the median of the repetitions. Load generators: `wrk` (C, one Lua-made request per debit with a
fresh Idempotency-Key) when installed, else, or with --load python, an aiohttp generator in this process.
After the runs the ledger's books are checked: every touched card's balance equals the sum of its entries,
and one redemption and one idempotency record exist per successful debit.
pgbench runs in a scratch database this benchmark creates and drops; the ledger in a throwaway schema.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from giftcard_connector.ledger.apikeys import Role, create_key
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.models import Card, Entry, IdempotencyRecord, Redemption
from giftcard_connector.ledger.service import LedgerService, utcnow
from giftcard_connector.money import Money
from giftcard_devkit.processes import ServiceProcess, free_port

DEBIT = 1  # minor units per debit
CURRENCY = "EUR"
CARD_BALANCE = 10**11  # never runs out, so every debit is a real one
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
SPREAD_CARDS = 100
PGBENCH_SCALE = {"spread": 10, "hot": 1}
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# wrk: one debit per request, a fresh Idempotency-Key each (thread number + counter), cards round-robin;
# done() prints one JSON line with the totals and latency percentiles (microseconds).
WRK_SCRIPT = r"""
local codes = {}
for c in string.gmatch(os.getenv("BENCH_CODES"), "[^,]+") do codes[#codes + 1] = c end
local key = os.getenv("BENCH_KEY")
local run = os.getenv("BENCH_RUN")
local threads = {}
counter = 0
thread_no = 0
function setup(thread)
  thread_no = thread_no + 1
  thread:set("thread_no", thread_no)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  local code = codes[(counter % #codes) + 1]
  local body = '{"code":"' .. code .. '","amount":{"centAmount":1,"currencyCode":"EUR"}}'
  local headers = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = run .. "-" .. thread_no .. "-" .. counter}
  return wrk.format("POST", "/v1/redemptions", headers, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class LoadResult:
    generator: str
    requests: int
    seconds: float
    failed: int
    p50_ms: float
    p99_ms: float
    server_cpu_ms_per_debit: float | None = None

    @property
    def per_second(self) -> float:
        return (self.requests - self.failed) / self.seconds if self.seconds else 0.0


@dataclass
class PgbenchResult:
    tps: float
    latency_ms: float


@dataclass
class Case:
    name: str
    ledger: list[LoadResult] = field(default_factory=list)
    pgbench: list[PgbenchResult] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        ratios = [load.per_second / pg.tps for load, pg in zip(self.ledger, self.pgbench, strict=True) if pg.tps]
        return {
            "debits_per_second": _median([load.per_second for load in self.ledger]),
            "pgbench_tps": _median([pg.tps for pg in self.pgbench]),
            "ratio": round(statistics.median(ratios), 3) if ratios else None,
            "p50_ms": _median([load.p50_ms for load in self.ledger]),
            "p99_ms": _median([load.p99_ms for load in self.ledger]),
            "pgbench_latency_ms": _median([pg.latency_ms for pg in self.pgbench]),
            "server_cpu_ms_per_debit": _median(
                [load.server_cpu_ms_per_debit for load in self.ledger if load.server_cpu_ms_per_debit is not None]
            ),
            "failed": sum(load.failed for load in self.ledger),
            "repetitions": [
                {
                    "debits_per_second": round(load.per_second, 1),
                    "pgbench_tps": round(pg.tps, 1),
                    "ratio": round(load.per_second / pg.tps, 3) if pg.tps else None,
                    "p99_ms": load.p99_ms,
                    "requests": load.requests,
                    "seconds": round(load.seconds, 2),
                }
                for load, pg in zip(self.ledger, self.pgbench, strict=True)
            ],
        }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


# -- pgbench -------------------------------------------------------------------------------------


def pgbench_available() -> str | None:
    """None when pgbench can run, else why not."""
    return None if shutil.which("pgbench") else "pgbench is not installed (Debian: postgresql-client)"


def _pg_env(url: str, database: str) -> dict[str, str]:
    parsed = make_url(url)
    env = dict(os.environ)
    env.update({"PGHOST": parsed.host or "127.0.0.1", "PGPORT": str(parsed.port or 5432), "PGDATABASE": database})
    if parsed.username:
        env["PGUSER"] = parsed.username
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return env


@contextlib.asynccontextmanager
async def scratch_database(url: str) -> AsyncIterator[str]:
    """A new database for pgbench's tables, dropped afterwards (never touches the test database)."""
    import asyncpg

    name = f"ledger_bench_pg_{secrets.token_hex(5)}"
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def pgbench_init(url: str, database: str, scale: int) -> None:
    subprocess.run(
        ["pgbench", "-i", "-q", "-s", str(scale)],
        env=_pg_env(url, database),
        check=True,
        capture_output=True,
        timeout=300,
    )


def pgbench_run(url: str, database: str, clients: int, seconds: float) -> PgbenchResult:
    """pgbench's built-in TPC-B-like script: 3 updates, 1 select, 1 insert per transaction."""
    command = ["pgbench", "-n", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(max(1, round(seconds)))]
    done = subprocess.run(
        command, env=_pg_env(url, database), check=True, capture_output=True, text=True, timeout=seconds + 120
    )
    tps = re.search(r"^tps = ([0-9.]+)", done.stdout, re.MULTILINE)
    latency = re.search(r"^latency average = ([0-9.]+) ms", done.stdout, re.MULTILINE)
    if tps is None:
        raise RuntimeError(f"unexpected pgbench output:\n{done.stdout}\n{done.stderr}")
    return PgbenchResult(float(tps.group(1)), float(latency.group(1)) if latency else 0.0)


# -- the ledger ----------------------------------------------------------------------------------


@dataclass
class Ledger:
    url: str
    schema: str
    key: str
    codes: list[str]
    card_ids: list[str]
    server: ServiceProcess


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


async def _prepare(url: str, schema: str, cards: int, balance: int) -> tuple[str, str, list[str], list[str]]:
    database = Database(url, schema=schema, pool_size=2)
    secret = secrets.token_urlsafe(32)
    try:
        await migrate(database)
        service = LedgerService(database, secret.encode())
        async with database.transaction() as session:
            key, _ = await create_key(session, Role.PROCESSOR, "benchmark", utcnow())
        issued = await service.issue(Money(balance, CURRENCY), count=cards)
    finally:
        await database.dispose()
    cards_out = issued.body["cards"]
    return secret, key, [card["code"] for card in cards_out], [card["id"] for card in cards_out]


@contextlib.asynccontextmanager
async def running_ledger(
    url: str, cards: int, workers: int, balance: int = CARD_BALANCE, log_level: str = "WARNING"
) -> AsyncIterator[Ledger]:
    async with _throwaway_schema(url) as schema:
        secret, key, codes, card_ids = await _prepare(url, schema, cards, balance)
        port = free_port()
        env = {
            "LEDGER_DATABASE_URL": url,
            "LEDGER_DATABASE_SCHEMA": schema,
            "LEDGER_SECRET_KEY": secret,
            "LEDGER_MIGRATE_ON_START": "false",
            "LEDGER_LOG_LEVEL": log_level,
            "LEDGER_HOST": "127.0.0.1",
            "LEDGER_PORT": str(port),
            "LEDGER_WORKERS": str(workers),
        }
        # Worker processes start slowly on a busy shared machine: allow for it.
        server = ServiceProcess(
            ["ledger", "serve"], env, port, health_path="/v1/health", name="ledger", startup_timeout=120
        )
        await asyncio.to_thread(server.start)
        try:
            yield Ledger(url, schema, key, codes, card_ids, server)
        finally:
            await asyncio.to_thread(server.stop)


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process `pid` (Linux /proc), None where that is not available."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    # After the ")" that ends the command name: field 3 (state) is index 0, utime (14) and stime (15).
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU of `pid` and its direct children (uvicorn's worker processes)."""
    own = process_cpu_seconds(pid)
    if own is None:
        return None
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        kids = [int(child) for child in children.read_text().split()]
    except OSError:
        kids = []
    return own + sum(process_cpu_seconds(kid) or 0.0 for kid in kids)


def _cpu_per_debit(before: float | None, after: float | None, result: LoadResult) -> None:
    succeeded = result.requests - result.failed
    if before is not None and after is not None and succeeded:
        result.server_cpu_ms_per_debit = round((after - before) / succeeded * 1000, 3)


# -- load generators -----------------------------------------------------------------------------


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk_load(ledger: Ledger, clients: int, seconds: float, codes: list[str]) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    env = dict(os.environ, BENCH_CODES=",".join(codes), BENCH_KEY=ledger.key, BENCH_RUN=secrets.token_hex(6))
    try:
        command = [
            "wrk",
            f"-t{min(clients, 2)}",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            script.name,
            ledger.server.base_url,
        ]
        done = subprocess.run(command, env=env, check=True, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        os.unlink(script.name)
    line = next((line for line in done.stdout.splitlines() if line.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"unexpected wrk output:\n{done.stdout}\n{done.stderr}")
    data = orjson.loads(line)
    return LoadResult(
        generator="wrk",
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        failed=int(data["status_errors"]) + int(data["socket_errors"]),
        p50_ms=round(data["p50_us"] / 1000, 2),
        p99_ms=round(data["p99_us"] / 1000, 2),
    )


async def python_load(
    ledger: Ledger, clients: int, codes: list[str], *, seconds: float | None = None, debits: int | None = None
) -> LoadResult:
    """aiohttp, `clients` keep-alive connections, until `seconds` have passed or `debits` were sent."""
    run = secrets.token_hex(4)
    auth = f"Bearer {ledger.key}"
    bodies = [orjson.dumps({"code": code, "amount": {"centAmount": DEBIT, "currencyCode": CURRENCY}}) for code in codes]
    latencies: list[float] = []
    failed = 0
    sent = 0
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(
        ledger.server.base_url, connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as client:
        started = time.perf_counter()
        deadline = started + seconds if seconds is not None else float("inf")

        async def worker() -> None:
            nonlocal failed, sent
            while time.perf_counter() < deadline and (debits is None or sent < debits):
                number = sent
                sent += 1
                headers = {"Authorization": auth, "Idempotency-Key": f"bench-{run}-{number}"}
                begun = time.perf_counter()
                async with client.post("/v1/redemptions", data=bodies[number % len(bodies)], headers=headers) as reply:
                    await reply.read()
                    if reply.status != 201:
                        failed += 1
                latencies.append(time.perf_counter() - begun)

        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(
        generator="python",
        requests=len(latencies),
        seconds=elapsed,
        failed=failed,
        p50_ms=round(_percentile(latencies, 0.50) * 1000, 2),
        p99_ms=round(_percentile(latencies, 0.99) * 1000, 2),
    )


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


# -- checking the books --------------------------------------------------------------------------


async def verify(ledger: Ledger) -> dict[str, Any]:
    """Balances equal the sum of entries; one redemption and one idempotency record per debit."""
    database = Database(ledger.url, schema=ledger.schema, pool_size=1)
    try:
        async with database.transaction() as session:
            sums = dict(
                (
                    await session.execute(
                        select(Entry.card_id, func.sum(Entry.amount))
                        .where(Entry.card_id.in_(ledger.card_ids))
                        .group_by(Entry.card_id)
                    )
                ).all()
            )
            balances = dict(
                (await session.execute(select(Card.id, Card.balance).where(Card.id.in_(ledger.card_ids)))).all()
            )
            redemptions = await session.scalar(select(func.count()).select_from(Redemption))
            records = await session.scalar(select(func.count()).select_from(IdempotencyRecord))
    finally:
        await database.dispose()
    balanced = all(int(sums.get(card_id, 0)) == balances.get(card_id) for card_id in ledger.card_ids)
    return {"balances_equal_entries": balanced, "redemptions": redemptions, "idempotency_records": records}


# -- the comparison ------------------------------------------------------------------------------


async def compare(
    url: str,
    *,
    clients: int,
    seconds: float,
    repeat: int,
    workers: int,
    load: str,
    spread_cards: int = SPREAD_CARDS,
    log_level: str = "WARNING",
) -> dict[str, Any]:
    problem = pgbench_available()
    if problem:
        raise RuntimeError(problem)
    if load == "wrk" and not wrk_available():
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk); use --load python")
    cases: dict[str, Any] = {}
    async with scratch_database(url) as pg_database:
        for name, cards in (("spread", spread_cards), ("hot", 1)):
            case = Case(name)
            await asyncio.to_thread(pgbench_init, url, pg_database, PGBENCH_SCALE[name])
            async with running_ledger(url, cards, workers, log_level=log_level) as ledger:
                # Warm up: pools, prepared statements, the card-id cache of every worker.
                await python_load(ledger, clients, ledger.codes, debits=max(200, 2 * cards))
                for _ in range(repeat):
                    before = tree_cpu_seconds(ledger.server.pid)
                    if load == "wrk":
                        result = await asyncio.to_thread(wrk_load, ledger, clients, seconds, ledger.codes)
                    else:
                        result = await python_load(ledger, clients, ledger.codes, seconds=seconds)
                    _cpu_per_debit(before, tree_cpu_seconds(ledger.server.pid), result)
                    case.ledger.append(result)
                    case.pgbench.append(await asyncio.to_thread(pgbench_run, url, pg_database, clients, seconds))
                books = await verify(ledger)
            cases[name] = {"cards": cards, "pgbench_scale": PGBENCH_SCALE[name], **case.report(), "books": books}
    return {
        "method": {
            "load_generator": load,
            "clients": clients,
            "seconds_per_run": seconds,
            "repetitions": repeat,
            "ledger_workers": workers,
            "ledger_log_level": log_level,
            "pgbench": "built-in TPC-B-like, -c clients -j min(clients, 2), scale 10 (spread) / 1 (hot)",
            "cpus": os.cpu_count(),
            "load_average_before": _load_average(),
        },
        **cases,
    }


def _load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


async def ledger_debit_benchmark(
    database_url: str, *, cards: int, debits: int, concurrency: int, workers: int = 1
) -> dict[str, Any]:
    """One count-bound run with the Python generator (the hook `make bench` calls), followed in the
    same call by pgbench with the same clients for as long as the debits took, so both figures and
    their ratio come out together."""
    if cards < 1 or debits < 1 or concurrency < 1:
        raise ValueError("cards, debits and concurrency must be positive")
    async with running_ledger(database_url, cards, workers, balance=-(-debits // cards) * DEBIT) as ledger:
        result = await python_load(ledger, concurrency, ledger.codes, debits=debits)
        books = await verify(ledger)
    report: dict[str, Any] = {
        "load_generator": "python",
        "cards": cards,
        "debits": debits,
        "concurrency": concurrency,
        "ledger_workers": workers,
        "succeeded": result.requests - result.failed,
        "seconds": round(result.seconds, 3),
        "debits_per_second": round(result.per_second, 1),
        "latency_ms": {"p50": result.p50_ms, "p99": result.p99_ms},
        "verified": books["balances_equal_entries"] and books["redemptions"] == result.requests - result.failed,
    }
    if pgbench_available() is None:
        async with scratch_database(database_url) as pg_database:
            scale = PGBENCH_SCALE["hot" if cards == 1 else "spread"]
            await asyncio.to_thread(pgbench_init, database_url, pg_database, scale)
            pg = await asyncio.to_thread(pgbench_run, database_url, pg_database, concurrency, max(1.0, result.seconds))
        report |= {"pgbench_tps": round(pg.tps, 1), "ratio": round(result.per_second / pg.tps, 3)}
    return report


# -- command line --------------------------------------------------------------------------------


def format_report(report: dict[str, Any]) -> str:
    method = report["method"]
    lines = [
        f"ledger vs pgbench: {method['clients']} clients, {method['seconds_per_run']} s x {method['repetitions']}"
        f" (median), LEDGER_WORKERS={method['ledger_workers']}, LEDGER_LOG_LEVEL={method.get('ledger_log_level')},"
        f" load generator {method['load_generator']},"
        f" {method['cpus']} CPUs, load average {method['load_average_before']}",
        f"{'case':<7} {'debits/s':>9} {'pgbench tps':>12} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'CPU ms/debit':>13}  books",
    ]
    for name in ("spread", "hot"):
        case = report[name]
        books = case["books"]
        ok = (
            "ok"
            if books["balances_equal_entries"] and books["redemptions"] == books["idempotency_records"]
            else "WRONG"
        )
        lines.append(
            f"{name:<7} {case['debits_per_second']:>9} {case['pgbench_tps']:>12} {case['ratio']:>6}"
            f" {case['p50_ms']:>7} {case['p99_ms']:>7} {case['server_cpu_ms_per_debit']!s:>13}  {ok}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m giftcard_devkit.ledger_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_URL), help="PostgreSQL URL")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections, ledger and pgbench alike")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each ledger and pgbench run")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; the report gives their median")
    parser.add_argument("--workers", type=int, default=1, help="LEDGER_WORKERS for the ledger under test (default 1)")
    parser.add_argument(
        "--load", choices=["wrk", "python"], default=None, help="load generator (default: wrk when installed)"
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        help="LEDGER_LOG_LEVEL of the ledger (INFO writes one JSON line per request; default WARNING)",
    )
    parser.add_argument("--fast", action="store_true", help="1 s runs, 1 repetition, 20 cards: a smoke test")
    parser.add_argument("--out", help="also write the JSON report to this file")
    args = parser.parse_args(argv)
    load = args.load or ("wrk" if wrk_available() else "python")
    seconds, repeat, cards = (1.0, 1, 20) if args.fast else (args.seconds, args.repeat, SPREAD_CARDS)
    report = asyncio.run(
        compare(
            args.url,
            clients=args.clients,
            seconds=seconds,
            repeat=repeat,
            workers=args.workers,
            load=load,
            spread_cards=cards,
            log_level=args.log_level,
        )
    )
    document = orjson.dumps(report, option=orjson.OPT_INDENT_2).decode()
    if args.out:
        Path(args.out).write_text(document + "\n")
    print(format_report(report), file=sys.stderr)
    print(document)
    return 0


if __name__ == "__main__":
    sys.exit(main())

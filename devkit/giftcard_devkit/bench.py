"""`giftcard-connector bench`: throughput, latency and upstream calls of the Processor on loopback.

Starts the commercetools emulator and the Processor (`giftcard-connector serve`, mock provider) as real
processes, then drives them from this process with a raw keep-alive HTTP/1.1 load generator
(:mod:`giftcard_devkit.bench_load`):

- calibration: ``GET /health`` (no upstream calls) shows how far the generator can go;
- ``POST /balance``: one session on a 100000 EUR cart, code ``Valid-100000-EUR``;
- ``POST /redeem``: a new cart (5000 EUR) and session per request, all made before timing starts;
  each redeems 1000 of ``Valid-5000-EUR``, so every request is a real redemption;

each at 1 and 8 concurrent clients after a short warm-up. commercetools calls are counted at the emulator
(reset after setup and warm-up, read after the run). Provider calls are counted by a second pass against a
Processor variant whose provider is wrapped in a counter (:mod:`bench_server`). The Processor's peak memory
is its VmHWM. A ledger part runs ``giftcard_devkit.ledger_bench.ledger_debit_benchmark`` on PostgreSQL
when that module exists and the database answers. Results: a table on stdout and JSON at ``$BENCH_OUT``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.util
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from giftcard_devkit.bench_load import build_request, run_load
from giftcard_devkit.bench_stats import (
    LoadRun,
    ScenarioResult,
    format_table,
    parse_proc_stat_cpu_ticks,
    parse_proc_status_kib,
    per_op,
    results_document,
    summarise,
)
from giftcard_devkit.emulator import Emulator, EmulatorError
from giftcard_devkit.processes import ServiceProcess, free_port, processor

HOST = "127.0.0.1"
CLIENT_LEVELS = (1, 8)
BALANCE_CODE = "Valid-100000-EUR"
BALANCE_CART_CENTS = 100_000
REDEEM_CODE = "Valid-5000-EUR"
REDEEM_CART_CENTS = 5_000
REDEEM_CENTS = 1_000
COUNTING_PASS_OPS = 20
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
LEDGER_MODULE = "giftcard_devkit.ledger_bench"
LEDGER_FUNCTION = "ledger_debit_benchmark"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# --------------------------------------------------------------------------------------------- /proc
def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = (entry / "stat").read_text()
            if int(text[text.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (granian runs its worker in a child process)."""
    tree = [pid]
    index = 0
    while index < len(tree):
        tree.extend(_children(tree[index]))
        index += 1
    return tree


def cpu_seconds(pid: int, *, tree: bool = True) -> float:
    """User + system CPU of the process (and its live descendants), in seconds."""
    total = 0
    for member in process_tree(pid) if tree else [pid]:
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += parse_proc_stat_cpu_ticks(Path(f"/proc/{member}/stat").read_text())
    return total / _CLOCK_TICKS


def peak_rss_kib(pid: int, *, tree: bool = True) -> int | None:
    """VmHWM (peak resident set) in KiB; summed over the tree when the server has worker processes."""
    values: list[int] = []
    for member in process_tree(pid) if tree else [pid]:
        with contextlib.suppress(OSError):
            value = parse_proc_status_kib(Path(f"/proc/{member}/status").read_text(), "VmHWM")
            if value is not None:
                values.append(value)
    return sum(values) if values else None


def emulator_pid(emulator: Emulator) -> int | None:
    proc = getattr(emulator, "_proc", None)  # the launcher keeps its Popen private
    pid = getattr(proc, "pid", None)
    return pid if isinstance(pid, int) else None


# --------------------------------------------------------------------------------------------- servers
def command_process(command: Sequence[str], env: Mapping[str, str], port: int, name: str) -> ServiceProcess:
    """Any server command (a Processor variant) in its own process group, ready once /health answers."""
    return ServiceProcess([], env, port, name=name, command=command)


def bench_server_command(
    *, loop: str = "uvloop", http: str = "httptools", json_lib: str = "orjson", count: bool = False
) -> list[str]:
    command = [sys.executable, "-P", "-m", "giftcard_devkit.bench_server", "--loop", loop, "--http", http]
    command += ["--json", json_lib]
    return [*command, "--count"] if count else command


# --------------------------------------------------------------------------------------------- requests
# Rate limits stay on (their cost is part of every request) with budgets the bench never reaches; the
# shell decides the store (REDIS_URL) or turns them off (RATE_LIMIT_ENABLED=false) for a comparison.
BENCH_RATE_LIMITS = {
    "RATE_LIMIT_BALANCE_PER_SESSION": "1000000/minute",
    "RATE_LIMIT_BALANCE_PER_ADDRESS": "1000000/minute",
    "RATE_LIMIT_REDEEM_PER_SESSION": "1000000/minute",
    "RATE_LIMIT_REDEEM_PER_ADDRESS": "1000000/minute",
    "RATE_LIMIT_WRONG_TRIES_PER_CARD": "1000000/hour",
    "RATE_LIMIT_KEY_PREFIX": "giftcard-bench",
}


def rate_limit_mode() -> str:
    if os.environ.get("RATE_LIMIT_ENABLED", "true").lower() in ("false", "0", "no", "off"):
        return "off"
    return "redis" if os.environ.get("REDIS_URL") else "memory"


def processor_env(emulator: Emulator) -> dict[str, str]:
    return {**emulator.processor_env(), "GIFTCARD_PROVIDER": "mock", "LOG_LEVEL": "WARNING", **BENCH_RATE_LIMITS}


def health_requests(port: int, count: int) -> list[bytes]:
    return [build_request("GET", "/health", f"{HOST}:{port}")] * count


def balance_requests(port: int, session_id: str, count: int) -> list[bytes]:
    body = json.dumps({"code": BALANCE_CODE}).encode()
    headers = [("Content-Type", "application/json"), ("X-Session-Id", session_id)]
    return [build_request("POST", "/balance", f"{HOST}:{port}", body, headers)] * count


def redeem_requests(port: int, session_ids: Sequence[str]) -> list[bytes]:
    body = json.dumps(
        {"code": REDEEM_CODE, "redeemAmount": {"centAmount": REDEEM_CENTS, "currencyCode": "EUR"}}
    ).encode()
    return [
        build_request(
            "POST",
            "/redeem",
            f"{HOST}:{port}",
            body,
            [("Content-Type", "application/json"), ("X-Session-Id", session_id)],
        )
        for session_id in session_ids
    ]


def make_sessions(emulator: Emulator, count: int, cent_amount: int, workers: int = 4) -> list[str]:
    """``count`` fresh carts, each with its own ACTIVE session (setup: never timed)."""

    def one(_: int) -> str:
        cart = emulator.create_cart(cent_amount, "EUR")
        return emulator.create_session(str(cart["id"]))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(count)))


class SessionPool:
    """Pre-made redeem sessions handed out in order; running out is a bug in the plan, not a timing."""

    def __init__(self, session_ids: Sequence[str]) -> None:
        self._ids = list(session_ids)
        self._next = 0

    def take(self, count: int) -> list[str]:
        if self._next + count > len(self._ids):
            raise RuntimeError("not enough prepared redeem sessions")
        taken = self._ids[self._next : self._next + count]
        self._next += count
        return taken


# --------------------------------------------------------------------------------------------- measuring
def measure(
    name: str,
    clients: int,
    port: int,
    batch: Sequence[bytes],
    *,
    server_pid: int,
    emulator: Emulator | None,
    provider_calls_per_op: float | None = None,
) -> tuple[ScenarioResult, LoadRun]:
    """Run one timed batch, with emulator stats and CPU counters read around it."""
    emu_pid = emulator_pid(emulator) if emulator is not None else None
    if emulator is not None:
        emulator.reset_stats()
    server_cpu0 = cpu_seconds(server_pid)
    emu_cpu0 = cpu_seconds(emu_pid, tree=False) if emu_pid else None
    run = run_load(HOST, port, batch, clients)
    server_cpu = cpu_seconds(server_pid) - server_cpu0
    emu_cpu = cpu_seconds(emu_pid, tree=False) - emu_cpu0 if emu_pid and emu_cpu0 is not None else None
    stats = emulator.stats() if emulator is not None else None
    result = summarise(
        name,
        clients,
        run,
        commercetools_calls=stats,
        provider_calls_per_op=provider_calls_per_op,
        processor_cpu_seconds=server_cpu,
        emulator_cpu_seconds=emu_cpu,
    )
    return result, run


def counting_pass(emulator: Emulator, env: Mapping[str, str], ops: int = COUNTING_PASS_OPS) -> dict[str, Any]:
    """Provider and commercetools calls per operation, counted inside a Processor variant."""
    balance_session = make_sessions(emulator, 1, BALANCE_CART_CENTS)[0]
    redeem_sessions = make_sessions(emulator, ops + 2, REDEEM_CART_CENTS)
    port = free_port()
    server = command_process(
        bench_server_command(count=True), {**env, "PORT": str(port), "HOST": HOST}, port, "counter"
    )
    result: dict[str, Any] = {"method": "Processor variant with a counting provider (devtools/bench_server.py)"}
    with server, httpx.Client(base_url=server.base_url, timeout=10.0) as client:

        def counters() -> dict[str, Any]:
            data: dict[str, Any] = client.get("/__bench/counters").json()
            return data

        # Warm the token cache so it does not count as a per-operation call.
        run_load(HOST, port, balance_requests(port, balance_session, 2), 1)
        run_load(HOST, port, redeem_requests(port, redeem_sessions[:2]), 1)
        for name, batch in (
            ("balance", balance_requests(port, balance_session, ops)),
            ("redeem", redeem_requests(port, redeem_sessions[2:])),
        ):
            before = counters()
            emulator.reset_stats()
            run = run_load(HOST, port, batch, 1)
            after = counters()
            emulator_calls = sum(emulator.stats().values())
            provider = {
                method: per_op(after["provider"].get(method, 0) - before["provider"].get(method, 0), ops)
                for method in sorted(set(after["provider"]) | set(before["provider"]))
                if after["provider"].get(method, 0) != before["provider"].get(method, 0)
            }
            result[name] = {
                "operations": ops,
                "errors": run.errors,
                "provider_calls_per_op": per_op(after["provider_total"] - before["provider_total"], ops),
                "provider_calls_by_method": provider,
                "commercetools_client_calls_per_op": per_op(
                    after["commercetools_client_calls"] - before["commercetools_client_calls"], ops
                ),
                "commercetools_emulator_calls_per_op": per_op(emulator_calls, ops),
            }
    return result


# --------------------------------------------------------------------------------------------- ledger
def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _postgres_reachable(url: str) -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        return "asyncpg is not installed"
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=3)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    await connection.close()
    return None


def run_ledger_part(url: str, debits: int, concurrency: int = 8) -> dict[str, Any]:
    """HOOK for the ledger benchmark: ``giftcard_devkit.ledger_bench.ledger_debit_benchmark``.

    Skipped (with the reason in the output, never a crash) while that module does not exist, when it has
    no such function, or when PostgreSQL does not answer.
    """
    part: dict[str, Any] = {"database": _redact(url), "debits": debits, "concurrency": concurrency}
    if importlib.util.find_spec(LEDGER_MODULE) is None:
        return {**part, "status": "skipped", "reason": f"{LEDGER_MODULE} does not exist yet"}
    function = getattr(importlib.import_module(LEDGER_MODULE), LEDGER_FUNCTION, None)
    if function is None:
        return {**part, "status": "skipped", "reason": f"{LEDGER_MODULE} has no {LEDGER_FUNCTION}"}
    problem = asyncio.run(_postgres_reachable(url))
    if problem is not None:
        return {**part, "status": "skipped", "reason": f"PostgreSQL unreachable: {problem}"}
    runs: dict[str, Any] = {}
    for name, cards in (("hot_card", 1), ("spread", max(100, debits))):
        try:
            outcome = asyncio.run(function(url, cards=cards, debits=debits, concurrency=concurrency))
            runs[name] = {"cards": cards, **dict(outcome)}
        except Exception as error:
            runs[name] = {"cards": cards, "error": f"{type(error).__name__}: {error}"}
    return {**part, "status": "ok", "runs": runs}


def _redact(url: str) -> str:
    """The URL without a password."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


def format_ledger(part: Mapping[str, Any]) -> str:
    if part.get("status") != "ok":
        return f"ledger: {part.get('status')} ({part.get('reason')})"
    lines = ["ledger (PostgreSQL):"]
    for name, outcome in part["runs"].items():
        shown: list[str] = []
        for key, value in outcome.items():
            if isinstance(value, dict):
                shown.extend(f"{key}.{inner}={item}" for inner, item in value.items())
            elif not isinstance(value, list):
                shown.append(f"{key}={value}")
        lines.append(f"  {name}: {', '.join(shown)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- main
def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _timed_phase(label: str) -> Callable[[], None]:
    started = time.perf_counter()
    return lambda: _log(f"  {label}: {time.perf_counter() - started:.1f}s")


@contextlib.contextmanager
def _emulator() -> Iterator[Emulator]:
    emulator = Emulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


def run_bench(args: argparse.Namespace) -> int:
    requests = int(getattr(args, "requests", 400))
    if requests < 1:
        print("--requests must be at least 1", file=sys.stderr)
        return 2
    out_path = Path(os.environ.get("BENCH_OUT", "bench-results.json"))
    warmup = max(10, min(50, requests // 8))
    calibration_requests = max(2000, requests * 5)
    try:
        with _emulator() as emulator:
            return _run(emulator, requests, warmup, calibration_requests, out_path)
    except EmulatorError as error:
        print(f"bench: cannot start the commercetools emulator: {error}", file=sys.stderr)
        return 1


def _run(emulator: Emulator, requests: int, warmup: int, calibration_requests: int, out_path: Path) -> int:
    env = processor_env(emulator)
    _log(f"bench: {requests} requests per scenario, warm-up {warmup}, clients {CLIENT_LEVELS}")
    _log(f"rate limits: {rate_limit_mode()}")
    done = _timed_phase("setup (carts and sessions, not timed)")
    balance_session = make_sessions(emulator, 1, BALANCE_CART_CENTS)[0]
    pool = SessionPool(make_sessions(emulator, len(CLIENT_LEVELS) * (warmup + requests), REDEEM_CART_CENTS))
    done()

    _log("counting pass (provider calls per operation)")
    counted = counting_pass(emulator, env)
    provider_per_op = {name: counted[name]["provider_calls_per_op"] for name in ("balance", "redeem")}

    scenarios: list[ScenarioResult] = []
    calibration: list[ScenarioResult] = []
    with processor(env) as server:
        port = server.port
        run_load(HOST, port, health_requests(port, 200), 8)  # warm-up
        for clients in CLIENT_LEVELS:
            _log(f"calibration GET /health x{calibration_requests}, {clients} client(s)")
            row, _ = measure(
                "GET /health",
                clients,
                port,
                health_requests(port, calibration_requests),
                server_pid=server.pid,
                emulator=emulator,
                provider_calls_per_op=0.0,
            )
            calibration.append(row)
        for clients in CLIENT_LEVELS:
            _log(f"POST /balance x{requests}, {clients} client(s)")
            run_load(HOST, port, balance_requests(port, balance_session, warmup), clients)
            row, _ = measure(
                "POST /balance",
                clients,
                port,
                balance_requests(port, balance_session, requests),
                server_pid=server.pid,
                emulator=emulator,
                provider_calls_per_op=provider_per_op["balance"],
            )
            scenarios.append(row)
        for clients in CLIENT_LEVELS:
            _log(f"POST /redeem x{requests}, {clients} client(s)")
            run_load(HOST, port, redeem_requests(port, pool.take(warmup)), clients)
            row, _ = measure(
                "POST /redeem",
                clients,
                port,
                redeem_requests(port, pool.take(requests)),
                server_pid=server.pid,
                emulator=emulator,
                provider_calls_per_op=provider_per_op["redeem"],
            )
            scenarios.append(row)
        peak = peak_rss_kib(server.pid, tree=False)

    postgres_url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    _log("ledger part")
    ledger = run_ledger_part(postgres_url, debits=requests, concurrency=8)

    document = results_document(
        scenarios=scenarios,
        calibration=calibration,
        processor_peak_rss_kib=peak,
        provider_calls=counted,
        ledger=ledger,
        environment={
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "server": "giftcard-connector serve (uvicorn, uvloop, httptools)",
            "provider": "mock",
            "rate_limits": rate_limit_mode(),
            "requests_per_scenario": requests,
            "warmup_per_scenario": warmup,
            "load_generator": "raw HTTP/1.1, one keep-alive connection per client, uvloop, same host",
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )
    print(format_table([*calibration, *scenarios]))
    print()
    print(f"Processor peak memory (VmHWM): {document['processor']['peak_rss_mib']} MiB")
    best = max((row.generator_capacity_rps or 0.0) for row in calibration) if calibration else 0.0
    print(
        f"Load generator: calibration reached {max(row.rps for row in calibration):.0f} req/s on GET /health; "
        f"at its measured CPU cost per request one core could push ~{best:.0f} req/s "
        f"(the heaviest scenario measured {max(row.rps for row in scenarios):.0f} req/s)."
    )
    print(format_ledger(ledger))
    errors = sum(row.errors for row in scenarios)
    for row in scenarios:
        for sample in row.error_samples:
            print(f"  error sample ({row.scenario}, {row.clients} clients): {sample}")
    out_path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"JSON: {out_path}")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m giftcard_devkit.bench", description="throughput and latency on loopback"
    )
    parser.add_argument("--requests", type=int, default=400, help="requests per scenario")
    return run_bench(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

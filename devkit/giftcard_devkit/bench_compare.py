"""Server and JSON choices for speed on one core (an experiment; results go to docs/benchmark.md).

    python -m giftcard_devkit.bench_compare [--requests 400] [--rounds 2]

Runs Processor variants (:mod:`bench_server`) against the emulator: uvicorn uvloop+httptools (what
`serve` uses), uvicorn asyncio+h11 (uvicorn's pure-Python default), granian (if installed), and the
current server with the standard library's json instead of orjson. The Processor is pinned to CPU 0 and
the emulator and load generator to CPU 1 (when there are two CPUs), so "Processor CPU per request" is the
figure that decides; req/s is shown too. Variants run round-robin ``--rounds`` times; the best round is
kept (the least disturbed by other work on the machine). Also a micro-benchmark of orjson vs json on the
bodies the Processor actually parses and writes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from giftcard_devkit.bench import (
    BALANCE_CART_CENTS,
    HOST,
    REDEEM_CART_CENTS,
    SessionPool,
    balance_requests,
    bench_server_command,
    command_process,
    emulator_pid,
    health_requests,
    make_sessions,
    measure,
    processor_env,
    redeem_requests,
)
from giftcard_devkit.bench_load import run_load
from giftcard_devkit.bench_stats import ScenarioResult
from giftcard_devkit.emulator import Emulator
from giftcard_devkit.processes import free_port

Variant = tuple[str, Callable[[int], list[str]], dict[str, str]]


def variants() -> list[Variant]:
    found: list[Variant] = [
        ("uvicorn uvloop+httptools, orjson (current)", lambda _: bench_server_command(), {}),
        ("uvicorn asyncio+h11, orjson", lambda _: bench_server_command(loop="asyncio", http="h11"), {}),
        ("uvicorn uvloop+h11, orjson", lambda _: bench_server_command(http="h11"), {}),
        ("uvicorn asyncio+httptools, orjson", lambda _: bench_server_command(loop="asyncio"), {}),
        ("uvicorn uvloop+httptools, stdlib json", lambda _: bench_server_command(json_lib="stdlib"), {}),
    ]
    granian = shutil.which("granian", path=str(Path(sys.executable).parent)) or shutil.which("granian")
    if granian is not None:

        def granian_command(port: int) -> list[str]:
            return [
                granian,
                "--interface",
                "asgi",
                "--factory",
                "--host",
                HOST,
                "--port",
                str(port),
                "--workers",
                "1",
                "--runtime-threads",
                "1",
                "--loop",
                "uvloop",
                "--no-ws",
                "--log-level",
                "warning",
                "--no-access-log",
                "giftcard_devkit.bench_server:granian_app",
            ]

        found.append(("granian 2.x asgi, uvloop, 1 worker, orjson", granian_command, {}))
    return found


def _pin(pid: int, cpus: set[int]) -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(pid, cpus)


def _pin_tree(pid: int, cpus: set[int]) -> None:
    from giftcard_devkit.bench import process_tree

    for member in process_tree(pid):
        _pin(member, cpus)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{member}/task").iterdir():
                _pin(int(task.name), cpus)


def run_variant(
    emulator: Emulator, name: str, command: list[str], extra_env: dict[str, str], port: int, sessions: SessionPool
) -> dict[str, Any]:
    requests = int(os.environ.get("BENCH_COMPARE_REQUESTS", "400"))
    env = {**processor_env(emulator), **extra_env, "PORT": str(port), "HOST": HOST}
    balance_session = make_sessions(emulator, 1, BALANCE_CART_CENTS)[0]
    with command_process(command, env, port, name) as server:
        if (os.cpu_count() or 1) >= 2:
            _pin_tree(server.pid, {0})
        run_load(HOST, port, health_requests(port, 300), 8)
        run_load(HOST, port, balance_requests(port, balance_session, 40), 8)
        rows: dict[str, ScenarioResult] = {}
        rows["health"], _ = measure(
            "GET /health", 8, port, health_requests(port, 3000), server_pid=server.pid, emulator=None
        )
        rows["balance"], _ = measure(
            "POST /balance",
            8,
            port,
            balance_requests(port, balance_session, requests),
            server_pid=server.pid,
            emulator=emulator,
        )
        rows["redeem"], _ = measure(
            "POST /redeem",
            8,
            port,
            redeem_requests(port, sessions.take(requests // 2)),
            server_pid=server.pid,
            emulator=emulator,
        )
    return {key: row.to_json() for key, row in rows.items()}


def _stdlib_dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _per_call(statement: Callable[[], object], number: int = 20000) -> float:
    """Microseconds per call, best of three."""
    return round(min(timeit.repeat(statement, number=number, repeat=3)) / number * 1e6, 2)


def json_microbench(emulator: Emulator) -> dict[str, Any]:
    """orjson vs json on the bodies one balance/redeem handles: µs per dumps/loads."""
    cart_id = emulator.create_cart(REDEEM_CART_CENTS, "EUR")["id"]
    session_id = emulator.create_session(str(cart_id))
    session = emulator.get_session(session_id)
    cart = emulator.get_cart(str(cart_id))
    bodies: dict[str, Any] = {
        "balance response": {"status": {"state": "Valid"}, "amount": {"centAmount": 100000, "currencyCode": "EUR"}},
        "redeem response": {
            "result": "Success",
            "paymentReference": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "redemptionId": "mock-redemption-7c9e6679-7425-40de-944b-e07fc1f90ae7",
        },
        "redeem request": {"code": "Valid-5000-EUR", "redeemAmount": {"centAmount": 1000, "currencyCode": "EUR"}},
        "session (commercetools)": session,
        "cart (commercetools)": cart,
    }
    result: dict[str, Any] = {}
    for label, body in bodies.items():
        raw = orjson.dumps(body)
        result[label] = {
            "bytes": len(raw),
            "orjson_dumps_us": _per_call(partial(orjson.dumps, body)),
            "json_dumps_us": _per_call(partial(_stdlib_dumps, body)),
            "orjson_loads_us": _per_call(partial(orjson.loads, raw)),
            "json_loads_us": _per_call(partial(json.loads, raw)),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", default="bench-compare.json")
    args = parser.parse_args(argv)
    os.environ["BENCH_COMPARE_REQUESTS"] = str(args.requests)
    chosen = variants()
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in chosen}
    with Emulator() as emulator:
        pid = emulator_pid(emulator)
        if (os.cpu_count() or 1) >= 2:
            if pid is not None:
                _pin_tree(pid, {1})
            _pin(0, {1})  # this process: the load generator
        print("preparing redeem sessions...", file=sys.stderr, flush=True)
        sessions = SessionPool(
            make_sessions(emulator, args.rounds * len(chosen) * (args.requests // 2), REDEEM_CART_CENTS)
        )
        for round_number in range(args.rounds):
            for name, command, extra in chosen:
                port = free_port()
                print(f"round {round_number + 1}: {name}", file=sys.stderr, flush=True)
                try:
                    results[name].append(run_variant(emulator, name, command(port), extra, port, sessions))
                except RuntimeError as error:
                    print(f"  failed: {error}", file=sys.stderr)
        micro = json_microbench(emulator)
    summary = summarise_variants(results)
    print(format_summary(summary))
    print()
    for label, row in micro.items():
        print(
            f"{label:26s} {row['bytes']:6d} B  dumps orjson {row['orjson_dumps_us']:6.2f} us / json "
            f"{row['json_dumps_us']:6.2f} us   loads orjson {row['orjson_loads_us']:6.2f} us / json "
            f"{row['json_loads_us']:6.2f} us"
        )
    Path(args.out).write_text(json.dumps({"variants": summary, "rounds": results, "json": micro}, indent=2) + "\n")
    return 0


def summarise_variants(results: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per variant and scenario: the best round by Processor CPU per request (and its req/s, p50)."""
    summary: dict[str, dict[str, Any]] = {}
    for name, rounds in results.items():
        if not rounds:
            continue
        summary[name] = {}
        for scenario in rounds[0]:
            cpu = [r[scenario]["processor_cpu_ms_per_request"] for r in rounds]
            rps = [r[scenario]["rps"] for r in rounds]
            p50 = [r[scenario]["p50_ms"] for r in rounds]
            errors = sum(r[scenario]["errors"] for r in rounds)
            summary[name][scenario] = {
                "processor_cpu_us_per_request": round(1000 * min(cpu), 1),
                "rps": max(rps),
                "p50_ms": min(p50),
                "errors": errors,
            }
    return summary


def format_summary(summary: dict[str, dict[str, Any]]) -> str:
    header = f"{'variant':46s} {'scenario':8s} {'CPU us/req':>10s} {'req/s':>8s} {'p50 ms':>8s} {'errors':>6s}"
    lines = [header, "-" * len(header)]
    for name, scenarios in summary.items():
        for scenario, row in scenarios.items():
            lines.append(
                f"{name:46s} {scenario:8s} {row['processor_cpu_us_per_request']:10.1f} {row['rps']:8.1f} "
                f"{row['p50_ms']:8.2f} {row['errors']:6d}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

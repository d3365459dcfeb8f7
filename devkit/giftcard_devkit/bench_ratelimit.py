"""What the rate limits cost: Processor CPU per /balance and /redeem with the limits off, in memory and
in Redis, measured side by side (`PYTHONPATH=devkit .venv/bin/python -m giftcard_devkit.bench_ratelimit`).

`make bench` runs one configuration at a time, so on a shared machine the load drifts between the runs
it is compared across. Here three Processors (off / memory / Redis) run at once against one emulator,
and rounds of the same batch go to each in turn (the order rotates each round): drift hits all three
alike, and the median over rounds of each one's CPU per request is compared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from giftcard_devkit.bench import (
    HOST,
    REDEEM_CART_CENTS,
    balance_requests,
    cpu_seconds,
    make_sessions,
    processor_env,
    redeem_requests,
)
from giftcard_devkit.bench_load import run_load
from giftcard_devkit.emulator import Emulator
from giftcard_devkit.processes import ServiceProcess, processor

MODES = ("off", "memory", "redis")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def mode_env(base: dict[str, str], mode: str, redis_url: str) -> dict[str, str]:
    env = {**base, "RATE_LIMIT_ENABLED": "false" if mode == "off" else "true", "REDIS_URL": ""}
    if mode == "redis":
        env["REDIS_URL"] = redis_url
    return env


def cpu_ms_per_request(server: ServiceProcess, batch: Sequence[bytes], clients: int) -> float:
    before = cpu_seconds(server.pid)
    run = run_load(HOST, server.port, list(batch), clients)
    if run.errors:
        raise RuntimeError(f"{run.errors} failed requests, e.g. {run.error_samples[:1]}")
    return (cpu_seconds(server.pid) - before) * 1000 / len(batch)


def rotations(rounds: int) -> Iterator[tuple[str, ...]]:
    for index in range(rounds):
        shift = index % len(MODES)
        yield MODES[shift:] + MODES[:shift]


def run(rounds: int, requests: int, clients: int, redis_url: str) -> dict[str, Any]:
    results: dict[str, dict[str, list[float]]] = {mode: {"balance": [], "redeem": []} for mode in MODES}
    with Emulator().start() as emulator, ExitStack() as stack:
        base = processor_env(emulator)
        servers = {mode: stack.enter_context(processor(mode_env(base, mode, redis_url))) for mode in MODES}
        balance_session = make_sessions(emulator, 1, 10_000_000)[0]
        for server in servers.values():  # warm-up
            run_load(HOST, server.port, balance_requests(server.port, balance_session, 50), clients)
        for number, order in enumerate(rotations(rounds), start=1):
            for mode in order:
                server = servers[mode]
                batch = balance_requests(server.port, balance_session, requests)
                results[mode]["balance"].append(cpu_ms_per_request(server, batch, clients))
                sessions = make_sessions(emulator, requests // 2, REDEEM_CART_CENTS)
                results[mode]["redeem"].append(
                    cpu_ms_per_request(server, redeem_requests(server.port, sessions), clients)
                )
            print(f"round {number}/{rounds} done", file=sys.stderr, flush=True)
    summary: dict[str, Any] = {"rounds": rounds, "requests": requests, "clients": clients, "modes": {}}
    for mode in MODES:
        summary["modes"][mode] = {
            route: {"median_cpu_ms": statistics.median(values), "runs": [round(v, 3) for v in values]}
            for route, values in results[mode].items()
        }
    for route in ("balance", "redeem"):
        base_ms = summary["modes"]["off"][route]["median_cpu_ms"]
        for mode in ("memory", "redis"):
            summary["modes"][mode][route]["vs_off"] = summary["modes"][mode][route]["median_cpu_ms"] / base_ms
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m giftcard_devkit.bench_ratelimit", description=__doc__)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=300, help="balance requests per batch (redeems: half)")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    summary = run(args.rounds, args.requests, args.clients, os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)
    print(f"{'mode':<8} {'balance CPU ms/req':>20} {'vs off':>8} {'redeem CPU ms/req':>20} {'vs off':>8}")
    for mode, routes in summary["modes"].items():
        cells = []
        for route in ("balance", "redeem"):
            ratio = routes[route].get("vs_off")
            cells.append(f"{routes[route]['median_cpu_ms']:>20.3f} {'' if ratio is None else f'{ratio:.3f}':>8}")
        print(f"{mode:<8} {' '.join(cells)}")
    out = Path(os.environ.get("BENCH_OUT", "bench-ratelimit.json"))
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"JSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A locked card answers like an unknown card in time too (contract section 10), on SQLite and PostgreSQL.

The two are measured interleaved (random order in each pair) through the real ledger app and database,
and compared by the median of the paired differences with a bootstrap confidence interval: the test
fails only when the interval lies wholly outside +-MARGIN of the unknown card's median, i.e. when one
path is slower beyond doubt, which keeps it stable on a loaded machine. The issue's measurement (1.4 vs
1.1 ms, +27 %, slower in 92 of 100 pairs) fails it by far.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx

from giftcard_connector.ledger import codes
from tests.ledger.support import LedgerClient

PAIRS = 200
WARMUP = 30
MARGIN = 0.10  # of the unknown card's median time
BOOTSTRAP = 2000


def bootstrap_median_ci(values: list[float], rounds: int = BOOTSTRAP, seed: int = 7) -> tuple[float, float]:
    rng = random.Random(seed)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(rounds))
    return medians[int(0.025 * rounds)], medians[int(0.975 * rounds) - 1]


async def paired_times(
    first: Callable[[], Awaitable[None]], second: Callable[[], Awaitable[None]], pairs: int
) -> tuple[list[float], list[float]]:
    rng = random.Random(11)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(pairs):
        order = [0, 1] if rng.random() < 0.5 else [1, 0]
        for which in order:
            call = first if which == 0 else second
            started = time.perf_counter_ns()
            await call()
            times[which].append((time.perf_counter_ns() - started) / 1e3)
    return times


async def _locked_card(ledger: LedgerClient) -> str:
    code = await ledger.issue(pin="1234")
    for _ in range(5):
        await ledger.post("/v1/cards/balance", {"code": code, "pin": "0000"}, idempotency=None)
    lookup = await ledger.admin("/v1/cards/lookup", {"code": code}, idempotency=None)
    assert lookup.json()["card"]["pinLockedUntil"] is not None
    return code


async def _compare(
    ledger: LedgerClient, path: str, body: Callable[[str], dict[str, object]], *, keyed: bool = False
) -> None:
    locked, unknown = await _locked_card(ledger), codes.format_code(codes.generate())
    answers: dict[str, httpx.Response] = {}

    def caller(code: str) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            # A debit carries an idempotency key (a fresh one: a refusal is stored like a success).
            response = await ledger.post(path, body(code), idempotency=True if keyed else None)
            answers[code] = response

        return call

    await paired_times(caller(locked), caller(unknown), WARMUP)
    locked_times, unknown_times = await paired_times(caller(locked), caller(unknown), PAIRS)
    assert answers[locked].status_code == answers[unknown].status_code == 404
    assert answers[locked].json() == answers[unknown].json()

    differences = [a - b for a, b in zip(locked_times, unknown_times, strict=True)]
    baseline = statistics.median(unknown_times)
    low, high = bootstrap_median_ci(differences)
    slower = sum(d > 0 for d in differences)
    summary = (
        f"{path}: median locked {statistics.median(locked_times):.0f} us, unknown {baseline:.0f} us; "
        f"paired difference median {statistics.median(differences):+.0f} us, 95% CI [{low:+.0f}, {high:+.0f}] us; "
        f"locked slower in {slower}/{PAIRS} pairs; margin +-{MARGIN * baseline:.0f} us"
    )
    print(summary)
    assert low <= MARGIN * baseline and high >= -MARGIN * baseline, summary


async def test_locked_and_unknown_card_take_the_same_time_on_balance(ledger: LedgerClient) -> None:
    await _compare(ledger, "/v1/cards/balance", lambda code: {"code": code, "pin": "1234"})


async def test_locked_and_unknown_card_take_the_same_time_on_redeem(ledger: LedgerClient) -> None:
    amount = {"centAmount": 100, "currencyCode": "EUR"}
    await _compare(ledger, "/v1/redemptions", lambda code: {"code": code, "pin": "1234", "amount": amount}, keyed=True)

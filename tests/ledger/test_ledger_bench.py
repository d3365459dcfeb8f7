"""The ledger benchmark (devkit): both figures (ledger debits/s, pgbench tps) and their ratio in one JSON.

These check the report's shape and that the books balance afterwards, never a speed: the numbers depend
on the machine and on who else uses it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from giftcard_devkit import ledger_bench
from giftcard_devkit.processes import devkit_env
from tests.ledger.conftest import POSTGRES_URL, _postgres_unavailable

pytestmark = pytest.mark.postgres


async def _needs_postgres_and_pgbench() -> None:
    reason = await _postgres_unavailable() or ledger_bench.pgbench_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


async def _leftovers(prefix: str) -> tuple[int, int]:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        schemas = await connection.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname LIKE $1", prefix + "%")
        databases = await connection.fetchval("SELECT count(*) FROM pg_database WHERE datname LIKE 'ledger_bench_pg_%'")
    finally:
        await connection.close()
    return int(schemas), int(databases)


async def test_count_bound_run_reports_both_figures_and_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _needs_postgres_and_pgbench()
    name = "ledger_bench_test_" + os.urandom(6).hex()
    monkeypatch.setattr(ledger_bench, "_schema_name", lambda: name)
    _, databases_before = await _leftovers(name)
    result = await ledger_bench.ledger_debit_benchmark(POSTGRES_URL, cards=3, debits=60, concurrency=4)
    assert result["succeeded"] == 60 and result["verified"] is True
    assert result["debits_per_second"] > 0 and result["pgbench_tps"] > 0
    assert result["ratio"] == pytest.approx(result["debits_per_second"] / result["pgbench_tps"], rel=0.01)
    assert result["latency_ms"]["p99"] >= result["latency_ms"]["p50"] > 0
    schemas, databases = await _leftovers(name)
    assert schemas == 0
    assert databases <= databases_before  # its own scratch database is gone (others' runs may be going on)


async def test_fast_mode_command_prints_json_with_both_cases_and_ratios(tmp_path: Path) -> None:
    await _needs_postgres_and_pgbench()
    out = tmp_path / "ledger-bench.json"
    command = [sys.executable, "-m", "giftcard_devkit.ledger_bench", "--fast", "--load", "python", "--workers", "1"]
    done = await asyncio.to_thread(
        subprocess.run,
        [*command, "--url", POSTGRES_URL, "--out", str(out)],
        capture_output=True,
        text=True,
        env=devkit_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert json.loads(out.read_text()) == report
    assert report["method"]["ledger_workers"] == 1 and report["method"]["load_generator"] == "python"
    for case in ("spread", "hot"):
        figures = report[case]
        assert figures["debits_per_second"] > 0 and figures["pgbench_tps"] > 0
        assert figures["ratio"] == pytest.approx(figures["debits_per_second"] / figures["pgbench_tps"], rel=0.05)
        assert figures["p99_ms"] > 0 and figures["failed"] == 0
        assert figures["books"]["balances_equal_entries"] is True
        assert figures["books"]["redemptions"] == figures["books"]["idempotency_records"]
    assert report["hot"]["cards"] == 1 and report["hot"]["pgbench_scale"] == 1
    # The human-readable table goes to stderr, with both figures and the ratio per case.
    assert "pgbench tps" in done.stderr and "ratio" in done.stderr


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (Debian package wrk)")
def test_wrk_script_reports_json_totals() -> None:
    assert "function done(summary, latency, requests)" in ledger_bench.WRK_SCRIPT
    assert "Idempotency-Key" in ledger_bench.WRK_SCRIPT


def test_process_cpu_seconds_reads_this_process() -> None:
    import time

    before = ledger_bench.process_cpu_seconds(os.getpid())
    if before is None:
        pytest.skip("no /proc")
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    after = ledger_bench.process_cpu_seconds(os.getpid())
    assert after is not None and after >= before
    assert ledger_bench.process_cpu_seconds(2**22 + 12345) is None  # no such process

"""Pure parts of the benchmark: percentiles, per-operation division, table and JSON, HTTP parsing."""

from __future__ import annotations

import json
import math

import pytest

from giftcard_devkit.bench import _redact, format_ledger, run_ledger_part
from giftcard_devkit.bench_load import build_request, parse_head
from giftcard_devkit.bench_stats import (
    LoadRun,
    capacity_estimate,
    format_table,
    parse_proc_stat_cpu_ticks,
    parse_proc_status_kib,
    per_op,
    per_op_by_kind,
    percentile,
    rate,
    results_document,
    summarise,
    utilisation_pct,
)


def test_percentile_interpolates_like_numpy() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100, shuffled order must not matter
    values.reverse()
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 100.0


def test_percentile_edge_cases() -> None:
    assert math.isnan(percentile([], 50))
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 3.0], 50) == 2.0
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_per_op_division() -> None:
    assert per_op(800, 400) == 2.0
    assert per_op(2001, 400) == 5.003  # a token refresh shows as a fraction
    assert per_op(5, 0) is None
    assert per_op_by_kind({"GET sessions": 400, "GET carts": 400}, 400) == {"GET carts": 1.0, "GET sessions": 1.0}
    assert rate(400, 2.0) == 200.0
    assert rate(1, 0.0) == 0.0
    assert utilisation_pct(0.25, 1.0) == 25.0
    assert capacity_estimate(3000.0, 25.0) == 12000.0
    assert capacity_estimate(3000.0, 0.0) is None


def _run(n: int = 4, errors: int = 0) -> LoadRun:
    return LoadRun(
        requests=n,
        ok=n - errors,
        errors=errors,
        wall_seconds=0.5,
        latencies_ms=[1.0, 2.0, 3.0, 4.0][:n],
        generator_cpu_seconds=0.05,
        error_samples=["HTTP 500: boom"] * errors,
    )


def test_summarise_divides_by_requests() -> None:
    row = summarise(
        "POST /redeem",
        8,
        _run(),
        commercetools_calls={"GET sessions": 4, "GET carts": 4, "POST payments": 8, "POST carts": 4},
        provider_calls_per_op=2.0,
        processor_cpu_seconds=0.08,
        emulator_cpu_seconds=0.25,
    )
    assert row.rps == 8.0
    assert row.commercetools_calls_per_op == 5.0
    assert row.commercetools_calls_by_kind["POST payments"] == 2.0
    assert row.processor_cpu_ms_per_request == 20.0
    assert row.generator_cpu_pct == 10.0
    assert row.emulator_cpu_pct == 50.0
    assert row.p50_ms == 2.5
    no_stats = summarise("GET /health", 1, _run())
    assert no_stats.commercetools_calls_per_op is None
    assert no_stats.processor_cpu_ms_per_request is None


def test_table_has_header_rule_and_one_line_per_row() -> None:
    rows = [summarise("POST /balance", 1, _run(), commercetools_calls={"GET carts": 4}), summarise("x", 8, _run())]
    lines = format_table(rows).splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("scenario")
    assert "req/s" in lines[0] and "p99 ms" in lines[0] and "ct calls/op" in lines[0]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].startswith("POST /balance")
    assert lines[3].split()[-1] == "-"  # unknown emulator CPU shows as '-'
    assert len({len(line) for line in lines[:2]}) == 1


def test_results_document_is_json() -> None:
    row = summarise("POST /balance", 1, _run(), commercetools_calls={"GET carts": 4})
    document = results_document(
        scenarios=[row],
        calibration=[],
        processor_peak_rss_kib=70_000,
        provider_calls={"balance": {"provider_calls_per_op": 1.0}},
        ledger={"status": "skipped", "reason": "x"},
        environment={"cpus": 2},
    )
    data = json.loads(json.dumps(document))
    assert data["scenarios"][0]["commercetools_calls_per_op"] == 1.0
    assert data["processor"] == {"peak_rss_kib": 70_000, "peak_rss_mib": 68.4}
    assert data["ledger"]["status"] == "skipped"
    assert "latencies_ms" not in data["scenarios"][0]


def test_proc_parsers() -> None:
    assert parse_proc_status_kib("Name:\tpython\nVmHWM:\t  70852 kB\nVmRSS:\t 1 kB\n", "VmHWM") == 70852
    assert parse_proc_status_kib("Name: x\n", "VmHWM") is None
    stat = "1234 (python -m x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0"
    assert parse_proc_stat_cpu_ticks(stat) == 300


def test_http_request_and_response_head() -> None:
    request = build_request("POST", "/balance", "127.0.0.1:1", b'{"a":1}', [("X-Session-Id", "s")])
    assert request.startswith(b"POST /balance HTTP/1.1\r\nHost: 127.0.0.1:1\r\nX-Session-Id: s\r\n")
    assert request.endswith(b"Content-Length: 7\r\n\r\n" + b'{"a":1}')
    assert build_request("GET", "/health", "h").endswith(b"Host: h\r\n\r\n")
    assert parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\nconnection: close") == (200, 15, False, True)
    assert parse_head(b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked") == (404, None, True, False)


def test_ledger_part_never_crashes_and_redacts() -> None:
    part = run_ledger_part("postgresql://u:secret@127.0.0.1:1/none", debits=10)
    assert part["status"] in {"skipped", "ok"}
    assert "secret" not in json.dumps(part)
    assert _redact("postgresql://u:pw@h:5432/db") == "postgresql://u@h:5432/db"
    assert format_ledger({"status": "skipped", "reason": "why"}) == "ledger: skipped (why)"


def test_ledger_lines_flatten_nested_figures() -> None:
    part = {"status": "ok", "runs": {"hot_card": {"cards": 1, "latency_ms": {"p50": 2.5}, "statuses": {"201": 3}}}}
    assert format_ledger(part) == "ledger (PostgreSQL):\n  hot_card: cards=1, latency_ms.p50=2.5, statuses.201=3"

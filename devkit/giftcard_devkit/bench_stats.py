"""Pure parts of the benchmark: percentiles, per-operation division, the table and the JSON document."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between closest ranks (numpy's default).

    ``values`` need not be sorted. An empty sequence gives NaN.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, not {p}")
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def per_op(total: float, operations: int) -> float | None:
    """``total / operations``, rounded to 3 decimals; None when there was no operation."""
    if operations <= 0:
        return None
    return round(total / operations, 3)


def per_op_by_kind(counts: Mapping[str, int], operations: int) -> dict[str, float | None]:
    """Each count divided by the number of operations, keys sorted."""
    return {kind: per_op(counts[kind], operations) for kind in sorted(counts)}


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def utilisation_pct(cpu_seconds: float, wall_seconds: float) -> float:
    """CPU time as a percentage of wall time (100 = one core busy the whole time)."""
    return round(100 * cpu_seconds / wall_seconds, 1) if wall_seconds > 0 else 0.0


def capacity_estimate(rps: float, utilisation_percent: float) -> float | None:
    """Requests/second one fully used core of the load generator could push at this cost per request."""
    if utilisation_percent <= 0:
        return None
    return round(rps * 100 / utilisation_percent, 0)


@dataclass
class LoadRun:
    """What the load generator measured for one batch of requests."""

    requests: int
    ok: int
    errors: int
    wall_seconds: float
    latencies_ms: list[float]
    generator_cpu_seconds: float
    error_samples: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return rate(self.requests, self.wall_seconds)

    @property
    def generator_cpu_pct(self) -> float:
        return utilisation_pct(self.generator_cpu_seconds, self.wall_seconds)


@dataclass
class ScenarioResult:
    scenario: str
    clients: int
    requests: int
    ok: int
    errors: int
    wall_seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    commercetools_calls_per_op: float | None
    commercetools_calls_by_kind: dict[str, float | None]
    provider_calls_per_op: float | None
    generator_cpu_pct: float
    generator_capacity_rps: float | None
    processor_cpu_ms_per_request: float | None
    emulator_cpu_pct: float | None
    error_samples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarise(
    scenario: str,
    clients: int,
    run: LoadRun,
    *,
    commercetools_calls: Mapping[str, int] | None = None,
    provider_calls_per_op: float | None = None,
    processor_cpu_seconds: float | None = None,
    emulator_cpu_seconds: float | None = None,
) -> ScenarioResult:
    """One table row from a load run and the counters read around it."""
    ops = run.requests
    ct = dict(commercetools_calls or {})
    return ScenarioResult(
        scenario=scenario,
        clients=clients,
        requests=run.requests,
        ok=run.ok,
        errors=run.errors,
        wall_seconds=round(run.wall_seconds, 3),
        rps=run.rps,
        p50_ms=round(percentile(run.latencies_ms, 50), 2),
        p95_ms=round(percentile(run.latencies_ms, 95), 2),
        p99_ms=round(percentile(run.latencies_ms, 99), 2),
        commercetools_calls_per_op=per_op(sum(ct.values()), ops) if commercetools_calls is not None else None,
        commercetools_calls_by_kind=per_op_by_kind(ct, ops),
        provider_calls_per_op=provider_calls_per_op,
        generator_cpu_pct=run.generator_cpu_pct,
        generator_capacity_rps=capacity_estimate(run.rps, run.generator_cpu_pct),
        processor_cpu_ms_per_request=(
            round(1000 * processor_cpu_seconds / ops, 3) if processor_cpu_seconds is not None and ops else None
        ),
        emulator_cpu_pct=(
            utilisation_pct(emulator_cpu_seconds, run.wall_seconds) if emulator_cpu_seconds is not None else None
        ),
        error_samples=run.error_samples[:5],
    )


COLUMNS: tuple[tuple[str, str], ...] = (
    ("scenario", "scenario"),
    ("clients", "clients"),
    ("requests", "requests"),
    ("rps", "req/s"),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
    ("p99_ms", "p99 ms"),
    ("errors", "errors"),
    ("commercetools_calls_per_op", "ct calls/op"),
    ("provider_calls_per_op", "provider calls/op"),
    ("processor_cpu_ms_per_request", "proc CPU ms/req"),
    ("generator_cpu_pct", "loadgen CPU %"),
    ("emulator_cpu_pct", "emulator CPU %"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def format_table(rows: Iterable[ScenarioResult], columns: Sequence[tuple[str, str]] = COLUMNS) -> str:
    """A fixed-width text table: text columns left-aligned, numbers right-aligned."""
    data = [row.to_json() for row in rows]
    header = [title for _, title in columns]
    body = [[_cell(item[key]) for key, _ in columns] for item in data]
    widths = [max([len(header[i])] + [len(line[i]) for line in body]) for i in range(len(columns))]

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            out.append(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]))
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(cells) for cells in body)])


def results_document(
    *,
    scenarios: Sequence[ScenarioResult],
    calibration: Sequence[ScenarioResult],
    processor_peak_rss_kib: int | None,
    provider_calls: Mapping[str, Any] | None,
    ledger: Mapping[str, Any],
    environment: Mapping[str, Any],
) -> dict[str, Any]:
    """The JSON written to ``$BENCH_OUT`` (shape documented in docs/benchmark.md)."""
    return {
        "schema": "giftcard-connector-bench/1",
        "environment": dict(environment),
        "scenarios": [row.to_json() for row in scenarios],
        "calibration": [row.to_json() for row in calibration],
        "processor": {
            "peak_rss_kib": processor_peak_rss_kib,
            "peak_rss_mib": round(processor_peak_rss_kib / 1024, 1) if processor_peak_rss_kib is not None else None,
        },
        "provider_calls": dict(provider_calls) if provider_calls is not None else None,
        "ledger": dict(ledger),
    }


def parse_proc_status_kib(text: str, field_name: str) -> int | None:
    """A ``VmHWM:   12345 kB`` style field of /proc/<pid>/status, in KiB."""
    for line in text.splitlines():
        if line.startswith(field_name + ":"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1])
    return None


def parse_proc_stat_cpu_ticks(text: str) -> int:
    """utime + stime (clock ticks) from the text of /proc/<pid>/stat."""
    # The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
    rest = text[text.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(rest[11]) + int(rest[12])

"""A small, cheap load generator: raw HTTP/1.1 over one keep-alive socket per client, on uvloop.

It is deliberately not httpx: the generator must cost far less CPU per request than the Processor,
and it measures its own CPU time (this thread's rusage) so the report can show that it was not the
bottleneck.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from collections.abc import Sequence

import uvloop

from giftcard_devkit.bench_stats import LoadRun


def build_request(
    method: str, path: str, host: str, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()
) -> bytes:
    """One HTTP/1.1 request, ready to write on a keep-alive connection."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    if body or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def parse_head(head: bytes) -> tuple[int, int | None, bool, bool]:
    """Status, Content-Length (None if absent), chunked?, connection close? from a response head."""
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length: int | None = None
    chunked = False
    close = False
    for raw in lines[1:]:
        name, _, value = raw.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        elif key == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif key == b"connection":
            close = value.strip().lower() == b"close"
    return status, length, chunked, close


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status, length, chunked, close = parse_head(head[:-4])
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body = await reader.read()
        close = True
    return status, body, close


def _thread_cpu() -> float:
    usage = resource.getrusage(getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF))
    return usage.ru_utime + usage.ru_stime


async def _drive(
    host: str, port: int, requests: Sequence[bytes], clients: int, expected: frozenset[int]
) -> tuple[list[float], int, list[str]]:
    latencies: list[float] = []
    errors = 0
    samples: list[str] = []
    next_index = 0

    async def client() -> None:
        nonlocal next_index, errors
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        try:
            while next_index < len(requests):
                payload = requests[next_index]
                next_index += 1
                started = time.perf_counter()
                try:
                    if writer is None or reader is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    writer.write(payload)
                    status, body, close = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
                    errors += 1
                    if len(samples) < 5:
                        samples.append(f"{type(error).__name__}: {error}")
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                if status not in expected:
                    errors += 1
                    if len(samples) < 5:
                        samples.append(f"HTTP {status}: {body[:200].decode(errors='replace')}")
                if close:
                    writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors, samples


def run_load(
    host: str,
    port: int,
    requests: Sequence[bytes],
    clients: int,
    expected: frozenset[int] = frozenset({200}),
) -> LoadRun:
    """Send every request once, ``clients`` at a time (each client on its own keep-alive connection).

    Wall time and the generator's CPU time cover only the sending (the loop is created before).
    """
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        cpu0 = _thread_cpu()
        wall0 = time.perf_counter()
        latencies, errors, samples = runner.run(_drive(host, port, requests, clients, expected))
        wall = time.perf_counter() - wall0
        cpu = _thread_cpu() - cpu0
    return LoadRun(
        requests=len(requests),
        ok=len(requests) - errors,
        errors=errors,
        wall_seconds=wall,
        latencies_ms=latencies,
        generator_cpu_seconds=cpu,
        error_samples=samples,
    )

"""A fault-injecting HTTP proxy for tests: put it between the Processor and an upstream (the ledger, the
commercetools emulator) and cut chosen calls the ways a network and a server really fail.

    with FaultProxy(ledger.url) as proxy:                      # listens on 127.0.0.1, a free port
        env["LEDGER_URL"] = proxy.url
        proxy.add(Rule("POST", r"/v1/redemptions", Fault.DROP_ANSWER))
        ...                                                     # the ledger debits; the Processor sees a reset
        assert proxy.faulted("POST", r"/v1/redemptions")

Faults (see Fault): pass the request and drop the answer, answer 5xx without forwarding, delay then forward
(the client has given up by then; the upstream still acts), close the connection at once. A rule matches by
method and a path regex and applies from its `nth` matching request on, `times` times. Everything that
reached the proxy is recorded in `requests`.

It runs an aiohttp low-level server on its own event loop in a daemon thread, so both sync tests and
subprocess-based services can use it; rules are changed from the test thread under a lock.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp import web

# Headers that describe one hop of a connection, not the message (RFC 9110 section 7.6.1), plus the
# ones the proxy recomputes for the body it sends.
_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class Fault(StrEnum):
    DROP_ANSWER = "drop_answer"  # forward, let the upstream act, then reset the client's connection
    ERROR = "error"  # answer `status` (default 503) without forwarding
    DELAY = "delay"  # wait `delay` seconds, then forward and answer (to a client that has given up)
    REFUSE = "refuse"  # close the connection at once; nothing is forwarded


@dataclass
class Rule:
    method: str  # "POST", or "*" for any
    path: str  # regular expression, matched in full against the path (no query string)
    fault: Fault
    nth: int = 1  # the first matching request to fault (1 = the next one)
    times: int = 1  # how many matching requests from the nth on are faulted; 0 = all of them
    status: int = 503
    delay: float = 0.0
    matched: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)
        if self.nth < 1 or self.times < 0:
            raise ValueError("nth starts at 1 and times is 0 (all) or more")

    def applies(self, method: str, path: str) -> bool:
        """Counts a matching request and says whether this one is faulted."""
        if self.method not in ("*", method) or self._pattern.fullmatch(path) is None:
            return False
        self.matched += 1
        if self.matched < self.nth or (self.times and self.fired >= self.times):
            return False
        self.fired += 1
        return True


@dataclass(frozen=True, slots=True)
class Passed:
    """One request that reached the proxy and what became of it."""

    method: str
    path: str
    fault: Fault | None
    forwarded: bool  # the upstream received it (so it may have acted)
    status: int | None  # the upstream's answer, or the injected status; None when nothing answered


class FaultProxy:
    def __init__(self, upstream: str, *, host: str = "127.0.0.1", upstream_timeout: float = 30.0) -> None:
        self.upstream = upstream.rstrip("/")
        self._host = host
        self._upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._passed: list[Passed] = []
        self._in_flight = 0
        self._port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- control, from the test thread ---------------------------------------------------------
    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("the proxy is not started")
        return f"http://{self._host}:{self._port}"

    def add(self, *rules: Rule) -> Self:
        with self._lock:
            self._rules.extend(rules)
        return self

    def clear(self) -> Self:
        """Drop every rule (the record of requests stays; see reset)."""
        with self._lock:
            self._rules.clear()
        return self

    def reset(self) -> Self:
        """Drop every rule and forget what passed."""
        with self._lock:
            self._rules.clear()
            self._passed.clear()
        return self

    @property
    def requests(self) -> list[Passed]:
        with self._lock:
            return list(self._passed)

    def faulted(self, method: str = "*", path: str = ".*") -> list[Passed]:
        pattern = re.compile(path)
        return [
            p
            for p in self.requests
            if p.fault is not None and method in ("*", p.method) and pattern.fullmatch(p.path) is not None
        ]

    @property
    def in_flight(self) -> int:
        """Requests inside the proxy right now (being forwarded, delayed or answered)."""
        with self._lock:
            return self._in_flight

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no request is inside the proxy (a delayed one has reached the upstream and come back)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0:
                    return
            time.sleep(0.02)
        raise TimeoutError(f"requests still in the proxy after {timeout}s")

    def _rule_for(self, method: str, path: str) -> Rule | None:
        with self._lock:
            # Every rule counts the request, so each rule's `nth` means the same whatever the others do.
            hits = [rule for rule in self._rules if rule.applies(method, path)]
        return hits[0] if hits else None

    def _record(self, passed: Passed) -> None:
        with self._lock:
            self._passed.append(passed)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name=f"fault-proxy {self.upstream}", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"fault proxy did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and self._thread is not None:
            loop.call_soon_threadsafe(stopping.set)
            self._thread.join(10)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to start(); a daemon thread has no one else to tell
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        timeout = aiohttp.ClientTimeout(total=self._upstream_timeout)
        # No decompression and no cookies: the bytes the upstream sent are the bytes the client gets.
        async with aiohttp.ClientSession(
            timeout=timeout, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
        ) as session:
            self._session = session
            server = web.Server(self._handle)
            runner = web.ServerRunner(server, handle_signals=False)
            await runner.setup()
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self._host, 0))
            self._port = int(listener.getsockname()[1])
            await web.SockSite(runner, listener).start()
            self._ready.set()
            await self._stopping.wait()
            await runner.cleanup()

    # -- one request ----------------------------------------------------------------------------
    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        with self._lock:
            self._in_flight += 1
        try:
            return await self._pass(request)
        finally:
            with self._lock:
                self._in_flight -= 1

    async def _pass(self, request: web.BaseRequest) -> web.StreamResponse:
        method, path = request.method, request.path
        body = await request.read()
        rule = self._rule_for(method, path)
        fault = rule.fault if rule is not None else None
        if rule is not None and fault is Fault.REFUSE:
            self._record(Passed(method, path, fault, forwarded=False, status=None))
            return _cut(request)
        if rule is not None and fault is Fault.ERROR:
            self._record(Passed(method, path, fault, forwarded=False, status=rule.status))
            return web.json_response({"message": "injected by the fault proxy"}, status=rule.status)
        if rule is not None and fault is Fault.DELAY:
            await asyncio.sleep(rule.delay)
        # Shielded: once forwarded, the upstream's work finishes even if the client has gone.
        status, headers, content = await asyncio.shield(self._forward(request, body))
        self._record(Passed(method, path, fault, forwarded=True, status=status))
        if fault is Fault.DROP_ANSWER:
            return _cut(request)
        return web.Response(status=status, headers=headers, body=content)

    async def _forward(self, request: web.BaseRequest, body: bytes) -> tuple[int, dict[str, str], bytes]:
        headers = {name: value for name, value in request.headers.items() if name.lower() not in _HOP_HEADERS}
        async with self._session.request(
            request.method,
            self.upstream + request.rel_url.raw_path_qs,
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as answer:
            content = await answer.read()
            reply_headers = {name: value for name, value in answer.headers.items() if name.lower() not in _HOP_HEADERS}
            return answer.status, reply_headers, content


def _cut(request: web.BaseRequest) -> web.StreamResponse:
    """Reset the client's connection without an answer (the client sees the connection drop)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    # Nothing can be written on an aborted transport; aiohttp drops this answer quietly.
    return web.Response(status=499)

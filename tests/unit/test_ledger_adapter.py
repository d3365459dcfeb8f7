"""LedgerProvider at the network edge: a scripted local aiohttp server stands in for the ledger
(headers, paths, idempotency keys, correlation ids, failures, timeouts, session ownership)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from giftcard_connector.context import correlation_id
from giftcard_connector.money import Money
from giftcard_connector.providers.base import BalanceState, OperationStatus, ProviderUnavailable
from giftcard_connector.providers.ledger import LedgerProvider
from tests.support.scripted_http import ScriptedServer, json_body, json_response, text_response

EUR = Money(500, "EUR")


@pytest.fixture
async def ledger() -> AsyncIterator[tuple[ScriptedServer, str]]:
    fake = ScriptedServer(not_scripted=json_response(404, {"error": {"code": "not_scripted", "message": "?"}}))
    async with fake.serving() as base:
        # A trailing slash on the base URL must not double the one every path starts with.
        yield fake, base + "/"


@pytest.fixture
async def setup(ledger: tuple[ScriptedServer, str]) -> AsyncIterator[tuple[ScriptedServer, LedgerProvider]]:
    fake, base = ledger
    provider = LedgerProvider(base, "glk_secret", timeout=2.0)
    try:
        yield fake, provider
    finally:
        await provider.aclose()


def test_pin_field_is_optional_by_default_and_can_be_required() -> None:
    # Built outside any event loop: the provider must not create its aiohttp session here.
    default = LedgerProvider("http://ledger.test/", "k", 1.0)
    assert (default.requires_pin, default.supports_pin) == (False, True)
    assert LedgerProvider("http://ledger.test/", "k", 1.0, requires_pin=True).requires_pin is True
    assert LedgerProvider("http://ledger.test/", "k", 1.0).name == "ledger"


async def test_redeem_sends_key_idempotency_and_body(setup: tuple[ScriptedServer, LedgerProvider]) -> None:
    fake, provider = setup
    fake.on("POST", "/v1/redemptions", json_response(201, {"id": "red_1"}))
    result = await provider.redeem("ABCD-EFGH", "1234", EUR, "pay-1:redeem")
    assert result.status is OperationStatus.SUCCESS and result.reference == "red_1"
    request, body = fake.last("POST", "/v1/redemptions")
    assert request.headers["Authorization"] == "Bearer glk_secret"
    assert request.headers["Idempotency-Key"] == "pay-1:redeem"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert orjson.loads(body) == {
        "code": "ABCD-EFGH",
        "pin": "1234",
        "amount": {"centAmount": 500, "currencyCode": "EUR"},
    }


async def test_each_operation_uses_its_route(setup: tuple[ScriptedServer, LedgerProvider]) -> None:
    fake, provider = setup
    fake.on("POST", "/v1/holds", json_response(201, {"id": "hld_1"}))
    fake.on("POST", "/v1/holds/hld_1/capture", json_response(201, {"id": "red_2"}))
    fake.on("POST", "/v1/holds/hld_1/void", json_response(200, {"id": "hld_1"}))
    fake.on("POST", "/v1/redemptions/red_2/refunds", json_response(201, {"id": "rfd_1"}))
    assert (await provider.authorize("C", None, EUR, "k1")).reference == "hld_1"
    assert (await provider.capture("hld_1", EUR, "k2")).reference == "red_2"
    assert (await provider.void("hld_1", "k3")).succeeded
    assert (await provider.refund("red_2", EUR, "k4")).reference == "rfd_1"
    hold, hold_body = fake.last("POST", "/v1/holds")
    capture, capture_body = fake.last("POST", "/v1/holds/hld_1/capture")
    void, void_body = fake.last("POST", "/v1/holds/hld_1/void")
    refund, refund_body = fake.last("POST", "/v1/redemptions/red_2/refunds")
    assert orjson.loads(capture_body) == {"amount": {"centAmount": 500, "currencyCode": "EUR"}}
    assert orjson.loads(refund_body) == {"amount": {"centAmount": 500, "currencyCode": "EUR"}}
    assert orjson.loads(hold_body) == {"code": "C", "amount": EUR.to_json()}
    assert void_body == b""
    assert [r.headers["Idempotency-Key"] for r in (hold, capture, void, refund)] == ["k1", "k2", "k3", "k4"]


async def test_reads_carry_no_idempotency_key(setup: tuple[ScriptedServer, LedgerProvider]) -> None:
    fake, provider = setup
    fake.on("POST", "/v1/cards/balance", json_response(200, {"card": {"available": EUR.to_json()}}))
    fake.on("GET", "/v1/health", json_response(200, {"status": "ok"}))
    assert (await provider.balance("C", None)).amount == EUR
    assert (await provider.health()).up
    assert "Idempotency-Key" not in fake.last("POST", "/v1/cards/balance")[0].headers
    assert "Idempotency-Key" not in fake.last("GET", "/v1/health")[0].headers


async def test_every_call_carries_the_correlation_id(setup: tuple[ScriptedServer, LedgerProvider]) -> None:
    fake, provider = setup
    fake.on("POST", "/v1/cards/balance", json_response(200, {"card": {"available": EUR.to_json()}}))
    fake.on("POST", "/v1/redemptions", json_response(201, {"id": "red_1"}))
    fake.on("GET", "/v1/health", json_response(200, {"status": "ok"}))

    async def calls() -> None:
        correlation_id.set("corr-ledger-42")
        await provider.balance("C", None)
        await provider.redeem("C", None, EUR, "k")
        await provider.health()

    # In its own task, so the correlation id set here does not leak into other tests' context.
    await asyncio.create_task(calls())
    assert len(fake.requests) == 3
    assert all(request.headers["X-Correlation-ID"] == "corr-ledger-42" for _, request, _ in fake.requests)


async def test_references_are_escaped_in_paths(setup: tuple[ScriptedServer, LedgerProvider]) -> None:
    fake, provider = setup
    fake.on("POST", "/v1/holds/a%2Fb/void", json_response(404, {"error": {"code": "not_found"}}))
    result = await provider.void("a/b", "k")
    assert fake.last("POST", "/v1/holds/a%2Fb/void") and result.reason is BalanceState.NOT_FOUND


async def test_balance_maps_refusals(setup: tuple[ScriptedServer, LedgerProvider]) -> None:
    fake, provider = setup
    fake.on(
        "POST",
        "/v1/cards/balance",
        json_response(422, {"error": {"code": "card_expired", "message": "card has expired"}}),
    )
    result = await provider.balance("C", None)
    assert result.state is BalanceState.EXPIRED


async def test_redeem_maps_refusals_to_failure(setup: tuple[ScriptedServer, LedgerProvider]) -> None:
    fake, provider = setup
    refusal = {
        "error": {"code": "insufficient_funds", "details": {"available": {"centAmount": 0, "currencyCode": "EUR"}}}
    }
    fake.on("POST", "/v1/redemptions", json_response(422, refusal))
    result = await provider.redeem("C", None, EUR, "k")
    assert result.status is OperationStatus.FAILURE and result.reason is BalanceState.ZERO_BALANCE


async def _redeem_fails(provider: LedgerProvider) -> ProviderUnavailable:
    with pytest.raises(ProviderUnavailable) as raised:
        await provider.redeem("SECRETCODE", "9876", EUR, "k")
    assert "SECRETCODE" not in str(raised.value) and "9876" not in str(raised.value)
    return raised.value


async def test_refused_connection_raises_provider_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on any more
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = LedgerProvider(f"http://127.0.0.1:{port}", "k", 1.0)
    try:
        assert "unreachable" in str(await _redeem_fails(provider))
    finally:
        await provider.aclose()


async def _raw_server(on_connection: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]) -> asyncio.Server:
    return await asyncio.start_server(on_connection, "127.0.0.1", 0)


@pytest.mark.parametrize(
    "reply",
    [
        b"garbage\r\n\r\n",  # not HTTP at all
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{",  # cut off mid-body
        b"",  # connection closed without an answer
    ],
)
async def test_broken_answers_raise_provider_unavailable(reply: bytes) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await _raw_server(answer)
    port = server.sockets[0].getsockname()[1]
    provider = LedgerProvider(f"http://127.0.0.1:{port}", "k", 1.0)
    try:
        await _redeem_fails(provider)
    finally:
        await provider.aclose()
        server.close()
        await server.wait_closed()


async def test_a_slow_server_times_out(ledger: tuple[ScriptedServer, str]) -> None:
    fake, base = ledger

    async def slow(_: web.Request, __: bytes) -> web.Response:
        await asyncio.sleep(3)
        return json_body(201, {"id": "red_1"})

    fake.on("POST", "/v1/redemptions", slow)
    provider = LedgerProvider(base, "k", 0.3)
    try:
        started = asyncio.get_running_loop().time()
        await _redeem_fails(provider)
        assert asyncio.get_running_loop().time() - started < 2
    finally:
        await provider.aclose()


async def test_the_timeout_applies_to_a_given_session_too(ledger: tuple[ScriptedServer, str]) -> None:
    fake, base = ledger

    async def slow(_: web.Request, __: bytes) -> web.Response:
        await asyncio.sleep(3)
        return json_body(200, {"status": "ok"})

    fake.on("GET", "/v1/health", slow)
    async with aiohttp.ClientSession() as session:  # aiohttp's default timeout is five minutes
        provider = LedgerProvider(base, "k", 0.3, client=session)
        started = asyncio.get_running_loop().time()
        down = await provider.health()
        assert not down.up and "unreachable" in (down.message or "")
        assert asyncio.get_running_loop().time() - started < 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_raise_provider_unavailable(
    setup: tuple[ScriptedServer, LedgerProvider], status: int
) -> None:
    fake, provider = setup
    fake.on("POST", "/v1/cards/balance", text_response(status, "oops"))
    with pytest.raises(ProviderUnavailable):
        await provider.balance("C", None)


async def test_non_json_answer_raises_provider_unavailable(setup: tuple[ScriptedServer, LedgerProvider]) -> None:
    fake, provider = setup
    fake.on("POST", "/v1/redemptions", text_response(201, "<html>proxy</html>"))
    assert "not JSON" in str(await _redeem_fails(provider))


@pytest.mark.parametrize("status", [401, 403, 408, 429])
async def test_unusable_statuses_raise_provider_unavailable(
    setup: tuple[ScriptedServer, LedgerProvider], status: int
) -> None:
    fake, provider = setup
    fake.on("POST", "/v1/redemptions", json_response(status, {"error": {"code": "unauthorized"}}))
    await _redeem_fails(provider)


async def test_redirects_are_not_followed(setup: tuple[ScriptedServer, LedgerProvider]) -> None:
    fake, provider = setup

    def redirect(_: web.Request, __: bytes) -> web.Response:
        return web.Response(status=307, headers={"Location": "/elsewhere"})

    fake.on("POST", "/v1/redemptions", redirect)
    fake.on("POST", "/elsewhere", json_response(201, {"id": "red_1"}))
    await _redeem_fails(provider)
    assert [key for key, _, _ in fake.requests] == ["POST /v1/redemptions"]


async def test_health(setup: tuple[ScriptedServer, LedgerProvider]) -> None:
    fake, provider = setup
    fake.on(
        "GET",
        "/v1/health",
        json_response(200, {"status": "ok", "database": "ok", "apiKey": "valid", "role": "processor"}),
        json_response(200, {"status": "ok", "database": "ok", "apiKey": "invalid"}),
        json_response(503, {"status": "unavailable"}),
    )
    up = await provider.health()
    assert up.up and up.details == {"database": "ok", "role": "processor"}
    assert fake.last("GET", "/v1/health")[0].headers["Authorization"] == "Bearer glk_secret"
    invalid = await provider.health()
    assert not invalid.up and invalid.message == "ledger rejects the configured API key"
    assert not (await provider.health()).up


async def test_health_reports_an_unreachable_ledger() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = LedgerProvider(f"http://127.0.0.1:{port}", "k", 1.0)
    try:
        down = await provider.health()
        assert not down.up and down.message
    finally:
        await provider.aclose()


async def test_uses_a_given_session_and_leaves_it_open(ledger: tuple[ScriptedServer, str]) -> None:
    fake, base = ledger
    fake.on("GET", "/v1/health", json_response(200, {"status": "ok"}))
    async with aiohttp.ClientSession() as session:
        provider = LedgerProvider(base, "k", 1.0, client=session)
        assert (await provider.health()).up
        await provider.aclose()
        assert not session.closed
        assert (await provider.health()).up  # still usable: the session is the caller's


async def test_a_session_it_created_is_reused_and_closed_by_aclose(ledger: tuple[ScriptedServer, str]) -> None:
    fake, base = ledger
    fake.on("GET", "/v1/health", json_response(200, {"status": "ok"}))
    provider = LedgerProvider(base, "k", 1.0)
    assert provider._client is None  # created lazily, inside the running loop
    assert (await provider.health()).up
    session = provider._client
    assert isinstance(session, aiohttp.ClientSession) and not session.closed
    assert (await provider.health()).up
    assert provider._client is session  # one pooled session, not one per call
    await provider.aclose()
    assert session.closed
    await provider.aclose()  # closing twice is harmless

"""The commercetools client at the network edge: a scripted local HTTP server stands in for
commercetools (token cache, 401 refresh, retries only where idempotent, 409 re-read, timeouts)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest
from aiohttp import web

from giftcard_connector.commercetools.client import CommercetoolsClient, CommercetoolsConfig
from giftcard_connector.context import correlation_id
from giftcard_connector.errors import ServiceUnavailable, UpstreamError
from tests.support.scripted_http import ScriptedServer, json_body, json_response

TOKEN = json_response(200, {"access_token": "tok", "expires_in": 3600, "scope": "manage_project:proj"})


@pytest.fixture
async def fake() -> AsyncIterator[tuple[ScriptedServer, str]]:
    server = ScriptedServer()
    server.on("POST", "/oauth/token", TOKEN)
    async with server.serving() as base:
        yield server, base


@pytest.fixture
async def setup(fake) -> AsyncIterator[tuple[ScriptedServer, CommercetoolsClient]]:
    server, base = fake
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1.5)) as http:
        yield server, CommercetoolsClient(CommercetoolsConfig("proj", "id", "secret", base, base, base), http)


async def test_token_is_fetched_once_and_reused(setup):
    server, client = setup
    server.on("GET", "/proj/payments/p1", json_response(200, {"id": "p1"}))
    await client.get_payment("p1")
    await client.get_payment("p1")
    assert server.count("POST", "/oauth/token") == 1
    token_request = next(r for k, r, _ in server.requests if k == "POST /oauth/token")
    assert token_request.headers["Authorization"].startswith("Basic ")


async def test_a_401_refreshes_the_token_once(setup):
    server, client = setup
    server.on("GET", "/proj/payments/p1", json_response(401), json_response(200, {"id": "p1"}))
    assert (await client.get_payment("p1"))["id"] == "p1"
    assert server.count("POST", "/oauth/token") == 2


async def test_idempotent_reads_retry_on_503(setup):
    server, client = setup
    server.on("GET", "/proj/payments/p1", json_response(503), json_response(200, {"id": "p1"}))
    await client.get_payment("p1")
    assert server.count("GET", "/proj/payments/p1") == 2


async def test_creates_are_not_retried(setup):
    server, client = setup
    server.on("POST", "/proj/payments", json_response(503))
    with pytest.raises(UpstreamError) as caught:
        await client.create_payment({"amountPlanned": {}})
    assert server.count("POST", "/proj/payments") == 1
    assert caught.value.status_code == 502


async def test_conflict_rereads_and_retries_with_the_new_version(setup):
    server, client = setup
    sent_versions: list[int] = []

    def update(_: web.Request, body: bytes) -> web.Response:
        version = orjson.loads(body)["version"]
        sent_versions.append(version)
        if version == 1:
            return json_body(409, {"errors": [{"code": "ConcurrentModification", "currentVersion": 3}]})
        return json_body(200, {"id": "p1", "version": version + 1})

    server.on("GET", "/proj/payments/p1", json_response(200, {"id": "p1", "version": 3}))
    server.on("POST", "/proj/payments/p1", update)
    result = await client.update_payment({"id": "p1", "version": 1}, [{"action": "setInterfaceId"}])
    assert sent_versions == [1, 3]
    assert result["version"] == 4


async def test_upstream_errors_keep_status_and_errors_list(setup):
    server, client = setup
    errors = [{"code": "InvalidInput", "message": "bad"}, {"code": "Other", "message": "worse"}]
    server.on("GET", "/proj/payments/p1", json_response(400, {"message": "bad", "errors": errors}))
    with pytest.raises(UpstreamError) as caught:
        await client.get_payment("p1")
    assert caught.value.status_code == 400
    assert caught.value.body()["errors"] == errors


async def test_timeouts_become_504_after_retries(setup):
    server, client = setup

    async def slow(_: web.Request, __: bytes) -> web.Response:
        await asyncio.sleep(4)
        return json_body(200, {"id": "p1"})

    server.on("GET", "/proj/payments/p1", slow)
    with pytest.raises(ServiceUnavailable) as caught:
        await client.get_payment("p1")
    assert caught.value.status_code == 504
    assert server.count("GET", "/proj/payments/p1") == 3  # one try and two retries of an idempotent read


async def test_every_call_carries_the_correlation_id_and_expands_payments(setup):
    server, client = setup
    correlation_id.set("corr-42")
    server.on("GET", "/proj/carts/c1", json_response(200, {"id": "c1"}))
    await client.get_cart("c1")
    assert all(r.headers["X-Correlation-ID"] == "corr-42" for _, r, _ in server.requests)
    cart_request = next(r for k, r, _ in server.requests if k == "GET /proj/carts/c1")
    assert cart_request.query["expand"] == "paymentInfo.payments[*]"


async def test_refused_credentials_are_a_502_not_a_crash(setup):
    server, client = setup
    server.on("POST", "/oauth/token", json_response(401, {"error": "invalid_client"}))
    with pytest.raises(ServiceUnavailable) as caught:
        await client.get_payment("p1")
    assert caught.value.status_code == 502


async def test_unknown_session_is_none(setup):
    server, client = setup
    server.on("GET", "/proj/sessions/s1", json_response(404))
    assert await client.get_session("s1") is None

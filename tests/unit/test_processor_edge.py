"""The Processor's request edge: NUL bytes, the body-size cap and the catch-all 500, in-process.

Upstreams point at a closed port: every answer here is made before any upstream call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request

from giftcard_connector.app import create_app
from giftcard_connector.http import MAX_BODY_BYTES
from giftcard_connector.settings import Settings

SHOP = "https://shop.example"
NOWHERE = "http://127.0.0.1:9"


def settings() -> Settings:
    return Settings(
        CTP_PROJECT_KEY="shop",
        CTP_CLIENT_ID="id",
        CTP_CLIENT_SECRET="secret",
        CTP_AUTH_URL=NOWHERE,
        CTP_API_URL=NOWHERE,
        CTP_SESSION_URL=NOWHERE,
        CTP_JWKS_URL=f"{NOWHERE}/jwks",
        CTP_JWT_ISSUER="https://mc.example",
        CORS_ALLOWED_ORIGINS=[SHOP],
    )


def with_test_routes(app: FastAPI) -> FastAPI:
    @app.get("/__boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    @app.post("/__echo-length")
    async def echo_length(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = with_test_routes(create_app(settings()))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://processor") as http:
        yield http


def assert_error_body(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["statusCode"] == status
    assert body["errors"][0]["code"] == code
    assert body["message"] == body["errors"][0]["message"]
    assert "Traceback" not in response.text


async def test_an_exception_answers_500_with_correlation_id_and_cors(client: httpx.AsyncClient) -> None:
    response = await client.get("/__boom", headers={"Origin": SHOP, "X-Correlation-ID": "corr-500"})
    assert_error_body(response, 500, "General")
    assert response.headers["x-correlation-id"] == "corr-500"
    assert response.headers["access-control-allow-origin"] == SHOP
    assert "a bug" not in response.text


async def test_a_declared_oversize_body_is_413_before_anything_else(client: httpx.AsyncClient) -> None:
    # No session header either: the size answer comes first, without reading the body or calling out.
    response = await client.post(
        "/balance", content=b"{" + b" " * MAX_BODY_BYTES + b"}", headers={"Origin": SHOP, "X-Correlation-ID": "big"}
    )
    assert_error_body(response, 413, "PayloadTooLarge")
    assert response.headers["x-correlation-id"] == "big"
    assert response.headers["access-control-allow-origin"] == SHOP


async def test_a_streamed_oversize_body_is_cut_at_the_cap(client: httpx.AsyncClient) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(1000):  # 8 MB offered, no Content-Length (chunked)
            sent += 8192
            yield b" " * 8192

    response = await client.post("/__echo-length", content=chunks(), headers={"Origin": SHOP})
    assert_error_body(response, 413, "PayloadTooLarge")
    assert response.headers["access-control-allow-origin"] == SHOP
    assert sent < 1000 * 8192  # the rest of the stream was never pulled


async def test_a_body_at_the_cap_is_read(client: httpx.AsyncClient) -> None:
    response = await client.post("/__echo-length", content=b" " * MAX_BODY_BYTES)
    assert response.status_code == 200
    assert response.json() == {"length": MAX_BODY_BYTES}


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/balance%00", {}),
        ("/health?x=%00", {}),
        ("/health?x=a%00b", {}),
        ("/operations/payment-intents/pay%00ment", {}),
        ("/balance", {"X-Session-Id": "abc\x00def"}),
    ],
    ids=["path", "query", "query-inner", "path-param", "header"],
)
async def test_nul_bytes_are_refused_at_the_edge(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> None:
    response = await client.post(path, content=b"{}", headers={"Origin": SHOP, **headers})
    assert_error_body(response, 400, "InvalidInput")
    assert response.headers["access-control-allow-origin"] == SHOP


async def test_unknown_route_keeps_the_contract_body(client: httpx.AsyncClient) -> None:
    assert_error_body(await client.get("/no/such/route"), 404, "ResourceNotFound")


@pytest.mark.parametrize("sent", [b"abc\x01def", b"caf\xe9", b"with space", b"\x7f"])
async def test_a_correlation_id_with_control_or_non_ascii_bytes_is_replaced(
    client: httpx.AsyncClient, sent: bytes
) -> None:
    # It is passed on to commercetools and the provider as a header; aiohttp refuses control characters.
    response = await client.get("/health", headers={"X-Correlation-ID": sent})
    assert response.status_code == 200
    echoed = response.headers["x-correlation-id"]
    assert echoed.encode() != sent and len(echoed) == 36  # a fresh UUID


async def test_a_visible_ascii_correlation_id_is_kept_up_to_128_characters(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Correlation-ID": "order-42/" + "x" * 200})
    assert response.headers["x-correlation-id"] == ("order-42/" + "x" * 200)[:128]

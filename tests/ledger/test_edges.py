"""The ledger's edge: bad input is a 400 (never an outage), a real outage is a 503, a bug is a 500,
a NUL byte or an over-size body is refused before any work, and no OpenAPI document is served.

Runs on SQLite and PostgreSQL (the `ledger` and `database` fixtures), with the real drivers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from giftcard_connector.ledger.api import MAX_BODY_BYTES, create_app
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.dberrors import Cause, classify
from giftcard_connector.ledger.service import LedgerService
from tests.ledger.support import SECRET, LedgerClient, eur, idem


def assert_ledger_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert "Traceback" not in response.text
    return error


async def raw_post(ledger: LedgerClient, path: str, content: bytes, **headers: str) -> httpx.Response:
    sent = {"Authorization": f"Bearer {ledger.admin_key}", "Idempotency-Key": idem(), **headers}
    return await ledger.http.post(path, content=content, headers=sent)


# -- what the database drivers raise, classified ------------------------------------------------


async def driver_error(database: Database, sql: str, **params: Any) -> BaseException:
    try:
        async with database.transaction() as session:
            await session.execute(text(sql), params)
    except Exception as error:
        return error
    raise AssertionError(f"{sql} with {params!r} did not fail")


async def test_input_the_database_cannot_store_is_classified_as_input(database: Database) -> None:
    if database.is_sqlite:
        # SQLite stores NUL bytes; it refuses integers beyond 64 bits and lone surrogates.
        errors = [
            await driver_error(database, "SELECT :a", a=10**20),
            await driver_error(database, "SELECT :a", a="\ud800"),
        ]
    else:
        errors = [
            await driver_error(database, "SELECT CAST(:a AS text)", a="x\x00y"),
            await driver_error(database, "SELECT CAST(:a AS bigint)", a=10**20),
            await driver_error(database, "SELECT CAST(:a AS text)", a="\ud800"),
            await driver_error(database, "SELECT CAST(:a AS integer)", a="12x"),
        ]
    assert [classify(error) for error in errors] == [Cause.INPUT] * len(errors)


async def test_a_mistake_in_our_sql_is_a_bug_not_an_outage(database: Database) -> None:
    assert classify(await driver_error(database, "SELECT * FROM no_such_table")) is Cause.BUG


async def test_an_unreachable_database_is_an_outage() -> None:
    database = Database("postgresql://postgres@127.0.0.1:1/test")
    try:
        error = await driver_error(database, "SELECT 1")
    finally:
        await database.dispose()
    assert classify(error) is Cause.OUTAGE


# -- through the HTTP API ---------------------------------------------------------------------


async def test_nul_in_an_id_is_400_at_the_edge(ledger: LedgerClient) -> None:
    """The reported bug: `POST /v1/holds/%00/capture` answered 503 "database unavailable"."""
    response = await ledger.post("/v1/holds/%00/capture")
    assert_ledger_error(response, 400, "invalid_request")
    assert_ledger_error(
        await ledger.post("/v1/redemptions/red_%00/refunds", {"amount": eur(1)}), 400, "invalid_request"
    )


async def test_nul_in_stored_text_is_never_an_outage(ledger: LedgerClient, database: Database) -> None:
    code = await ledger.issue(1000)
    body = {"code": code, "amount": eur(5), "note": "goodwill\u0000credit"}
    response = await ledger.admin("/v1/cards/adjust", body)
    if database.is_sqlite:  # SQLite stores NUL in text as sent
        assert response.status_code == 200, response.text
        return
    # PostgreSQL cannot store NUL in text: 400 with the error body, and nothing written.
    assert_ledger_error(response, 400, "invalid_request")
    await ledger.assert_consistent(code, 1000)


@pytest.mark.parametrize("path", ["/v1/cards/balance", "/v1/redemptions", "/v1/holds"])
async def test_a_code_longer_than_any_real_one_is_not_found(ledger: LedgerClient, path: str) -> None:
    code = await ledger.issue(1000)
    body = {"code": code + "-" + "A" * 300, "amount": eur(100)}
    assert_ledger_error(await ledger.post(path, body), 404, "not_found")
    await ledger.assert_consistent(code, 1000)


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("/v1/cards/balance", b'{"code": "\\ud800"}'),
        ("/v1/cards/lookup", b'{"code": "ABCD\\udfff"}'),
        ("/v1/cards", b'{"amount": {"centAmount": 1, "currencyCode": "EUR"}, "pin": "\\ud800"}'),
    ],
    ids=["balance", "lookup", "issue-pin"],
)
async def test_lone_surrogates_are_400(ledger: LedgerClient, path: str, content: bytes) -> None:
    response = await raw_post(ledger, path, content)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] in {"invalid_request", "not_found"}


async def test_a_bug_is_500_with_the_error_body(ledger: LedgerClient, service: LedgerService, monkeypatch) -> None:
    async def broken(*_: Any) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(service, "balance", broken)
    response = await ledger.post("/v1/cards/balance", {"code": "ABCD"}, idempotency=None)
    assert_ledger_error(response, 500, "internal_error")
    assert "secret detail" not in response.text


@pytest.fixture
async def unreachable_ledger() -> AsyncIterator[httpx.AsyncClient]:
    database = Database("postgresql://postgres@127.0.0.1:1/test")
    app = create_app(LedgerService(database, SECRET))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ledger") as http:
            yield http
    finally:
        await database.dispose()


async def test_a_real_outage_is_still_503(unreachable_ledger: httpx.AsyncClient) -> None:
    response = await unreachable_ledger.post(
        "/v1/cards/balance", json={"code": "ABCD"}, headers={"Authorization": "Bearer glk_whatever"}
    )
    assert_ledger_error(response, 503, "unavailable")


async def test_a_declared_oversize_body_is_413(ledger: LedgerClient) -> None:
    response = await raw_post(ledger, "/v1/cards", b"{" + b" " * MAX_BODY_BYTES + b"}")
    assert_ledger_error(response, 413, "payload_too_large")


async def test_a_streamed_oversize_body_is_413(ledger: LedgerClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"code": "'
        for _ in range(100):
            yield b"A" * 8192

    response = await ledger.http.post(
        "/v1/cards/lookup",
        content=chunks(),
        headers={"Authorization": f"Bearer {ledger.admin_key}"},
    )
    assert_ledger_error(response, 413, "payload_too_large")


async def test_no_openapi_document_is_served(ledger: LedgerClient) -> None:
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert_ledger_error(await ledger.http.get(path), 404, "not_found")

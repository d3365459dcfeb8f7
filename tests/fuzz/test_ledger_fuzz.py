"""Fuzzing every ledger route in-process on SQLite and PostgreSQL (the real drivers: PostgreSQL refuses
NUL bytes and out-of-range numbers that SQLite stores): never a 5xx, never a traceback, every 4xx the
ledger's error body. Bodies are fuzzed with a valid API key, so they reach validation and the database."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from giftcard_connector.ledger.api import create_app
from giftcard_connector.ledger.apikeys import Role, create_key
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.service import LedgerService
from tests.fuzz.checks import check_ledger_answer
from tests.fuzz.conftest import FUZZ
from tests.fuzz.harness import InProcessApp, LoopThread
from tests.fuzz.strategies import EXTRA_HEADERS, METHODS, NASTY_TEXT, PATH_SEGMENTS, bodies
from tests.ledger.conftest import _postgres_schema, _postgres_unavailable
from tests.ledger.support import SECRET, FakeClock

MONEY = {"centAmount": 100, "currencyCode": "EUR"}


class Ledger:
    """The served ledger, its keys, and real ids for the path parameters."""

    def __init__(self, served: InProcessApp, service: LedgerService) -> None:
        self.served = served
        self.service = service
        self.keys: dict[str, str] = {}
        self.ids: dict[str, str] = {}
        self.code = ""

    async def seed(self) -> None:
        now = FakeClock()()
        async with self.service.database.transaction() as session:
            self.keys["admin"], _ = await create_key(session, Role.ADMIN, "fuzz admin", now)
            self.keys["processor"], _ = await create_key(session, Role.PROCESSOR, "fuzz processor", now)
        admin = {"Authorization": f"Bearer {self.keys['admin']}"}
        client = self.served.client
        issued = await client.post(
            "/v1/cards",
            json={"amount": {"centAmount": 10**9, "currencyCode": "EUR"}, "pin": "1234"},
            headers={**admin, "Idempotency-Key": "seed-issue"},
        )
        assert issued.status_code == 201, issued.text
        self.code = issued.json()["cards"][0]["code"]
        card = {"code": self.code, "pin": "1234", "amount": MONEY}
        hold = await client.post("/v1/holds", json=card, headers={**admin, "Idempotency-Key": "seed-hold"})
        redeemed = await client.post("/v1/redemptions", json=card, headers={**admin, "Idempotency-Key": "seed-red"})
        assert hold.status_code < 300 and redeemed.status_code < 300, (hold.text, redeemed.text)
        self.ids["{hold_id}"] = _id(hold.json(), "hld_")
        self.ids["{redemption_id}"] = _id(redeemed.json(), "red_")

    def body_template(self) -> dict[str, Any]:
        # One superset of every ledger body's fields; each route reads the ones it knows.
        return {"code": self.code, "pin": "1234", "amount": MONEY, "note": "fuzz", "expiresAt": "2030-01-31"}


def _id(body: Any, prefix: str) -> str:
    """The first string value starting with `prefix` anywhere in an answer."""
    if isinstance(body, str) and body.startswith(prefix):
        return body
    values = body.values() if isinstance(body, dict) else body if isinstance(body, list) else []
    for value in values:
        found = _id(value, prefix)
        if found:
            return found
    return ""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    loop = LoopThread()
    schema = None
    try:
        if request.param == "postgres":
            reason = loop.run(_postgres_unavailable())
            if reason:
                pytest.fail(reason) if os.environ.get("CI") == "true" else pytest.skip(reason)
            schema = _postgres_schema()
            target = loop.run(anext(schema))
            database = Database(target.url, schema=target.schema)
        else:
            database = Database(f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'ledger.sqlite3'}")
        loop.run(migrate(database))
        service = LedgerService(database, SECRET)
        ledger = Ledger(InProcessApp(loop, create_app(service), "http://ledger.test"), service)
        loop.run(ledger.served.start())
        try:
            loop.run(ledger.seed())
            yield ledger
        finally:
            loop.run(ledger.served.stop())
            loop.run(database.dispose())
    finally:
        if schema is not None:
            loop.run(schema.aclose())  # drops the schema
        loop.close()


def ledger_routes(ledger: Ledger) -> list[tuple[str, str]]:
    """(method, path) of every API route, from the app's OpenAPI model (built in-process; not served)."""
    paths = ledger.served.app.openapi()["paths"]
    return sorted((method.upper(), path) for path, operations in paths.items() for method in operations)


def test_the_ledger_serves_the_routes_this_module_knows(ledger: Ledger) -> None:
    paths = {path for _, path in ledger_routes(ledger)}
    assert "/v1/cards/balance" in paths and "/v1/holds/{hold_id}/capture" in paths
    assert all(not path.startswith(("/openapi", "/docs", "/redoc")) for path in paths)
    assert {param for path in paths for param in ledger.ids if param in path} == set(ledger.ids)


def _path(ledger: Ledger, template: str, segment: str | None) -> str:
    path = template
    for param, real in ledger.ids.items():
        path = path.replace(param, segment if segment is not None else real)
    return path


@FUZZ
@given(data=st.data(), segment=st.one_of(st.none(), st.none(), PATH_SEGMENTS))
def test_every_route_with_a_valid_key(ledger: Ledger, data: st.DataObject, segment: str | None) -> None:
    method, template = data.draw(st.sampled_from(ledger_routes(ledger)), label="route")
    body = data.draw(bodies(ledger.body_template()), label="body")
    headers: dict[str, Any] = {
        "Authorization": f"Bearer {ledger.keys[data.draw(st.sampled_from(['admin', 'processor']), label='key')]}",
        "Idempotency-Key": data.draw(st.one_of(st.uuids().map(str), st.text(max_size=300)), label="idempotency"),
        "Content-Type": "application/json",
    }
    headers["Idempotency-Key"] = headers["Idempotency-Key"].encode("utf-8", "surrogatepass")
    path = _path(ledger, template, segment)
    if template == "/v1/operations":
        path += "?idempotencyKey=" + data.draw(PATH_SEGMENTS, label="query")
    response = ledger.served.request(method, path, content=body if method != "GET" else b"", headers=headers)
    check_ledger_answer(response)


@FUZZ
@given(
    data=st.data(),
    method=METHODS,
    segment=PATH_SEGMENTS,
    headers=EXTRA_HEADERS,
    body=st.one_of(st.just(b""), bodies({"code": "x"})),
)
def test_any_method_any_headers_any_path(
    ledger: Ledger, data: st.DataObject, method: str, segment: str, headers: dict[str, bytes], body: bytes
) -> None:
    _, template = data.draw(st.sampled_from(ledger_routes(ledger)), label="route")
    path = data.draw(st.sampled_from([_path(ledger, template, segment), f"/v1/{segment}", f"/{segment}"]))
    response = ledger.served.request(
        method, path, content=body if method not in ("GET", "HEAD") else b"", headers=headers
    )
    check_ledger_answer(response)


@FUZZ
@given(note=NASTY_TEXT | st.text(max_size=200), cent_amount=st.integers(min_value=-5, max_value=5).filter(bool))
def test_stored_free_text_never_looks_like_an_outage(ledger: Ledger, note: str, cent_amount: int) -> None:
    """The one free text the ledger stores as sent (an adjustment's note): PostgreSQL refuses NUL bytes
    and every driver refuses lone surrogates; either is the caller's mistake (400), not a 503."""
    body = json.dumps(
        {"code": ledger.code, "amount": {"centAmount": cent_amount, "currencyCode": "EUR"}, "note": note}
    ).encode("utf-8", "surrogatepass")
    headers = {
        "Authorization": f"Bearer {ledger.keys['admin']}",
        "Idempotency-Key": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    response = ledger.served.request("POST", "/v1/cards/adjust", content=body, headers=headers)
    check_ledger_answer(response)
    assert response.status_code in (200, 400, 422), response.text

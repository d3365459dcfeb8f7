"""LedgerProvider I/O with respx: headers, paths, idempotency keys and failures."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from giftcard_connector.money import Money
from giftcard_connector.providers.base import BalanceState, OperationStatus, ProviderUnavailable
from giftcard_connector.providers.ledger import LedgerProvider

BASE = "http://ledger.test/"
EUR = Money(500, "EUR")


@pytest.fixture
async def provider() -> LedgerProvider:
    return LedgerProvider(BASE, "glk_secret", timeout=2.0)


def test_pin_field_is_optional_by_default_and_can_be_required() -> None:
    default = LedgerProvider(BASE, "k", 1.0)
    assert (default.requires_pin, default.supports_pin) == (False, True)
    assert LedgerProvider(BASE, "k", 1.0, requires_pin=True).requires_pin is True
    assert LedgerProvider(BASE, "k", 1.0).name == "ledger"


@respx.mock
async def test_redeem_sends_key_idempotency_and_body(provider: LedgerProvider) -> None:
    route = respx.post("http://ledger.test/v1/redemptions").respond(201, json={"id": "red_1"})
    result = await provider.redeem("ABCD-EFGH", "1234", EUR, "pay-1:redeem")
    assert result.status is OperationStatus.SUCCESS and result.reference == "red_1"
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer glk_secret"
    assert request.headers["Idempotency-Key"] == "pay-1:redeem"
    assert json.loads(request.content) == {
        "code": "ABCD-EFGH",
        "pin": "1234",
        "amount": {"centAmount": 500, "currencyCode": "EUR"},
    }


@respx.mock
async def test_each_operation_uses_its_route(provider: LedgerProvider) -> None:
    hold = respx.post("http://ledger.test/v1/holds").respond(201, json={"id": "hld_1"})
    capture = respx.post("http://ledger.test/v1/holds/hld_1/capture").respond(201, json={"id": "red_2"})
    void = respx.post("http://ledger.test/v1/holds/hld_1/void").respond(200, json={"id": "hld_1"})
    refund = respx.post("http://ledger.test/v1/redemptions/red_2/refunds").respond(201, json={"id": "rfd_1"})
    assert (await provider.authorize("C", None, EUR, "k1")).reference == "hld_1"
    assert (await provider.capture("hld_1", EUR, "k2")).reference == "red_2"
    assert (await provider.void("hld_1", "k3")).succeeded
    assert (await provider.refund("red_2", EUR, "k4")).reference == "rfd_1"
    assert json.loads(capture.calls.last.request.content) == {"amount": {"centAmount": 500, "currencyCode": "EUR"}}
    assert json.loads(hold.calls.last.request.content) == {"code": "C", "amount": EUR.to_json()}
    assert [r.calls.last.request.headers["Idempotency-Key"] for r in (hold, capture, void, refund)] == [
        "k1",
        "k2",
        "k3",
        "k4",
    ]


@respx.mock
async def test_references_are_escaped_in_paths(provider: LedgerProvider) -> None:
    route = respx.post("http://ledger.test/v1/holds/a%2Fb/void").respond(404, json={"error": {"code": "not_found"}})
    result = await provider.void("a/b", "k")
    assert route.called and result.reason is BalanceState.NOT_FOUND


@respx.mock
async def test_balance_maps_refusals(provider: LedgerProvider) -> None:
    respx.post("http://ledger.test/v1/cards/balance").respond(
        422, json={"error": {"code": "card_expired", "message": "card has expired"}}
    )
    result = await provider.balance("C", None)
    assert result.state is BalanceState.EXPIRED


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectTimeout("slow"),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("garbage"),
    ],
)
@respx.mock
async def test_network_failures_raise_provider_unavailable(provider: LedgerProvider, failure: Exception) -> None:
    respx.post("http://ledger.test/v1/redemptions").mock(side_effect=failure)
    with pytest.raises(ProviderUnavailable) as raised:
        await provider.redeem("SECRETCODE", None, EUR, "k")
    assert "SECRETCODE" not in str(raised.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@respx.mock
async def test_server_errors_raise_provider_unavailable(provider: LedgerProvider, status: int) -> None:
    respx.post("http://ledger.test/v1/cards/balance").respond(status, text="oops")
    with pytest.raises(ProviderUnavailable):
        await provider.balance("C", None)


@respx.mock
async def test_non_json_answer_raises_provider_unavailable(provider: LedgerProvider) -> None:
    respx.post("http://ledger.test/v1/redemptions").respond(201, text="<html>proxy</html>")
    with pytest.raises(ProviderUnavailable):
        await provider.redeem("C", None, EUR, "k")


@respx.mock
async def test_rejected_api_key_raises_provider_unavailable(provider: LedgerProvider) -> None:
    respx.post("http://ledger.test/v1/redemptions").respond(401, json={"error": {"code": "unauthorized"}})
    with pytest.raises(ProviderUnavailable):
        await provider.redeem("C", None, EUR, "k")


@respx.mock
async def test_health(provider: LedgerProvider) -> None:
    route = respx.get("http://ledger.test/v1/health")
    route.respond(200, json={"status": "ok", "database": "ok", "apiKey": "valid", "role": "processor"})
    assert (await provider.health()).up
    assert route.calls.last.request.headers["Authorization"] == "Bearer glk_secret"
    route.respond(200, json={"status": "ok", "database": "ok", "apiKey": "invalid"})
    assert not (await provider.health()).up
    route.respond(503, json={"status": "unavailable"})
    assert not (await provider.health()).up
    route.mock(side_effect=httpx.ConnectError("down"))
    down = await provider.health()
    assert not down.up and down.message


async def test_uses_a_given_client_and_leaves_it_open() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"status": "ok"}))
    async with httpx.AsyncClient(transport=transport) as client:
        provider = LedgerProvider(BASE, "k", 1.0, client=client)
        assert (await provider.health()).up
        await provider.aclose()
        assert not client.is_closed

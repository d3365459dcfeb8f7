"""The commercetools client at the network edge (respx): token cache, 401 refresh, retries, 409."""

from __future__ import annotations

import httpx
import pytest
import respx

from giftcard_connector.commercetools.client import CommercetoolsClient, CommercetoolsConfig
from giftcard_connector.context import correlation_id
from giftcard_connector.errors import ServiceUnavailable, UpstreamError

BASE = "https://ct.example"
CONFIG = CommercetoolsConfig("proj", "id", "secret", BASE, BASE, BASE)


def token_route(router: respx.MockRouter, expires_in: int = 3600) -> respx.Route:
    return router.post(f"{BASE}/oauth/token").mock(
        return_value=httpx.Response(
            200, json={"access_token": "tok", "expires_in": expires_in, "scope": "manage_project:proj"}
        )
    )


@pytest.fixture
async def client():
    async with httpx.AsyncClient() as http:
        yield CommercetoolsClient(CONFIG, http)


async def test_token_is_fetched_once_and_reused(client):
    with respx.mock as router:
        token = token_route(router)
        router.get(f"{BASE}/proj/payments/p1").mock(return_value=httpx.Response(200, json={"id": "p1"}))
        await client.get_payment("p1")
        await client.get_payment("p1")
    assert token.call_count == 1


async def test_a_401_refreshes_the_token_once(client):
    with respx.mock as router:
        token = token_route(router)
        router.get(f"{BASE}/proj/payments/p1").mock(
            side_effect=[httpx.Response(401, json={}), httpx.Response(200, json={"id": "p1"})]
        )
        assert (await client.get_payment("p1"))["id"] == "p1"
    assert token.call_count == 2


async def test_idempotent_reads_retry_on_503(client):
    with respx.mock as router:
        token_route(router)
        route = router.get(f"{BASE}/proj/payments/p1").mock(
            side_effect=[httpx.Response(503), httpx.Response(200, json={"id": "p1"})]
        )
        await client.get_payment("p1")
    assert route.call_count == 2


async def test_creates_are_not_retried(client):
    with respx.mock as router:
        token_route(router)
        route = router.post(f"{BASE}/proj/payments").mock(return_value=httpx.Response(503, json={}))
        with pytest.raises(UpstreamError) as caught:
            await client.create_payment({"amountPlanned": {}})
    assert route.call_count == 1
    assert caught.value.status_code == 502


async def test_conflict_rereads_and_retries_with_the_new_version(client):
    sent_versions = []

    def update(request: httpx.Request) -> httpx.Response:
        version = httpx.Response(200, content=request.content).json()["version"]
        sent_versions.append(version)
        if version == 1:
            return httpx.Response(409, json={"errors": [{"code": "ConcurrentModification", "currentVersion": 3}]})
        return httpx.Response(200, json={"id": "p1", "version": version + 1})

    with respx.mock as router:
        token_route(router)
        router.get(f"{BASE}/proj/payments/p1").mock(return_value=httpx.Response(200, json={"id": "p1", "version": 3}))
        router.post(f"{BASE}/proj/payments/p1").mock(side_effect=update)
        result = await client.update_payment({"id": "p1", "version": 1}, [{"action": "setInterfaceId"}])
    assert sent_versions == [1, 3]
    assert result["version"] == 4


async def test_upstream_errors_keep_status_and_errors_list(client):
    errors = [{"code": "InvalidInput", "message": "bad"}, {"code": "Other", "message": "worse"}]
    with respx.mock as router:
        token_route(router)
        router.get(f"{BASE}/proj/payments/p1").mock(
            return_value=httpx.Response(400, json={"message": "bad", "errors": errors})
        )
        with pytest.raises(UpstreamError) as caught:
            await client.get_payment("p1")
    assert caught.value.status_code == 400
    assert caught.value.body()["errors"] == errors


async def test_timeouts_become_504(client):
    with respx.mock as router:
        token_route(router)
        router.get(f"{BASE}/proj/payments/p1").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(ServiceUnavailable) as caught:
            await client.get_payment("p1")
    assert caught.value.status_code == 504


async def test_every_call_carries_the_correlation_id(client):
    correlation_id.set("corr-42")
    with respx.mock as router:
        token = token_route(router)
        route = router.get(f"{BASE}/proj/carts/c1").mock(return_value=httpx.Response(200, json={"id": "c1"}))
        await client.get_cart("c1")
    assert token.calls[0].request.headers["x-correlation-id"] == "corr-42"
    request = route.calls[0].request
    assert request.headers["x-correlation-id"] == "corr-42"
    assert request.url.params["expand"] == "paymentInfo.payments[*]"


async def test_refused_credentials_are_a_502_not_a_crash(client):
    with respx.mock as router:
        router.post(f"{BASE}/oauth/token").mock(return_value=httpx.Response(401, json={"error": "invalid_client"}))
        with pytest.raises(ServiceUnavailable) as caught:
            await client.get_payment("p1")
    assert caught.value.status_code == 502

"""The fault proxy itself: each fault does what it says to a real client and a real upstream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from tests.support.fault_proxy import Fault, FaultProxy, Passed, Rule
from tests.support.scripted_http import ScriptedServer, json_response


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[ScriptedServer, str]]:
    server = ScriptedServer()
    server.on("POST", "/v1/redemptions", json_response(201, {"id": "red_1"}))
    server.on("GET", "/v1/health", json_response(200, {"status": "ok"}))
    async with server.serving() as url:
        yield server, url


@pytest.fixture
def proxy(upstream: tuple[ScriptedServer, str]) -> Iterator[FaultProxy]:
    with FaultProxy(upstream[1]) as running:
        yield running


async def _post(proxy: FaultProxy, path: str = "/v1/redemptions", client_timeout: float = 5.0) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client_timeout)) as client,
        client.post(proxy.url + path, json={"amount": 1}, headers={"Idempotency-Key": "k1"}) as answer,
    ):
        return answer.status, await answer.read()


async def test_without_rules_requests_and_answers_pass_unchanged(upstream, proxy):
    server, _ = upstream
    status, body = await _post(proxy, "/v1/redemptions?x=1")
    assert (status, body) == (201, b'{"id":"red_1"}')
    request, sent = server.last("POST", "/v1/redemptions")
    assert request.headers["Idempotency-Key"] == "k1"
    assert request.query_string == "x=1"
    assert sent == b'{"amount": 1}'
    assert proxy.requests == [Passed("POST", "/v1/redemptions", None, forwarded=True, status=201)]


async def test_drop_answer_lets_the_upstream_act_and_cuts_the_client(upstream, proxy):
    server, _ = upstream
    proxy.add(Rule("POST", r"/v1/redemptions", Fault.DROP_ANSWER))
    with pytest.raises(aiohttp.ClientConnectionError):
        await _post(proxy)
    assert server.count("POST", "/v1/redemptions") == 1, "the upstream received the request"
    assert proxy.requests == [Passed("POST", "/v1/redemptions", Fault.DROP_ANSWER, forwarded=True, status=201)]


async def test_error_answers_the_status_without_forwarding(upstream, proxy):
    server, _ = upstream
    proxy.add(Rule("POST", r"/v1/.*", Fault.ERROR, status=502))
    status, _ = await _post(proxy)
    assert status == 502
    assert server.count("POST", "/v1/redemptions") == 0
    assert proxy.faulted("POST", r"/v1/redemptions")[0].forwarded is False


async def test_delay_outlasts_the_client_timeout_and_the_upstream_still_acts(upstream, proxy):
    server, _ = upstream
    proxy.add(Rule("POST", r"/v1/redemptions", Fault.DELAY, delay=0.6))
    with pytest.raises(TimeoutError):
        await _post(proxy, client_timeout=0.2)
    assert server.count("POST", "/v1/redemptions") == 0, "not yet: the proxy is still waiting"
    assert proxy.in_flight == 1
    await asyncio.to_thread(proxy.wait_idle, 5)
    assert server.count("POST", "/v1/redemptions") == 1, "the late request reached the upstream"


async def test_refuse_closes_the_connection_without_forwarding(upstream, proxy):
    server, _ = upstream
    proxy.add(Rule("*", r".*", Fault.REFUSE, times=0))
    with pytest.raises(aiohttp.ClientConnectionError):
        await _post(proxy)
    assert server.count("POST", "/v1/redemptions") == 0
    assert proxy.requests[0].forwarded is False


async def test_nth_and_times_choose_which_matching_requests_are_cut(upstream, proxy):
    proxy.add(Rule("POST", r"/v1/redemptions", Fault.ERROR, nth=2, times=2))
    statuses = [(await _post(proxy))[0] for _ in range(4)]
    assert statuses == [201, 503, 503, 201]


async def test_rules_match_method_and_whole_path_only(upstream, proxy):
    proxy.add(Rule("POST", r"/v1/redemption", Fault.ERROR, times=0), Rule("GET", r"/v1/redemptions", Fault.ERROR))
    assert (await _post(proxy))[0] == 201
    async with aiohttp.ClientSession() as client, client.get(proxy.url + "/v1/health") as answer:
        assert answer.status == 200


async def test_clear_removes_rules_and_reset_forgets_the_record(upstream, proxy):
    proxy.add(Rule("*", r".*", Fault.ERROR, times=0))
    assert (await _post(proxy))[0] == 503
    proxy.clear()
    assert (await _post(proxy))[0] == 201
    assert [p.fault for p in proxy.requests] == [Fault.ERROR, None]
    proxy.reset()
    assert proxy.requests == []


def test_a_bad_rule_is_refused():
    with pytest.raises(ValueError):
        Rule("POST", "/x", Fault.ERROR, nth=0)


async def test_a_pooled_client_recovers_after_a_cut_connection(upstream, proxy):
    """The Processor's clients keep connections alive: after the proxy cut one, the next call still works."""
    proxy.add(Rule("POST", r"/v1/redemptions", Fault.DROP_ANSWER))
    async with aiohttp.ClientSession() as client:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with client.post(proxy.url + "/v1/redemptions", json={}) as answer:
                await answer.read()
        async with client.post(proxy.url + "/v1/redemptions", json={}) as answer:
            assert answer.status == 201
        async with client.get(proxy.url + "/v1/health") as answer:
            assert answer.status == 200

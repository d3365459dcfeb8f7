"""Rate limits over HTTP (contract section 10): real Processor processes, the emulator, and for the
shared limits two Processors on one Redis.

The Processors trust 127.0.0.2 as a proxy: a test that is not about the client address sends through
that peer with an X-Forwarded-For of its own, so each test has its own address budget.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping

import httpx
import pytest

from giftcard_devkit.emulator import Emulator
from giftcard_devkit.processes import ServiceProcess, processor
from tests.support.flows import money, new_session
from tests.support.redis_fixture import redis_prefix

__all__ = ["redis_prefix"]

PROXY = "127.0.0.2"
SMALL_LIMITS = {
    "RATE_LIMIT_BALANCE_PER_SESSION": "3/minute",
    "RATE_LIMIT_BALANCE_PER_ADDRESS": "5/minute",
    "RATE_LIMIT_REDEEM_PER_SESSION": "2/minute",
    "RATE_LIMIT_REDEEM_PER_ADDRESS": "5/minute",
    "RATE_LIMIT_WRONG_TRIES_PER_CARD": "2/hour",
    "TRUSTED_PROXIES": f"{PROXY}/32",
    "LOG_LEVEL": "INFO",
}
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def limited_env(emulator: Emulator, **extra: str) -> dict[str, str]:
    return {**emulator.processor_env(), "GIFTCARD_PROVIDER": "mock", **SMALL_LIMITS, **extra}


def client(server: ServiceProcess, peer: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=peer)
    return httpx.Client(base_url=server.base_url, timeout=15.0, transport=transport)


def post_balance(api: httpx.Client, session_id: str, code: str, client_ip: str | None = None) -> httpx.Response:
    headers = {"X-Session-Id": session_id, **({"X-Forwarded-For": client_ip} if client_ip else {})}
    return api.post("/balance", json={"code": code}, headers=headers)


def post_redeem(api: httpx.Client, session_id: str, code: str, client_ip: str) -> httpx.Response:
    body = {"code": code, "redeemAmount": money(100)}
    return api.post("/redeem", json=body, headers={"X-Session-Id": session_id, "X-Forwarded-For": client_ip})


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    body = response.json()
    assert body["status"]["state"] == "GenericError"
    assert body["status"]["errors"][0]["code"] == "GenericError"
    assert body["status"]["errors"][0]["message"]


@pytest.fixture(scope="module")
def limited(emulator: Emulator) -> Iterator[ServiceProcess]:
    with processor(limited_env(emulator)) as server:
        yield server


@pytest.fixture
def via_proxy(limited: ServiceProcess) -> Iterator[httpx.Client]:
    with client(limited, PROXY) as api:
        yield api


def test_in_memory_limits_are_announced_at_start_up(limited):
    lines = [line for line in limited.output().splitlines() if "rate_limits_in_memory" in line]
    assert len(lines) == 1, limited.output()


def test_session_over_its_limit_gets_429_without_a_commercetools_call(via_proxy, emulator):
    session_id = new_session(emulator)[1]
    address = next(_addresses)
    for _ in range(3):
        assert post_balance(via_proxy, session_id, "Valid-5000-EUR", address).status_code == 200
    emulator.reset_stats()
    assert_limited(post_balance(via_proxy, session_id, "Valid-5000-EUR", address))
    assert sum(emulator.stats().values()) == 0, emulator.stats()
    # Another session from the same address still has its own budget.
    assert post_balance(via_proxy, new_session(emulator)[1], "Valid-5000-EUR", address).status_code == 200


def test_redeem_has_a_session_limit_too(via_proxy, emulator):
    session_id = new_session(emulator)[1]
    address = next(_addresses)
    assert post_redeem(via_proxy, session_id, "Valid-5000-EUR", address).status_code == 200
    assert post_redeem(via_proxy, session_id, "Valid-5000-EUR", address).status_code == 200
    emulator.reset_stats()
    assert_limited(post_redeem(via_proxy, session_id, "Valid-5000-EUR", address))
    assert sum(emulator.stats().values()) == 0, emulator.stats()


def test_wrong_tries_on_a_card_are_limited_however_the_code_is_written(via_proxy, emulator):
    for _ in range(2):  # each from a new session and address: only the card counts here
        response = post_balance(via_proxy, new_session(emulator)[1], "NotFound", next(_addresses))
        assert response.status_code == 404
    session_id = new_session(emulator)[1]
    emulator.reset_stats()
    assert_limited(post_balance(via_proxy, session_id, "NotFound", next(_addresses)))
    assert_limited(post_redeem(via_proxy, session_id, "not-found", next(_addresses)))
    assert sum(emulator.stats().values()) == 0, emulator.stats()
    # Valid answers are not wrong tries: a good card keeps working however often it is checked.
    for _ in range(3):
        assert post_balance(via_proxy, new_session(emulator)[1], "Valid-5000-EUR", next(_addresses)).status_code == 200


def test_trusted_proxy_forwarded_for_gives_each_client_its_own_budget(via_proxy, emulator):
    crowded, other = next(_addresses), next(_addresses)
    for _ in range(5):
        assert post_balance(via_proxy, new_session(emulator)[1], "Valid-5000-EUR", crowded).status_code == 200
    assert_limited(post_balance(via_proxy, new_session(emulator)[1], "Valid-5000-EUR", crowded))
    assert post_balance(via_proxy, new_session(emulator)[1], "Valid-5000-EUR", other).status_code == 200


def test_forwarded_for_from_an_untrusted_peer_is_ignored(limited, emulator):
    # 127.0.0.3 is not a trusted proxy: its claimed client addresses do not split its budget.
    with client(limited, "127.0.0.3") as direct:
        for _ in range(5):
            response = post_balance(direct, new_session(emulator)[1], "Valid-5000-EUR", next(_addresses))
            assert response.status_code == 200
        assert_limited(post_balance(direct, new_session(emulator)[1], "Valid-5000-EUR", next(_addresses)))


# -- two copies on one Redis ----------------------------------------------------------------------


@pytest.fixture
def two_copies(emulator, redis_prefix) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    url, prefix = redis_prefix
    env = limited_env(emulator, REDIS_URL=url, RATE_LIMIT_KEY_PREFIX=prefix)
    with processor(env) as first, processor(env) as second:
        yield first, second


def test_copies_sharing_redis_announce_it(two_copies):
    for server in two_copies:
        lines = [line for line in server.output().splitlines() if "rate_limits_shared" in line]
        assert len(lines) == 1, server.output()
        assert "rate_limits_in_memory" not in server.output()


def test_wrong_tries_on_one_copy_count_on_the_other(two_copies, emulator):
    first, second = two_copies
    with client(first, PROXY) as api_a, client(second, PROXY) as api_b:
        assert post_redeem(api_a, new_session(emulator)[1], "NotFound", next(_addresses)).status_code == 404
        assert post_balance(api_b, new_session(emulator)[1], "NotFound", next(_addresses)).status_code == 404
        sessions = [new_session(emulator)[1] for _ in range(2)]
        emulator.reset_stats()
        assert_limited(post_balance(api_a, sessions[0], "NotFound", next(_addresses)))
        assert_limited(post_balance(api_b, sessions[1], "NotFound", next(_addresses)))
        assert sum(emulator.stats().values()) == 0, emulator.stats()


def test_address_budget_is_shared_by_both_copies(two_copies, emulator):
    first, second = two_copies
    address = next(_addresses)
    with client(first, PROXY) as api_a, client(second, PROXY) as api_b:
        for api in (api_a, api_b, api_a, api_b, api_a):
            assert post_balance(api, new_session(emulator)[1], "Valid-5000-EUR", address).status_code == 200
        assert_limited(post_balance(api_b, new_session(emulator)[1], "Valid-5000-EUR", address))
        assert_limited(post_balance(api_a, new_session(emulator)[1], "Valid-5000-EUR", address))


# -- Redis unreachable ----------------------------------------------------------------------------

DEAD_REDIS = "redis://127.0.0.1:1/0"


def _one_balance(emulator: Emulator, env: Mapping[str, str]) -> tuple[httpx.Response, str]:
    with processor(env) as server, client(server) as api:
        response = post_balance(api, new_session(emulator)[1], "Valid-5000-EUR")
        return response, server.output()


def test_unreachable_redis_fails_open_by_default_with_a_warning(emulator):
    response, output = _one_balance(emulator, limited_env(emulator, REDIS_URL=DEAD_REDIS))
    assert response.status_code == 200, response.text
    assert "rate_limit_store_failed" in output


def test_unreachable_redis_fails_closed_when_configured(emulator):
    env = limited_env(emulator, REDIS_URL=DEAD_REDIS, RATE_LIMIT_FAIL_OPEN="false")
    response, _ = _one_balance(emulator, env)
    assert response.status_code == 503, response.text
    assert response.json()["status"]["state"] == "GenericError"

"""The rate-limit module: keys, limits, Retry-After, the client address, and a store that fails."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
import structlog
from limits.aio.storage import RedisStorage

from giftcard_connector.ratelimit.addresses import address_key, client_address, parse_networks
from giftcard_connector.ratelimit.limiter import (
    Limits,
    RateLimited,
    RateLimiter,
    RateLimitUnavailable,
    build_storage,
    card_key,
    describe_store,
    normalize_code,
)
from giftcard_connector.ratelimit.memory import LocalMovingWindow
from giftcard_connector.settings import ConfigurationError, load_settings
from tests.conftest import GENEROUS_RATE_LIMITS
from tests.support.redis_fixture import redis_prefix

__all__ = ["redis_prefix"]

SECRET = b"k" * 32


def limits(
    balance_session: str = "3/minute",
    balance_address: str = "5/minute",
    redeem_session: str = "2/minute",
    redeem_address: str = "4/minute",
    card: str = "2/hour",
) -> Limits:
    return Limits.parse(
        balance_per_session=balance_session,
        balance_per_address=balance_address,
        redeem_per_session=redeem_session,
        redeem_per_address=redeem_address,
        wrong_tries_per_card=card,
    )


def memory_limiter(**kwargs: str) -> RateLimiter:
    return RateLimiter(build_storage(None, "unused", 0.25), limits(**kwargs), SECRET)


# -- card keys ------------------------------------------------------------------------------------


def test_codes_are_normalised_before_keying():
    assert normalize_code(" abcd-efgh ijkl\t") == "ABCDEFGHIJKL"
    assert card_key(SECRET, "abcd-efgh-ijkl") == card_key(SECRET, "ABCD EFGH IJKL")
    assert card_key(SECRET, "ABCDEFGHIJKL") != card_key(SECRET, "ABCDEFGHIJKM")


def test_card_key_holds_no_code_and_depends_on_the_secret():
    key = card_key(SECRET, "Valid-5000-EUR")
    assert "VALID" not in key.upper() and "5000" not in key
    assert key != card_key(b"other secret", "Valid-5000-EUR")
    assert len(key) == 32 and int(key, 16) >= 0


# -- limits ---------------------------------------------------------------------------------------


async def test_session_limit_refuses_with_retry_after():
    limiter = memory_limiter()
    for _ in range(3):
        await limiter.check("balance", "10.0.0.1", "session-a", None)
    with pytest.raises(RateLimited) as refused:
        await limiter.check("balance", "10.0.0.2", "session-a", None)
    assert refused.value.status_code == 429
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    assert refused.value.body() == {
        "status": {
            "state": "GenericError",
            "errors": [{"code": "GenericError", "message": "Too many attempts; please try again later"}],
        }
    }
    await limiter.check("balance", "10.0.0.3", "session-b", None)  # another session is not affected
    assert limiter.counters.rejected["balance.session"] == 1


async def test_address_limit_counts_every_session_from_that_address():
    limiter = memory_limiter()
    for number in range(5):
        await limiter.check("balance", "10.0.0.1", f"session-{number}", None)
    with pytest.raises(RateLimited):
        await limiter.check("balance", "10.0.0.1", "session-new", None)
    await limiter.check("balance", "10.0.0.9", "session-new", None)
    assert limiter.counters.rejected["balance.address"] == 1


async def test_ipv6_clients_are_counted_by_their_64():
    limiter = memory_limiter()
    for host in range(5):  # one /64, five addresses
        await limiter.check("balance", f"2001:db8:1:2::{host + 1:x}", f"s{host}", None)
    with pytest.raises(RateLimited):
        await limiter.check("balance", "2001:db8:1:2:ffff::9", "s9", None)
    await limiter.check("balance", "2001:db8:1:3::1", "s10", None)  # the next /64 is someone else


def test_address_keys():
    assert address_key("203.0.113.9") == "203.0.113.9"
    assert address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert address_key("unknown") == "unknown"


async def test_balance_and_redeem_have_their_own_budgets():
    limiter = memory_limiter()
    for _ in range(2):
        await limiter.check("redeem", "10.0.0.1", "s", None)
    with pytest.raises(RateLimited):
        await limiter.check("redeem", "10.0.0.1", "s", None)
    await limiter.check("balance", "10.0.0.1", "s", None)


async def test_malformed_session_header_has_no_counter_of_its_own():
    # Session auth refuses such a header without a call; the address limit still counts it.
    limiter = memory_limiter(balance_session="1/minute")
    for _ in range(3):
        await limiter.check("balance", "10.0.0.1", "not a session id/../", None)


async def test_only_wrong_tries_count_against_a_card():
    limiter = memory_limiter(balance_session="100/minute", balance_address="100/minute")
    card = limiter.card("ABCD-EFGH")
    for _ in range(5):
        await limiter.check("balance", "10.0.0.1", "s", card)  # checks alone do not count
    await limiter.record_wrong_try(card)
    await limiter.record_wrong_try(limiter.card("abcd efgh"))  # the same card, written differently
    with pytest.raises(RateLimited) as refused:
        await limiter.check("balance", "10.0.0.2", "t", card)
    assert int(refused.value.headers["Retry-After"]) > 60  # an hourly window
    await limiter.check("balance", "10.0.0.2", "t", limiter.card("ABCD-EFGX"))
    assert limiter.counters.rejected["card"] == 1


# -- a store that fails ---------------------------------------------------------------------------

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


async def test_unreachable_redis_fails_open_with_a_warning_and_a_count():
    limiter = RateLimiter(build_storage(DEAD_REDIS, "x", 0.25), limits(balance_session="1/minute"), SECRET)
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            await limiter.check("balance", "10.0.0.1", "s", limiter.card("ABCD"))
        await limiter.record_wrong_try(limiter.card("ABCD"))
    assert limiter.counters.storage_errors == 4
    assert limiter.counters.passed_unchecked == 3
    warnings = [entry for entry in logs if entry["event"] == "rate_limit_store_failed"]
    assert len(warnings) == 1  # one warning per 30 s, not one per request
    assert warnings[0]["log_level"] == "warning"


async def test_unreachable_redis_fails_closed_when_configured():
    limiter = RateLimiter(build_storage(DEAD_REDIS, "x", 0.25), limits(), SECRET, fail_open=False)
    with pytest.raises(RateLimitUnavailable) as refused:
        await limiter.check("balance", "10.0.0.1", "s", None)
    assert refused.value.status_code == 503
    assert refused.value.body()["status"]["state"] == "GenericError"


async def test_two_limiters_on_one_redis_share_their_counts(redis_prefix):
    url, prefix = redis_prefix
    first, second = (RateLimiter(build_storage(url, prefix, 1.0), limits(), SECRET) for _ in range(2))
    card = first.card("WXYZ-0001")
    await first.record_wrong_try(card)
    await second.record_wrong_try(card)
    with pytest.raises(RateLimited):
        await first.check("balance", "10.0.0.1", "s", card)
    for number, limiter in enumerate((first, second, first, second)):
        await limiter.check("redeem", "10.0.0.7", f"r{number}", None)
    with pytest.raises(RateLimited):
        await first.check("redeem", "10.0.0.7", "r9", None)  # address budget 4: the 5th, on either copy


def test_store_description_hides_credentials():
    assert describe_store("redis://user:secret@cache.internal:6380/2") == "redis://cache.internal:6380/2"
    assert describe_store(None) == "memory"


# -- the client address ---------------------------------------------------------------------------

PROXIES = parse_networks(["10.0.0.0/8", "::1"])


def test_peer_is_the_client_when_no_proxy_is_trusted():
    assert client_address("203.0.113.9", ["198.51.100.1"], []) == "203.0.113.9"


def test_forwarded_for_from_an_untrusted_peer_is_ignored():
    assert client_address("203.0.113.9", ["198.51.100.1"], PROXIES) == "203.0.113.9"


def test_forwarded_for_from_a_trusted_proxy_names_the_client():
    assert client_address("10.1.2.3", ["198.51.100.1"], PROXIES) == "198.51.100.1"
    assert client_address("::1", ["198.51.100.1"], PROXIES) == "198.51.100.1"


def test_a_client_cannot_spoof_through_a_trusted_proxy():
    # The client wrote "1.1.1.1"; the proxy appended what it saw. Read from the right.
    assert client_address("10.1.2.3", ["1.1.1.1, 198.51.100.1"], PROXIES) == "198.51.100.1"
    assert client_address("10.1.2.3", ["1.1.1.1", "198.51.100.1, 10.9.9.9"], PROXIES) == "198.51.100.1"


def test_trusted_proxy_without_forwarded_for_is_the_client():
    assert client_address("10.1.2.3", [], PROXIES) == "10.1.2.3"
    assert client_address(None, [], PROXIES) == "unknown"


def test_networks_are_parsed_as_cidrs():
    assert parse_networks(["192.168.0.1"]) == [ipaddress.ip_network("192.168.0.1/32")]
    with pytest.raises(ValueError, match="not-an-ip"):
        parse_networks(["not-an-ip"])


# -- settings -------------------------------------------------------------------------------------


@pytest.fixture
def base_env(monkeypatch):
    for name in GENEROUS_RATE_LIMITS:  # tests/conftest.py sets these for the suite's Processors
        monkeypatch.delenv(name, raising=False)
    for name in ("REDIS_URL", "TRUSTED_PROXIES", "RATE_LIMIT_FAIL_OPEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "CTP_PROJECT_KEY": "p",
        "CTP_CLIENT_ID": "id",
        "CTP_CLIENT_SECRET": "secret",
        "CTP_AUTH_URL": "http://127.0.0.1:1",
        "CTP_API_URL": "http://127.0.0.1:1",
        "CTP_SESSION_URL": "http://127.0.0.1:1",
        "CTP_JWKS_URL": "http://127.0.0.1:1/jwks",
        "CTP_JWT_ISSUER": "http://127.0.0.1:1",
    }.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_defaults_are_the_documented_ones(base_env):
    settings = load_settings()
    assert settings.RATE_LIMIT_BALANCE_PER_SESSION == "10/minute"
    assert settings.RATE_LIMIT_BALANCE_PER_ADDRESS == "30/minute"
    assert settings.RATE_LIMIT_WRONG_TRIES_PER_CARD == "5/hour"
    assert settings.RATE_LIMIT_FAIL_OPEN is True
    assert settings.REDIS_URL is None
    assert settings.TRUSTED_PROXIES == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RATE_LIMIT_BALANCE_PER_SESSION", "ten a minute"),
        ("RATE_LIMIT_WRONG_TRIES_PER_CARD", "5/fortnight"),
        ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
    ],
)
def test_bad_rate_limit_settings_stop_start_up_naming_the_setting(base_env, name, value):
    base_env.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        load_settings()


def test_trusted_proxies_are_a_comma_separated_list(base_env):
    base_env.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.10")
    assert load_settings().TRUSTED_PROXIES == ["10.0.0.0/8", "192.168.1.10"]


# -- the in-process store -------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_local_window_counts_the_last_n_seconds_exactly():
    clock = Clock()
    store = LocalMovingWindow(clock)
    assert [await store.acquire_entry("k", 3, 60) for _ in range(4)] == [True, True, True, False]
    assert await store.get_moving_window("k", 3, 60) == (clock.now, 3)
    clock.now += 59  # all three still inside the window: no boundary reset as with a fixed window
    assert not await store.acquire_entry("k", 3, 60)
    clock.now += 1.5
    assert await store.acquire_entry("k", 3, 60)
    assert (await store.get_moving_window("k", 3, 60))[1] == 1


async def test_local_window_forgets_idle_keys():
    clock = Clock()
    store = LocalMovingWindow(clock)
    for number in range(100):
        await store.acquire_entry(f"session-{number}", 10, 60)
    assert len(store) == 100
    clock.now += 61
    await store.acquire_entry("fresh", 10, 60)  # a sweep is due: the idle keys go
    assert len(store) == 1


async def test_local_window_gives_limits_its_retry_after():
    clock = Clock()
    limiter = RateLimiter(LocalMovingWindow(clock), limits(balance_session="2/minute"), SECRET, clock=clock)
    await limiter.check("balance", "10.0.0.1", "s", None)
    clock.now += 20
    await limiter.check("balance", "10.0.0.1", "s", None)
    with pytest.raises(RateLimited) as refused:
        await limiter.check("balance", "10.0.0.1", "s", None)
    assert refused.value.headers["Retry-After"] == "40"  # when the first hit leaves the window


async def test_with_redis_a_requests_checks_share_one_round_trip_and_limits_own_counters(redis_prefix):
    url, prefix = redis_prefix
    limiter = RateLimiter(build_storage(url, prefix, 1.0), limits(), SECRET)
    card = limiter.card("PQRS-0002")
    await limiter.record_wrong_try(card)
    await limiter.record_wrong_try(card)

    async def no_fallback(checks):
        raise AssertionError("the pipelined batch was not used")

    limiter._one_by_one = no_fallback  # type: ignore[method-assign]
    for _ in range(3):
        await limiter.check("balance", "10.0.0.1", "s", None)
    with pytest.raises(RateLimited):
        await limiter.check("balance", "10.0.0.1", "s", None)
    with pytest.raises(RateLimited):
        await limiter.check("balance", "10.0.0.2", "t", card)  # the card's two wrong tries, read in the batch
    # The batch wrote limits' own keys: limits reads the same counts.
    stats = await limiter._strategy.get_window_stats(limiter.limits.balance_per_session, "balance", "session", "s")
    assert stats.remaining == 0
    assert limiter.counters.rejected == {"balance.session": 1, "card": 1}


async def test_with_redis_a_refused_check_does_not_count_against_the_later_ones(redis_prefix):
    url, prefix = redis_prefix
    limiter = RateLimiter(build_storage(url, prefix, 1.0), limits(balance_address="1/minute"), SECRET)
    await limiter.check("balance", "10.0.0.1", "s", None)
    with pytest.raises(RateLimited):
        await limiter.check("balance", "10.0.0.1", "s", None)  # the address refuses first
    stats = await limiter._strategy.get_window_stats(limiter.limits.balance_per_session, "balance", "session", "s")
    assert stats.remaining == 3 - 1  # only the first request counted against the session


async def test_with_redis_concurrent_first_requests_after_a_script_flush_never_fail(redis_prefix):
    # The first requests of a fresh copy (new connections, script not on the server) race to load the batch
    # script: one meeting NoScriptError must not pull the script from under another (seen as a 500 AttributeError).
    url, prefix = redis_prefix
    for _ in range(5):
        flusher = RateLimiter(build_storage(url, prefix, 1.0), limits(), SECRET).storage
        assert isinstance(flusher, RedisStorage)
        await flusher.bridge.get_connection().script_flush()
        limiter = RateLimiter(build_storage(url, prefix, 1.0), limits(balance_session="100/minute"), SECRET)
        results = await asyncio.gather(
            *(limiter.check("balance", f"10.0.1.{i}", f"s{i}", None) for i in range(20)), return_exceptions=True
        )
        assert [r for r in results if isinstance(r, BaseException)] == []

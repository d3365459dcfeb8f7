"""The Redis server the rate-limit tests share (TEST_REDIS_URL, default 127.0.0.1:6379), with a key
prefix of their own that is deleted afterwards. Unreachable: skip with the reason, or fail under CI=true."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", DEFAULT_URL)


def require_redis() -> str:
    url = redis_url()
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2):
            pass
    except OSError as error:
        reason = f"Redis at {parts.hostname}:{parts.port or 6379} is unreachable ({error}); set TEST_REDIS_URL"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    """(url, key prefix) for one test; every key under the prefix is deleted afterwards."""
    url = require_redis()
    prefix = f"test-rl-{uuid.uuid4().hex[:12]}"
    yield url, prefix
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()

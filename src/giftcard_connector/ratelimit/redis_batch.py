"""A request's rate-limit checks in one Redis round trip.

Called one by one through `limits`, the three checks of a /balance (address, session, card) are three
round trips, and redis-py's client work per call (pool, encoding, socket) cost the Processor about
0.65 ms of CPU per /balance, +44 % (docs/benchmark.md). Here the same checks run `limits`' own
moving-window Lua scripts, on `limits`' own keys, pipelined: one write and one read for all of them.
The counters are the ones `limits` reads and writes, so the Retry-After lookup and `clear` still go
through `limits`. One difference: all checks of the batch count, also those after one that refuses (a
request over its address limit still uses up its session's budget); one by one stops at the first.

It leans on two attributes of `limits`' redis-py bridge (its registered scripts and key prefix),
pinned with `limits==5.8.0` and covered by the Redis tests; when they are missing, or Redis does not
know a script any more (a restart or SCRIPT FLUSH since we loaded it), the caller falls back to the
one-by-one calls for that request.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem
from limits.aio.storage import RedisStorage
from redis.exceptions import NoScriptError


@dataclass(frozen=True, slots=True)
class Check:
    item: RateLimitItem
    identifiers: tuple[str, ...]
    counts: bool  # True: count this request (hit); False: only look (test)


class RedisBatch:
    def __init__(self, storage: RedisStorage) -> None:
        bridge: Any = storage.bridge
        self._bridge = bridge
        self._usable = all(
            hasattr(bridge, name) for name in ("lua_acquire_moving_window", "lua_moving_window", "prefixed_key")
        )
        self._scripts_loaded = False
        if self._usable:
            self._acquire_sha = bridge.lua_acquire_moving_window.sha.encode()
            self._window_sha = bridge.lua_moving_window.sha.encode()

    async def run(self, checks: Sequence[Check]) -> list[bool] | None:
        """Whether each check passed, or None: use the one-by-one calls instead."""
        if not self._usable:
            return None
        client = self._bridge.get_connection()
        if not self._scripts_loaded:
            # Load once up front: a pipeline that meets an unknown script has already run its other
            # commands (it is not a transaction), so the fallback would count those twice.
            for script in (self._bridge.lua_acquire_moving_window, self._bridge.lua_moving_window):
                await client.script_load(script.script)
            self._scripts_loaded = True
        now = time.time()
        pipe = client.pipeline(transaction=False)
        # Arguments as bytes: redis-py's encoder passes bytes through and formats anything else (~40 us
        # of a request's client CPU here).
        for check in checks:
            key = self._bridge.prefixed_key(check.item.key_for(*check.identifiers)).encode()
            expiry = check.item.get_expiry()
            limit = b"%d" % check.item.amount
            if check.counts:
                pipe.evalsha(self._acquire_sha, b"1", key, repr(now).encode(), limit, b"%d" % expiry, b"1")
            else:
                pipe.evalsha(self._window_sha, b"1", key, repr(now - expiry).encode(), limit)
        try:
            results = await pipe.execute()
        except NoScriptError:  # the server lost its scripts (restart, SCRIPT FLUSH): load them again
            self._scripts_loaded = False
            return None
        return [_passed(check, result) for check, result in zip(checks, results, strict=True)]


def _passed(check: Check, result: Any) -> bool:
    if check.counts:
        return bool(result)  # the acquire script answers 1 or nil
    count = int(result[1]) if result else 0  # the window script answers [oldest, count] or nil
    return count < check.item.amount

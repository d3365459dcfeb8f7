"""A request's rate-limit checks in one Redis command.

Called one by one through `limits`, the three checks of a /balance (address, session, card) are three
round trips, and redis-py's client work per command (pool, encoding, socket, parsing) cost the
Processor +44 % CPU per /balance; pipelining the three `limits` scripts still cost +23 %
(docs/benchmark.md). So the checks run as one script here, over `limits`' own keys and in `limits`'
own moving-window format (a list of hit times, newest first, trimmed to the limit, expiring with the
window): `limits` still reads them for Retry-After, counts wrong tries into them, and clears them.
The script stops at the first check that refuses, like the one-by-one calls: a refused request does
not count against the limits after it.

It leans on `limits`' redis-py bridge for the connection and the key prefix (pinned `limits==5.8.0`,
covered by the Redis tests); without them the caller falls back to the one-by-one calls.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem
from limits.aio.storage import RedisStorage
from redis.exceptions import NoScriptError

# ARGV: now, then per key: counts (1 hit, 0 look), limit, expiry. Returns 0 when every check passed,
# else the 1-based position of the first that refused. A check refuses when the limit-th newest hit
# is still inside the window (the same test as limits' acquire_moving_window.lua).
CHECK_ALL = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
    local counts = ARGV[3 * i - 1] == '1'
    local limit = tonumber(ARGV[3 * i])
    local expiry = tonumber(ARGV[3 * i + 1])
    local entry = redis.call('lindex', key, limit - 1)
    if entry and tonumber(entry) >= now - expiry then
        return i
    end
    if counts then
        redis.call('lpush', key, ARGV[1])
        redis.call('ltrim', key, 0, limit - 1)
        redis.call('expire', key, expiry)
    end
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Check:
    item: RateLimitItem
    identifiers: tuple[str, ...]
    counts: bool  # True: count this request (hit); False: only look (test)


class RedisBatch:
    def __init__(self, storage: RedisStorage) -> None:
        bridge: Any = storage.bridge
        self._bridge = bridge
        self._usable = hasattr(bridge, "prefixed_key") and hasattr(bridge, "get_connection")
        self._script: Any = None

    async def run(self, checks: Sequence[Check]) -> list[bool] | None:
        """Whether each check passed (up to the first refusal), or None: use the one-by-one calls."""
        if not self._usable or not checks:
            return None
        client = self._bridge.get_connection()
        # A local reference: concurrent requests share `_script`, and one that meets NoScriptError clears it
        # while another is still awaiting; publishing the script only once it is loaded keeps others off it.
        script = self._script
        if script is None:
            script = client.register_script(CHECK_ALL)
            await client.script_load(CHECK_ALL)
            self._script = script
        now = repr(time.time()).encode()
        keys: list[bytes] = []
        args: list[bytes] = [now]
        for check in checks:
            keys.append(self._bridge.prefixed_key(check.item.key_for(*check.identifiers)).encode())
            args += [b"1" if check.counts else b"0", b"%d" % check.item.amount, b"%d" % check.item.get_expiry()]
        try:
            # Arguments as bytes: redis-py's encoder passes bytes through and formats anything else.
            refused = int(await client.evalsha(script.sha, len(keys), *keys, *args))
        except NoScriptError:  # the server lost the script (restart, SCRIPT FLUSH): load it next time
            self._script = None
            return None
        if refused == 0:
            return [True] * len(checks)
        return [True] * (refused - 1) + [False]

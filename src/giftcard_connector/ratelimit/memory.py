"""The in-process store for the moving window when there is no Redis (one copy).

Why not `limits`' own async MemoryStorage: it expires entries in a background task that is re-created
after every hit and hands each key to a worker thread (`asyncio.to_thread`) on every pass. Measured
in the Processor (docs/benchmark.md) that cost 0.2 ms of CPU per hit with one key and 1.1 ms with 300
keys, more than the whole rest of a /balance. This store keeps the same model (a list of hit times per
key) but trims a key's old hits when the key is used, and sweeps keys nobody uses any more at most
once a minute, inline. The event loop is single-threaded and nothing here awaits, so no locks.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from limits.aio.storage import MemoryStorage

_SWEEP_EVERY_SECONDS = 60.0


class LocalMovingWindow(MemoryStorage):
    """Moving-window storage for `limits.aio.strategies.MovingWindowRateLimiter`, in this process."""

    # Not "async+memory": leave limits' own registration of that scheme alone.
    STORAGE_SCHEME = ["async+giftcard-local"]  # noqa: RUF012 - the type limits declares

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}  # oldest first
        self._expiry: dict[str, float] = {}
        self._next_sweep = clock() + _SWEEP_EVERY_SECONDS

    def _current(self, key: str, expiry: float, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            self._expiry[key] = expiry
        cutoff = now - expiry
        while hits and hits[0] <= cutoff:
            hits.popleft()
        return hits

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + _SWEEP_EVERY_SECONDS
        for key in list(self._hits):
            if not self._current(key, self._expiry[key], now):
                del self._hits[key], self._expiry[key]

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        hits = self._current(key, expiry, now)
        if len(hits) + amount > limit:
            return False
        hits.extend([now] * amount)
        return True

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(time of the oldest hit still in the window, hits in the window), as limits expects."""
        now = self._clock()
        hits = self._hits.get(key)
        if not hits:
            return now, 0
        hits = self._current(key, expiry, now)
        return (hits[0], len(hits)) if hits else (now, 0)

    async def clear(self, key: str) -> None:
        self._hits.pop(key, None)
        self._expiry.pop(key, None)

    async def reset(self) -> int | None:
        count = len(self._hits)
        self._hits.clear()
        self._expiry.clear()
        return count

    def __len__(self) -> int:
        return len(self._hits)

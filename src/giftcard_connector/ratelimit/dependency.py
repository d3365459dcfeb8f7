"""The FastAPI dependency that puts the rate limits in front of /balance and /redeem.

It runs before session authentication (a route-level dependency), so a limited request costs no
commercetools call and no provider call: the address and the session are keyed by what the request
carries (the socket peer, the X-Session-Id header as sent), the card by the code in the body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from fastapi import Depends, Request

from giftcard_connector.dependencies import services_of
from giftcard_connector.errors import GiftCardError
from giftcard_connector.providers.base import BalanceState
from giftcard_connector.ratelimit.addresses import client_address
from giftcard_connector.ratelimit.limiter import RateLimiter, Route


async def _code_in_body(request: Request) -> str | None:
    # The route parses the body again (Starlette caches the bytes); a body without a usable code is the
    # route's 400 to give, and has no card to count.
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    code = data.get("code") if isinstance(data, dict) else None
    return code if isinstance(code, str) and code.strip() else None


def rate_limited(route: Route) -> Any:
    async def guard(request: Request) -> AsyncIterator[None]:
        limiter: RateLimiter | None = services_of(request).rate_limiter
        if limiter is None:
            yield
            return
        address = client_address(
            request.client.host if request.client else None,
            request.headers.getlist("x-forwarded-for"),
            limiter.trusted_proxies,
        )
        code = await _code_in_body(request)
        card = limiter.card(code) if code is not None else None
        await limiter.check(route, address, request.headers.get("x-session-id"), card)
        try:
            yield
        except GiftCardError as error:
            if card is not None and error.state is BalanceState.NOT_FOUND:
                await limiter.record_wrong_try(card)
            raise

    dependency: Callable[[Request], AsyncIterator[None]] = guard
    # scope="function": the code after `yield` (counting a wrong try) runs before the answer is sent, so
    # a client cannot start its next guess before this one is counted.
    return Depends(dependency, scope="function")

"""Async commercetools client: one pooled HTTP client, cached token, timeouts, correlation ids,
retries only where a call is idempotent, and re-read-and-retry on 409 ConcurrentModification."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
import structlog

from giftcard_connector.context import current_correlation_id
from giftcard_connector.errors import ServiceUnavailable, UpstreamError
from giftcard_connector.observability.upstream import upstream_call

log = structlog.get_logger(__name__)

# Refresh the token this many seconds before commercetools says it expires.
_TOKEN_EXPIRY_MARGIN = 60.0
_RETRY_STATUSES = frozenset({502, 503, 504})
_IDEMPOTENT_RETRIES = 2
_CONFLICT_RETRIES = 3
_PAYMENT_EXPAND = "paymentInfo.payments[*]"
UPSTREAM_AUTH_FAILED = "UpstreamAuthFailed"

Actions = list[dict[str, Any]]
# Update actions, or a function that derives them from the resource's current state: after a 409 the
# resource is re-read and the actions derived again, so a change another writer already made is not
# repeated (an empty list then means there is nothing left to do).
ActionsFor = Actions | Callable[[dict[str, Any]], Actions]


@dataclass(frozen=True, slots=True)
class CommercetoolsConfig:
    project_key: str
    client_id: str
    client_secret: str
    auth_url: str
    api_url: str
    session_url: str


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    status_code: int
    content: bytes


@dataclass(slots=True)
class _Token:
    value: str
    scope: str
    expires_at: float


class CommercetoolsClient:
    def __init__(self, config: CommercetoolsConfig, http: aiohttp.ClientSession) -> None:
        self._config = config
        self._http = http
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()
        self._project_url = f"{config.api_url}/{config.project_key}"
        self._session_url = f"{config.session_url}/{config.project_key}/sessions"
        # Counted for the benchmark and metrics: every HTTP call made to commercetools.
        self.calls = 0

    @property
    def project_key(self) -> str:
        return self._config.project_key

    # -- auth ---------------------------------------------------------------------------------
    async def access_token(self, *, force_refresh: bool = False) -> _Token:
        token = self._token
        if not force_refresh and token is not None and token.expires_at > time.monotonic():
            return token
        async with self._token_lock:
            # Another request may have refreshed it while this one waited.
            if self._token is not None and self._token is not token and not force_refresh:
                return self._token
            self._token = await self._fetch_token()
            return self._token

    async def _fetch_token(self) -> _Token:
        self.calls += 1
        headers = {
            "Authorization": aiohttp.encode_basic_auth(self._config.client_id, self._config.client_secret),
            "X-Correlation-ID": current_correlation_id(),
        }
        try:
            with upstream_call("commercetools_auth", headers) as call:
                async with self._http.post(
                    f"{self._config.auth_url}/oauth/token", data={"grant_type": "client_credentials"}, headers=headers
                ) as answer:
                    call.status = answer.status
                    response = UpstreamResponse(answer.status, await answer.read())
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ServiceUnavailable(f"commercetools auth is unreachable: {type(error).__name__}") from error
        if response.status_code != 200:
            log.warning("commercetools_token_refused", status=response.status_code)
            raise ServiceUnavailable(
                f"commercetools auth refused the client credentials (HTTP {response.status_code})",
                code=UPSTREAM_AUTH_FAILED,
                status_code=502,
            )
        data = _json(response)
        expires_in = float(data.get("expires_in", 3600))
        return _Token(
            value=str(data["access_token"]),
            scope=str(data.get("scope", "")),
            expires_at=time.monotonic() + max(expires_in - _TOKEN_EXPIRY_MARGIN, expires_in / 2),
        )

    # -- transport ----------------------------------------------------------------------------
    async def _send(
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool,
        target: str = "commercetools_api",
    ) -> UpstreamResponse:
        retries = _IDEMPOTENT_RETRIES if idempotent else 0
        refreshed = False
        attempt = 0
        while True:
            token = await self.access_token()
            headers = {
                "Authorization": f"Bearer {token.value}",
                "X-Correlation-ID": current_correlation_id(),
            }
            content = None
            if body is not None:
                headers["Content-Type"] = "application/json"
                content = orjson.dumps(body)
            self.calls += 1
            try:
                with upstream_call(target, headers) as call:
                    async with self._http.request(method, url, data=content, params=params, headers=headers) as answer:
                        call.status = answer.status
                        response = UpstreamResponse(answer.status, await answer.read())
            except TimeoutError as error:
                if attempt < retries:
                    attempt += 1
                    continue
                raise ServiceUnavailable(
                    "commercetools did not answer in time", code="UpstreamTimeout", status_code=504
                ) from error
            except aiohttp.ClientError as error:
                if attempt < retries:
                    attempt += 1
                    await asyncio.sleep(0.05 * attempt)
                    continue
                raise ServiceUnavailable(f"commercetools is unreachable: {type(error).__name__}") from error
            if response.status_code == 401 and not refreshed:
                # The cached token was revoked or expired early: refresh once and retry.
                refreshed = True
                await self.access_token(force_refresh=True)
                continue
            if response.status_code in _RETRY_STATUSES and attempt < retries:
                attempt += 1
                await asyncio.sleep(0.05 * attempt)
                continue
            return response

    async def _call(
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool,
    ) -> dict[str, Any]:
        response = await self._send(method, url, body=body, params=params, idempotent=idempotent)
        if response.status_code >= 400:
            raise _upstream_error(response)
        return _json(response)

    # -- sessions -----------------------------------------------------------------------------
    async def get_session(self, session_id: str) -> dict[str, Any] | None:
        """The session, or None when commercetools does not know it."""
        response = await self._send(
            "GET", f"{self._session_url}/{session_id}", idempotent=True, target="commercetools_session"
        )
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise _upstream_error(response)
        return _json(response)

    # -- carts --------------------------------------------------------------------------------
    async def get_cart(self, cart_id: str) -> dict[str, Any]:
        """The cart with its payments expanded (one call instead of one per payment)."""
        return await self._call(
            "GET", f"{self._project_url}/carts/{cart_id}", params={"expand": _PAYMENT_EXPAND}, idempotent=True
        )

    async def add_payment_to_cart(
        self, cart: dict[str, Any], payment_id: str, check: Callable[[dict[str, Any]], None] | None = None
    ) -> dict[str, Any]:
        """addPayment with the version of `cart`: the write is conditional on the cart as `check` saw
        it. On 409 the cart is re-read and `check` runs again on it (it raises when the payment no
        longer fits), so a limit checked here holds across Processor copies."""
        action = {"action": "addPayment", "payment": {"typeId": "payment", "id": payment_id}}

        async def reread() -> dict[str, Any]:
            return await self.get_cart(str(cart["id"]))

        def actions(current: dict[str, Any]) -> Actions:
            payments = (current.get("paymentInfo") or {}).get("payments") or []
            if any(ref.get("id") == payment_id for ref in payments):
                return []
            if check is not None:
                check(current)
            return [action]

        return await self._update(f"{self._project_url}/carts/{cart['id']}", cart, actions, reread)

    # -- payments -----------------------------------------------------------------------------
    async def create_payment(self, draft: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", f"{self._project_url}/payments", body=draft, idempotent=False)

    async def get_payment(self, payment_id: str) -> dict[str, Any]:
        return await self._call("GET", f"{self._project_url}/payments/{payment_id}", idempotent=True)

    async def get_payment_by_key(self, key: str) -> dict[str, Any] | None:
        response = await self._send("GET", f"{self._project_url}/payments/key={quote(key, safe='')}", idempotent=True)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise _upstream_error(response)
        return _json(response)

    async def query_payments(
        self, where: str, *, limit: int = 100, offset: int = 0, sort: str = "createdAt asc"
    ) -> list[dict[str, Any]]:
        """One page of payments matching a query predicate."""
        params = {"where": where, "limit": str(limit), "offset": str(offset), "sort": sort, "withTotal": "false"}
        page = await self._call("GET", f"{self._project_url}/payments", params=params, idempotent=True)
        results = page.get("results")
        return [item for item in results if isinstance(item, dict)] if isinstance(results, list) else []

    async def create_type(self, draft: dict[str, Any]) -> None:
        """Create a custom type; one that exists already (another copy made it) is fine."""
        response = await self._send("POST", f"{self._project_url}/types", body=draft, idempotent=False)
        if response.status_code >= 400:
            error = _upstream_error(response)
            if any(e.get("code") == "DuplicateField" for e in error.errors if isinstance(e, dict)):
                return
            raise error

    async def update_payment(self, payment: dict[str, Any], actions: ActionsFor) -> dict[str, Any]:
        async def reread() -> dict[str, Any]:
            return await self.get_payment(str(payment["id"]))

        return await self._update(f"{self._project_url}/payments/{payment['id']}", payment, actions, reread)

    async def _update(
        self,
        url: str,
        resource: dict[str, Any],
        actions: ActionsFor,
        reread: Callable[[], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        """Update with the version from the latest answer; on 409 re-read and retry."""
        derive = actions if callable(actions) else (lambda _: actions)
        current = resource
        for _ in range(_CONFLICT_RETRIES):
            todo = derive(current)
            if not todo:
                return current
            response = await self._send(
                "POST", url, body={"version": current["version"], "actions": todo}, idempotent=False
            )
            if response.status_code == 409:
                current = await reread()
                continue
            if response.status_code >= 400:
                raise _upstream_error(response)
            return _json(response)
        raise UpstreamError(
            409,
            "commercetools kept reporting concurrent modifications",
            [{"code": "ConcurrentModification", "message": "retries exhausted"}],
        )


def _json(response: UpstreamResponse) -> dict[str, Any]:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError as error:
        raise ServiceUnavailable("commercetools answered something that is not JSON", status_code=502) from error
    if not isinstance(data, dict):
        raise ServiceUnavailable("commercetools answered an unexpected body", status_code=502)
    return data


def _upstream_error(response: UpstreamResponse) -> UpstreamError:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    errors = data.get("errors")
    if not isinstance(errors, list):
        errors = [{"code": "General", "message": str(data.get("message", "commercetools error"))}]
    message = str(data.get("message") or "commercetools answered an error")
    status = response.status_code if response.status_code < 500 else 502
    return UpstreamError(status, message, errors)

"""OAuth2 token introspection (POST /operations/payment-intents), called by commercetools Checkout."""

from __future__ import annotations

import aiohttp
import orjson
import structlog

from giftcard_connector.auth.bearer import bearer_token
from giftcard_connector.context import current_correlation_id
from giftcard_connector.errors import AuthError, ServiceUnavailable
from giftcard_connector.observability.upstream import upstream_call

log = structlog.get_logger(__name__)

_ACCEPTED_SCOPES = ("manage_checkout_payment_intents", "manage_project")


class Introspector:
    def __init__(
        self, http: aiohttp.ClientSession, auth_url: str, client_id: str, client_secret: str, project_key: str
    ) -> None:
        self._http = http
        self._url = f"{auth_url}/oauth/introspect"
        self._basic_auth = aiohttp.encode_basic_auth(client_id, client_secret)
        self._wanted = {f"{scope}:{project_key}" for scope in _ACCEPTED_SCOPES}

    async def verify(self, authorization: str | None) -> None:
        token = bearer_token(authorization)
        headers = {"Authorization": self._basic_auth, "X-Correlation-ID": current_correlation_id()}
        try:
            with upstream_call("commercetools_introspection", headers) as call:
                async with self._http.post(self._url, data={"token": token}, headers=headers) as response:
                    status = call.status = response.status
                    content = await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("introspection_unreachable", error=type(error).__name__)
            raise ServiceUnavailable("Token introspection is unavailable") from error
        if status == 401:
            raise AuthError("invalid_token", "The token could not be introspected")
        if status != 200:
            log.warning("introspection_failed", status=status)
            raise ServiceUnavailable("Token introspection is unavailable")
        try:
            answer = orjson.loads(content)
        except orjson.JSONDecodeError:
            raise ServiceUnavailable("Token introspection answered something that is not JSON") from None
        if not isinstance(answer, dict) or answer.get("active") is not True:
            raise AuthError("invalid_token", "The token is not active")
        scopes = set(str(answer.get("scope") or "").split())
        if not scopes & self._wanted:
            raise AuthError("invalid_token", "The token lacks the scope manage_checkout_payment_intents")

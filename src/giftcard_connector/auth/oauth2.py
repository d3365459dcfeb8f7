"""OAuth2 token introspection (POST /operations/payment-intents), called by commercetools Checkout."""

from __future__ import annotations

import httpx
import structlog
from fastapi import Request

from giftcard_connector.auth.bearer import bearer_token
from giftcard_connector.context import current_correlation_id
from giftcard_connector.errors import AuthError, ServiceUnavailable

log = structlog.get_logger(__name__)

_ACCEPTED_SCOPES = ("manage_checkout_payment_intents", "manage_project")


class Introspector:
    def __init__(
        self, http: httpx.AsyncClient, auth_url: str, client_id: str, client_secret: str, project_key: str
    ) -> None:
        self._http = http
        self._url = f"{auth_url}/oauth/introspect"
        self._credentials = (client_id, client_secret)
        self._wanted = {f"{scope}:{project_key}" for scope in _ACCEPTED_SCOPES}

    async def verify(self, authorization: str | None) -> None:
        token = bearer_token(authorization)
        try:
            response = await self._http.post(
                self._url,
                data={"token": token},
                auth=self._credentials,
                headers={"X-Correlation-ID": current_correlation_id()},
            )
        except httpx.HTTPError as error:
            log.warning("introspection_unreachable", error=type(error).__name__)
            raise ServiceUnavailable("Token introspection is unavailable") from error
        if response.status_code == 401:
            raise AuthError("invalid_token", "The token could not be introspected")
        if response.status_code != 200:
            log.warning("introspection_failed", status=response.status_code)
            raise ServiceUnavailable("Token introspection is unavailable")
        try:
            answer = response.json()
        except ValueError:
            raise ServiceUnavailable("Token introspection answered something that is not JSON") from None
        if not isinstance(answer, dict) or answer.get("active") is not True:
            raise AuthError("invalid_token", "The token is not active")
        scopes = set(str(answer.get("scope") or "").split())
        if not scopes & self._wanted:
            raise AuthError("invalid_token", "The token lacks the scope manage_checkout_payment_intents")


async def require_oauth2(request: Request) -> None:
    introspector: Introspector = request.app.state.services.introspector
    await introspector.verify(request.headers.get("authorization"))

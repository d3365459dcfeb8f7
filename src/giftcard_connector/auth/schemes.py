"""The three ways callers authenticate, as OpenAPI security schemes.

Each scheme hands the raw header to the route's dependency (auto_error=False: FastAPI's own 401/403
bodies are not the contract's); session.py, jwt.py and oauth2.py then decide, with the contract's error
codes (missing header, malformed header, invalid token).
"""

from __future__ import annotations

from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import APIKeyHeader, HTTPBearer, OAuth2
from starlette.requests import HTTPConnection

session_header = APIKeyHeader(
    name="X-Session-Id",
    scheme_name="CheckoutSession",
    description="A commercetools Checkout session id (created by the shop's backend); the Enabler sends it.",
    auto_error=False,
)


class _RawBearer(HTTPBearer):
    """Documents `Authorization: Bearer <JWT>`, passes the header on unparsed."""

    async def __call__(self, request: HTTPConnection) -> str | None:  # type: ignore[override]
        return request.headers.get("authorization")


merchant_center_jwt = _RawBearer(
    bearerFormat="JWT",
    scheme_name="MerchantCenterJWT",
    description="A Merchant Center JWT, checked against CTP_JWKS_URL, CTP_JWT_ISSUER and the project key.",
    auto_error=False,
)

checkout_oauth2 = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="https://auth.europe-west1.gcp.commercetools.com/oauth/token",
            scopes={
                "manage_checkout_payment_intents:{projectKey}": "what commercetools Checkout's token carries",
                "manage_project:{projectKey}": "accepted too",
            },
        )
    ),
    scheme_name="CheckoutOAuth2",
    description="A commercetools OAuth2 bearer token (Checkout's), introspected at CTP_AUTH_URL/oauth/introspect; "
    "the token URL is the project's region's CTP_AUTH_URL.",
    auto_error=False,
)

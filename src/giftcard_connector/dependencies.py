"""Typed FastAPI dependencies: what a route needs, named by its type (`giftcards: GiftCards`).

The app builds its collaborators once, in its lifespan (app.Services); these functions hand each route
the one it asks for, so a route's signature says what it uses and a test can override one of them
(`app.dependency_overrides`). They are `async def` on purpose: FastAPI runs a plain `def` dependency
in a worker thread, which costs more than the lookup itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request, Security

from giftcard_connector.auth.jwt import JwtVerifier
from giftcard_connector.auth.oauth2 import Introspector
from giftcard_connector.auth.schemes import checkout_oauth2, merchant_center_jwt, session_header
from giftcard_connector.auth.session import SessionContext, authenticate_session
from giftcard_connector.commercetools.client import CommercetoolsClient
from giftcard_connector.giftcards.service import GiftCardService
from giftcard_connector.operations.payment_intents import PaymentIntentService
from giftcard_connector.operations.status import StatusService
from giftcard_connector.providers.base import GiftCardProvider

if TYPE_CHECKING:
    from giftcard_connector.app import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _giftcards(request: Request) -> GiftCardService:
    return services_of(request).giftcards


async def _payment_intents(request: Request) -> PaymentIntentService:
    return services_of(request).payment_intents


async def _status(request: Request) -> StatusService:
    return services_of(request).status


async def _provider(request: Request) -> GiftCardProvider:
    return services_of(request).provider


async def _commercetools(request: Request) -> CommercetoolsClient:
    return services_of(request).commercetools


async def _jwt_verifier(request: Request) -> JwtVerifier:
    return services_of(request).jwt_verifier


async def _introspector(request: Request) -> Introspector:
    return services_of(request).introspector


GiftCards = Annotated[GiftCardService, Depends(_giftcards)]
PaymentIntents = Annotated[PaymentIntentService, Depends(_payment_intents)]
StatusChecks = Annotated[StatusService, Depends(_status)]
Provider = Annotated[GiftCardProvider, Depends(_provider)]
Commercetools = Annotated[CommercetoolsClient, Depends(_commercetools)]
JwtVerifierDep = Annotated[JwtVerifier, Depends(_jwt_verifier)]
IntrospectorDep = Annotated[Introspector, Depends(_introspector)]


# -- authentication (security schemes in auth/schemes.py; the checks in session.py, jwt.py, oauth2.py) --


async def _session(
    session_id: Annotated[str | None, Security(session_header)], commercetools: Commercetools
) -> SessionContext:
    return await authenticate_session(commercetools, session_id)


async def _merchant_center(
    authorization: Annotated[str | None, Security(merchant_center_jwt)], verifier: JwtVerifierDep
) -> dict[str, Any]:
    return await verifier.verify(authorization)


async def _checkout(
    authorization: Annotated[str | None, Security(checkout_oauth2)], introspector: IntrospectorDep
) -> None:
    await introspector.verify(authorization)


# An active Checkout session (X-Session-Id) and its cart.
Session = Annotated[SessionContext, Depends(_session)]
# The claims of a valid Merchant Center JWT.
MerchantCenterClaims = Annotated[dict[str, Any], Depends(_merchant_center)]
# For `dependencies=[...]`: an introspected commercetools OAuth2 token with the payment-intents scope.
checkout_token = Security(_checkout)

"""HTTP routes for commercetools Checkout and the Merchant Center."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from giftcard_connector import responses
from giftcard_connector.dependencies import MerchantCenterClaims, PaymentIntents, StatusChecks, checkout_token
from giftcard_connector.http import FastJSONResponse
from giftcard_connector.operations.schemas import PaymentIntentRequest

router = APIRouter(prefix="/operations", default_response_class=FastJSONResponse, tags=["Operations"])

PaymentId = Annotated[
    str,
    Path(
        alias="paymentId",
        pattern=r"^[A-Za-z0-9-]{1,256}$",
        description="The commercetools payment id (one of this connector's payments)",
    ),
]


@router.get(
    "/status",
    response_model=responses.StatusResponse,
    response_model_exclude_none=True,
    responses=responses.UNAUTHORIZED,
    summary="Merchant Center health: commercetools permissions and the provider (200 always; the body says)",
)
async def status(_: MerchantCenterClaims, checks: StatusChecks) -> dict[str, Any]:
    return await checks.status()


@router.post(
    "/payment-intents/{paymentId}",
    dependencies=[checkout_token],
    response_model=responses.PaymentIntentResponse,
    responses={
        **responses.INVALID_INPUT,
        **responses.UNAUTHORIZED,
        404: {"model": responses.ErrorBody, "description": "No such payment"},
        409: {"model": responses.ErrorBody, "description": "Another copy is still driving this payment"},
        **responses.UPSTREAM_UNAVAILABLE,
    },
    summary="Checkout's capture, refund, cancel or reverse of a gift card payment",
)
async def payment_intents(payment_id: PaymentId, body: PaymentIntentRequest, intents: PaymentIntents) -> dict[str, str]:
    outcome = await intents.modify(payment_id, body.action)
    return {"outcome": outcome.value}

"""HTTP routes for commercetools Checkout and the Merchant Center."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from giftcard_connector.auth.jwt import require_jwt
from giftcard_connector.auth.oauth2 import require_oauth2
from giftcard_connector.errors import InvalidField
from giftcard_connector.http import FastJSONResponse, read_json_object
from giftcard_connector.operations.schemas import parse_action

router = APIRouter(prefix="/operations", default_response_class=FastJSONResponse)


@router.get("/status")
async def status(request: Request, _: Annotated[dict[str, Any], Depends(require_jwt)]) -> dict[str, Any]:
    result: dict[str, Any] = await request.app.state.services.status.status()
    return result


@router.post("/payment-intents/{payment_id}", dependencies=[Depends(require_oauth2)])
async def payment_intents(request: Request, payment_id: str) -> dict[str, Any]:
    if not payment_id or len(payment_id) > 256 or not payment_id.replace("-", "").isalnum():
        raise InvalidField("paymentId", "The payment id in the path is not valid")
    data = await read_json_object(request)
    action = parse_action(data)
    outcome = await request.app.state.services.payment_intents.modify(payment_id, action)
    return {"outcome": outcome.value}

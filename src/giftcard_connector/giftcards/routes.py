"""HTTP routes for the Enabler: /balance, /redeem and the Enabler's config."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from giftcard_connector.auth.session import SessionContext, require_session
from giftcard_connector.giftcards.schemas import BalanceRequest, RedeemRequest
from giftcard_connector.http import FastJSONResponse, parse_body
from giftcard_connector.ratelimit.dependency import rate_limited

router = APIRouter(default_response_class=FastJSONResponse)
Session = Annotated[SessionContext, Depends(require_session)]


# Route-level dependencies run before the parameters' ones: the rate limits come before session auth.
@router.post("/balance", dependencies=[rate_limited("balance")])
async def balance(request: Request, session: Session) -> dict[str, Any]:
    body = await parse_body(request, BalanceRequest)
    service = request.app.state.services.giftcards
    result: dict[str, Any] = await service.balance(session, body.clean_code, body.clean_pin)
    return result


@router.post("/redeem", dependencies=[rate_limited("redeem")])
async def redeem(request: Request, session: Session) -> dict[str, Any]:
    body = await parse_body(request, RedeemRequest)
    service = request.app.state.services.giftcards
    redemption = await service.redeem(session, body.clean_code, body.clean_pin, body.redeemAmount.to_money())
    result: dict[str, Any] = redemption.body()
    return result


@router.get("/enabler/config")
async def enabler_config(request: Request) -> dict[str, Any]:
    """What the Enabler needs to render its fields (no secrets; no session needed)."""
    provider = request.app.state.services.provider
    return {
        "pinRequired": bool(provider.requires_pin),
        "pinSupported": bool(provider.requires_pin or provider.supports_pin),
        "provider": provider.name,
    }

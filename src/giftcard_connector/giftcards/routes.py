"""HTTP routes for the Enabler: /balance, /redeem and the Enabler's config."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from giftcard_connector.auth.session import SessionContext, require_session
from giftcard_connector.errors import GiftCardError
from giftcard_connector.giftcards.idempotency import check_header
from giftcard_connector.giftcards.schemas import UNKNOWN_CARD_MESSAGE, BalanceRequest, RedeemRequest
from giftcard_connector.http import FastJSONResponse, parse_body
from giftcard_connector.providers.base import BalanceState
from giftcard_connector.ratelimit.dependency import rate_limited

router = APIRouter(default_response_class=FastJSONResponse)
Session = Annotated[SessionContext, Depends(require_session)]


# Route-level dependencies run before the parameters' ones: the rate limits come before session auth.
@router.post("/balance", dependencies=[rate_limited("balance")])
async def balance(request: Request, session: Session) -> dict[str, Any]:
    body = await parse_body(request, BalanceRequest)
    require_possible_code(body)
    service = request.app.state.services.giftcards
    result: dict[str, Any] = await service.balance(session, body.clean_code, body.clean_pin)
    return result


@router.post("/redeem", dependencies=[rate_limited("redeem")])
async def redeem(request: Request, session: Session) -> dict[str, Any]:
    body = await parse_body(request, RedeemRequest)
    require_possible_code(body)
    service = request.app.state.services.giftcards
    # The Enabler's Idempotency-Key names this redemption (contract section 9); optional.
    header_key = check_header(request.headers.get("idempotency-key"))
    redemption = await service.redeem(
        session, body.clean_code, body.clean_pin, body.redeemAmount.to_money(), header_key
    )
    result: dict[str, Any] = redemption.body()
    return result


def require_possible_code(body: BalanceRequest) -> None:
    """A code no card can have answers like an unknown card (contract section 4), without a call."""
    if not body.code_can_exist:
        raise GiftCardError(BalanceState.NOT_FOUND, UNKNOWN_CARD_MESSAGE)


@router.get("/enabler/config")
async def enabler_config(request: Request, _: Session) -> dict[str, Any]:
    """What the Enabler needs to render its fields. Needs a valid session, so a wrong session id or
    processorUrl makes createGiftCardBuilder() reject; names no provider (nothing for a prober)."""
    provider = request.app.state.services.provider
    return {
        "pinRequired": bool(provider.requires_pin),
        "pinSupported": bool(provider.requires_pin or provider.supports_pin),
    }

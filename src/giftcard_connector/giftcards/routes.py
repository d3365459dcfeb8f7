"""HTTP routes for the Enabler: /balance, /redeem and the Enabler's config."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header

from giftcard_connector import responses
from giftcard_connector.dependencies import GiftCards, Provider, Session
from giftcard_connector.errors import GiftCardError
from giftcard_connector.giftcards.idempotency import check_header
from giftcard_connector.giftcards.schemas import UNKNOWN_CARD_MESSAGE, BalanceRequest, RedeemRequest
from giftcard_connector.http import FastJSONResponse
from giftcard_connector.providers.base import BalanceState
from giftcard_connector.ratelimit.dependency import rate_limited

router = APIRouter(default_response_class=FastJSONResponse, tags=["Enabler"])

GIFT_CARD_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": responses.ErrorBody | responses.GiftCardErrorBody,
        "description": "An invalid body (general error body), or a card the provider refuses (Expired, "
        "CurrencyNotMatch, ZeroBalance, GenericError, or an amount above what the cart owes)",
    },
    **responses.UNAUTHORIZED,
    404: {"model": responses.GiftCardErrorBody, "description": "No such card (also a code no card can have)"},
    **responses.RATE_LIMITED,
    **responses.UPSTREAM_UNAVAILABLE,
}


# Route-level dependencies run before the parameters' ones: the rate limits come before session auth.
@router.post(
    "/balance",
    dependencies=[rate_limited("balance")],
    response_model=responses.BalanceResponse,
    response_model_exclude_none=True,
    responses=GIFT_CARD_ANSWERS,
    summary="The card's balance, in the cart's currency",
)
async def balance(body: BalanceRequest, session: Session, giftcards: GiftCards) -> dict[str, Any]:
    require_possible_code(body)
    return await giftcards.balance(session, body.clean_code, body.clean_pin)


@router.post(
    "/redeem",
    dependencies=[rate_limited("redeem")],
    response_model=responses.RedeemResponse,
    responses=GIFT_CARD_ANSWERS,
    summary="Pay part or all of the cart with the card",
)
async def redeem(
    body: RedeemRequest,
    session: Session,
    giftcards: GiftCards,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Names this redemption: a repeated submit with the same key never charges twice",
        ),
    ] = None,
) -> dict[str, Any]:
    require_possible_code(body)
    redemption = await giftcards.redeem(
        session, body.clean_code, body.clean_pin, body.redeemAmount.to_money(), check_header(idempotency_key)
    )
    return redemption.body()


def require_possible_code(body: BalanceRequest) -> None:
    """A code no card can have answers like an unknown card (contract section 4), without a call."""
    if not body.code_can_exist:
        raise GiftCardError(BalanceState.NOT_FOUND, UNKNOWN_CARD_MESSAGE)


@router.get(
    "/enabler/config",
    response_model=responses.EnablerConfigResponse,
    responses=responses.UNAUTHORIZED,
    summary="What the Enabler needs to render its fields",
)
async def enabler_config(_: Session, provider: Provider) -> dict[str, Any]:
    """Needs a valid session, so a wrong session id or processorUrl makes createGiftCardBuilder()
    reject; names no provider (nothing for a prober)."""
    return {
        "pinRequired": bool(provider.requires_pin),
        "pinSupported": bool(provider.requires_pin or provider.supports_pin),
    }

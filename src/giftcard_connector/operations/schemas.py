"""Request body of POST /operations/payment-intents/{paymentId}: exactly one action."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from giftcard_connector.giftcards.schemas import MoneyIn
from giftcard_connector.http import validate

MerchantReference = Annotated[StrictStr, Field(max_length=256)]


class CapturePayment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: Literal["capturePayment"]
    amount: MoneyIn
    merchantReference: MerchantReference | None = None


class RefundPayment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: Literal["refundPayment"]
    amount: MoneyIn
    transactionId: StrictStr | None = None
    merchantReference: MerchantReference | None = None


class CancelPayment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: Literal["cancelPayment"]
    merchantReference: MerchantReference | None = None


class ReversePayment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: Literal["reversePayment"]
    merchantReference: MerchantReference | None = None


PaymentAction = CapturePayment | RefundPayment | CancelPayment | ReversePayment
# The tag values; pydantic puts them into the location of a member's errors (validation.contract_error
# takes them out again, so a missing amount is `actions.0.amount`).
ACTION_NAMES = frozenset({"capturePayment", "refundPayment", "cancelPayment", "reversePayment"})


class PaymentIntentRequest(BaseModel):
    """What commercetools Checkout sends: exactly one action, chosen by its `action` field."""

    model_config = ConfigDict(extra="ignore")

    actions: Annotated[
        list[Annotated[PaymentAction, Field(discriminator="action")]],
        Field(min_length=1, max_length=1, description="Exactly one action"),
    ]

    @property
    def action(self) -> PaymentAction:
        return self.actions[0]


def parse_action(body: dict[str, Any]) -> PaymentAction:
    """The one action of a request body, with the contract's 400 errors (for callers outside a route)."""
    return validate(PaymentIntentRequest, body, ACTION_NAMES).action
